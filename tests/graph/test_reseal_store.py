"""The re-encryption store and the case seals on both engines: stale cases paged in key order
by force and key version, a resealed map written only where the case is still as read, and
seals read back by key."""

from __future__ import annotations

import json

from graph import GraphStore
from graph.case_seals import CaseSeal, CaseSeals
from graph.cases import CaseRow, insert_cases, upsert_cases
from graph.reseal_store import Resealed, ResealStore, StaleCase
from tests.graph.builders import case_row


def sealed_case(
    force: str, ref: str, sealed_with: int | None, version: int = 1, sealed: str | None = None
) -> CaseRow:
    row = case_row(force, ref, version)
    if sealed is None:
        sealed = json.dumps({"/summary": f"v{sealed_with}:{ref}:é"})
    row["props"]["sealed"] = sealed
    if sealed_with is not None:  # cases stored before key versions were kept have none
        row["props"]["sealedWith"] = sealed_with
    return row


async def test_stale_cases_are_paged_by_key_below_the_current_version(
    graph_store: GraphStore,
) -> None:
    versions = {"AS-3": 1, "AS-1": None, "AS-4": 2, "AS-2": 1, "AS-5": 1}
    await insert_cases(
        graph_store,
        [sealed_case("AS", ref, v) for ref, v in versions.items()] + [sealed_case("GL", "GL-1", 1)],
    )
    store = ResealStore(graph_store)
    stale_refs = sorted(ref for ref, v in versions.items() if (v or 0) < 2)

    assert await store.remaining("AS", 2) == len(stale_refs)
    assert await store.remaining("AS", 1) == 1  # only the case with no version kept
    assert await store.remaining("GL", 2) == 1

    first = await store.stale("AS", 2, "", 3)
    rest = await store.stale("AS", 2, first[-1].seal.key, 3)
    assert [c.seal.case_ref for c in first + rest] == stale_refs
    assert await store.stale("AS", 2, rest[-1].seal.key, 3) == []
    assert first[0] == StaleCase(
        CaseSeal("AS:AS-1", "AS", "AS-1", json.dumps({"/summary": "vNone:AS-1:é"})), 1
    )


async def test_a_resealed_map_is_written_only_where_the_case_is_as_read(
    graph_store: GraphStore,
) -> None:
    await insert_cases(graph_store, [sealed_case("AS", f"AS-{i}", 1) for i in range(3)])
    store = ResealStore(graph_store)
    stale = await store.stale("AS", 2, "", 10)
    # A sync lands on AS-1 meanwhile, sealing it afresh under the current version.
    await upsert_cases(graph_store, [sealed_case("AS", "AS-1", 2, version=2)])

    written = await store.write([Resealed(c, f'{{"/summary":"{c.seal.key}"}}', 2) for c in stale])

    assert written == 2
    assert await store.remaining("AS", 2) == 0
    seals = await CaseSeals(graph_store).of(["AS:AS-0", "AS:AS-1", "AS:AS-2"])
    assert seals["AS:AS-0"].sealed == '{"/summary":"AS:AS-0"}'
    assert seals["AS:AS-1"].sealed == json.dumps({"/summary": "v2:AS-1:é"})  # the sync's
    assert await store.write([]) == 0


async def test_seals_are_read_by_key_for_the_cases_held(graph_store: GraphStore) -> None:
    await insert_cases(
        graph_store,
        [sealed_case("AS", "AS-1", 1), sealed_case("GL", "GL-Ω", 1, sealed="")],
    )
    seals = await CaseSeals(graph_store).of(["GL:GL-Ω", "AS:AS-1", "AS:AS-1", "WI:WI-0"])
    assert seals == {
        "AS:AS-1": CaseSeal("AS:AS-1", "AS", "AS-1", json.dumps({"/summary": "v1:AS-1:é"})),
        "GL:GL-Ω": CaseSeal("GL:GL-Ω", "GL", "GL-Ω", None),  # seals nothing
    }
    assert await CaseSeals(graph_store).of([]) == {}
