"""Victim identification as team work, through `VictimWork` on each engine: one identification
per victim however many forces race to record it, and names and notes sealed, opened only for
readers who see the acting force's records in full."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from federation.victim_work import AlreadyRecorded, Member, VictimWork
from graph import GraphStore
from graph.keyring_store import MemoryKeyStore
from policies.audit import AuditLog, MemoryAuditStore
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from policies.scopes import CASES_READ, VICTIM_ID_WRITE
from policies.sharing import PolicyHolder

GROUP = "vg-test"
VICTIM = "AS:AS-T-0001:V1"
MEMBERS = [Member("AS", "AS-T-0001"), Member("GL", "GL-T-0002"), Member("WI", "WI-T-0003")]

# GL sees AS's cases in full; WI may know only that AS holds one.
SHARING = """version: 1
agreements:
  cases:read:
    own:
      fields:
        case: {"*": clear}
    other:
      fields:
        case: {"*": clear}
    pairs:
      - {viewer: WI, owner: AS, fields: {case: {force: clear, caseRef: existence}}}
"""


def analyst(force: str, subject: str | None = None, name: str | None = None) -> Principal:
    scopes = frozenset({CASES_READ, VICTIM_ID_WRITE})
    return Principal(f"analyst-{force}", scopes, force=force, subject=subject, name=name)


@pytest.fixture
async def work(graph_store: GraphStore, tmp_path: Path) -> VictimWork:
    (tmp_path / "sharing.yaml").write_text(SHARING)
    sharing = PolicyHolder(tmp_path / "sharing.yaml", AuditLog(MemoryAuditStore()))
    cipher = FieldCipher(KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path)))
    await graph_store.write("CREATE (:VictimGroup {id: $id, unidentified: 3})", {"id": GROUP})
    return VictimWork(graph_store, cipher, sharing)


async def test_forces_racing_to_identify_one_victim_record_it_once(
    work: VictimWork, graph_store: GraphStore
) -> None:
    racers = [analyst(force) for force in ("AS", "GL", "WI", "DC")]
    results = await asyncio.gather(
        *(
            work.identify(p, GROUP, MEMBERS[0], VICTIM, 1_000, MEMBERS, already_in_record=False)
            for p in racers
        ),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, AlreadyRecorded)]
    assert len(refused) == 3 and results.count(None) == 1
    winner = racers[results.index(None)].force
    assert all(str(winner) in str(r) for r in refused)
    steps = (await work.steps(analyst("AS"), [GROUP]))[GROUP]
    assert [(s.kind, s.force) for s in steps] == [("IDENTIFIED", winner)]
    (row,) = await graph_store.read(
        "MATCH (g:VictimGroup {id: $id}) RETURN g.unidentified AS n", {"id": GROUP}
    )
    assert row["n"] == 2


async def test_names_and_notes_open_only_for_readers_who_see_the_force_in_full(
    work: VictimWork,
) -> None:
    sam = analyst("AS", "pc-1234", "Sam Patel")
    await work.claim(sam, GROUP, 1_000)
    await work.hand_over(sam, GROUP, 2_000, MEMBERS, to_force="GL", note="call first")
    for reader, shown in ((analyst("AS"), True), (analyst("GL"), True), (analyst("WI"), False)):
        steps = (await work.steps(reader, [GROUP]))[GROUP]
        assert [s.kind for s in steps] == ["CLAIMED", "HANDED_OVER"]
        assert all(s.officer == "pc-1234" for s in steps)
        names = {s.officer_name for s in steps}
        assert names == ({"Sam Patel"} if shown else {None}), reader.force
        assert steps[1].note == ("call first" if shown else None)
    claim = (await work.claims(analyst("GL"), [GROUP]))[GROUP]
    assert (claim.force, claim.officer) == ("GL", None)
