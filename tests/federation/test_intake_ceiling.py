"""Each force's daily intake is counted in the graph, on both engines, against a ceiling
relative to its usual volume; above it, its link events are held until released."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from federation.after_sync import after_sync_step
from federation.body import Item
from federation.changes import holds, release
from federation.ingest import Ingest
from federation.intake import IntakeWatch
from graph import GraphStore
from graph.cases import case_key
from graph.keyring_store import MemoryKeyStore
from policies.audit import AuditLog, MemoryAuditStore
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules, parse_case_rules
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from tests.federation.test_linking_oracle import one_phone_case

AS = Principal(client_id="force-AS", scopes=frozenset({"sync:write"}), force="AS")
GL = Principal(client_id="force-GL", scopes=frozenset({"sync:write"}), force="GL")
# Cases only: the identifier ceiling is out of reach here.
RULES = """
version: 1
intake:
  daily_new_cases: {multiple_of_usual: 2, floor: 2}
  daily_new_identifiers: {multiple_of_usual: 2, floor: 1000}
  usual_over_days: 2
"""


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def hub_ingest(store: GraphStore, tmp_path: Path, clock: Clock, audit: AuditLog) -> Ingest:
    keyring = KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path))
    watch = IntakeWatch(store, parse_case_rules(RULES), audit, clock=clock)
    cipher = FieldCipher(keyring)
    return Ingest(
        store,
        blind=BlindIndex(os.urandom(32)),
        cipher=cipher,
        audit=audit,
        rules=watch.rules,
        intake=watch,
    )


async def stream(records: list[dict[str, Any]]) -> AsyncIterator[Item]:
    for index, record in enumerate(records):
        yield index, record


def cases(force: str, first: int, count: int) -> list[dict[str, Any]]:
    return [
        one_phone_case(force, f"{force}-{n}", f"07700 900{n:03d}", "DC One")
        for n in range(first, first + count)
    ]


async def test_the_ceiling_follows_the_forces_usual_volume(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    clock, audit_store = Clock(), MemoryAuditStore()
    ingest = hub_ingest(graph_store, tmp_path, clock, AuditLog(audit_store))
    await ingest.apply(AS, stream(cases("AS", 0, 2)))  # day 1: the floor, 2
    clock.now += timedelta(days=1)
    await ingest.apply(AS, stream(cases("AS", 2, 2)))  # day 2: usual 1 a day, ceiling 2
    clock.now += timedelta(days=1)
    await ingest.apply(AS, stream(cases("AS", 4, 4)))  # day 3: usual 2 a day, ceiling 4
    await ingest.apply(AS, stream(cases("AS", 4, 4)))  # the same again: no new case
    assert await holds(graph_store) == []

    await ingest.apply(AS, stream(cases("AS", 8, 1)))  # the fifth new case of day 3

    assert [h.force for h in await holds(graph_store)] == ["AS"]
    alerts = [r for r in audit_store.rows if r["action"] == "sync.ceiling_exceeded"]
    assert [(a["actor"], a["target"], a["detail"]) for a in alerts] == [
        ("force-AS", "force:AS", "new_cases=5/4 new_identifiers=5/1000")
    ]
    syncs = [(r["target"], r["detail"]) for r in audit_store.rows if r["action"] == "sync"]
    assert syncs[-2:] == [
        (
            "force:AS",
            "received=4 applied=0 stale=4 rejected=0 other_force=0 new_cases=0 "
            "new_identifiers=0 linking_identifiers=0",
        ),
        (
            "force:AS",
            "received=1 applied=1 stale=0 rejected=0 other_force=0 new_cases=1 "
            "new_identifiers=1 linking_identifiers=0",
        ),
    ]


async def test_held_events_reach_the_feed_once_when_released(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    clock, audit = Clock(), AuditLog(MemoryAuditStore())
    ingest = hub_ingest(graph_store, tmp_path, clock, audit)
    await ingest.apply(GL, stream(cases("GL", 0, 1)))
    await ingest.apply(AS, stream(cases("AS", 0, 3)))  # over the floor of 2: held
    keys = [case_key("AS", f"AS-{n}") for n in range(3)]
    now_ms = int(clock.now.timestamp() * 1000)
    assert (
        await after_sync_step(graph_store, keys, now_ms, rules=default_case_rules()) == 2
    )  # AS hears of GL, GL of AS
    assert (
        await after_sync_step(graph_store, keys, now_ms, rules=default_case_rules()) == 0
    )  # held once
    assert [(h.force, h.events) for h in await holds(graph_store)] == [("AS", 2)]
    feed = "MATCH (c:Change) RETURN c.force AS force, c.otherCaseRef AS other ORDER BY force"
    assert await graph_store.read(feed) == []

    assert await release(graph_store, "AS", now_ms, rules=default_case_rules()) == 2

    assert await graph_store.read(feed) == [
        {"force": "AS", "other": "GL-0"},
        {"force": "GL", "other": "AS-0"},
    ]
    assert await holds(graph_store) == []
    assert (
        await after_sync_step(graph_store, keys, now_ms, rules=default_case_rules()) == 0
    )  # on the feed once


class AuditDown(MemoryAuditStore):
    """An audit store whose graph has gone away."""

    async def append(self, entry: Mapping[str, Any]) -> bool:
        raise ConnectionError("audit store unreachable")


async def test_a_sync_committed_stays_applied_and_held_when_its_audit_entry_fails(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    ingest = hub_ingest(graph_store, tmp_path, Clock(), AuditLog(AuditDown()))
    results = await ingest.apply(AS, stream(cases("AS", 0, 3)))
    assert [r.status for r in results] == ["applied"] * 3
    assert [h.force for h in await holds(graph_store)] == ["AS"]
