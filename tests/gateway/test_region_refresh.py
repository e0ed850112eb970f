"""Region facts follow the graph: writes and removals by their sequence numbers, the full
reload beside, the whole run by the app's lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway import region as region_module
from gateway.region import RegionFacts
from gateway.region_index import RegionIndex
from graph import GraphStore
from graph.cases import CaseRow, tombstone_cases, upsert_cases
from policies.case_facts import CaseFacts
from policies.case_rules import default_case_rules
from tests.graph.builders import case_row

RECEIVED = 1700000000000
RULES = default_case_rules()
# Changed behind the write path's back: no sequence number, so only a full reload sees it.
REGRADE_UNSTAMPED = "MATCH (c:Case {key: $key}) SET c.riskLevel = 'HIGH'"


def case(key: str, version: int = 1, risk: str = "LOW") -> CaseRow:
    force, ref = key.split(":")
    row = case_row(force, ref, version, risk=risk)
    row["props"].update(status="NEW", referralSource="NCA", receivedAt=RECEIVED)
    return row


async def write(store: GraphStore, *keys: str, version: int = 1, risk: str = "LOW") -> None:
    """Cases written as a sync writes them."""
    await upsert_cases(store, [case(key, version, risk) for key in keys])


async def remove(store: GraphStore, key: str, version: int = 9) -> None:
    await tombstone_cases(store, [{"key": key, "force": key.split(":")[0], "version": version}])


async def region_of(graph_store: GraphStore, cases: int) -> RegionFacts:
    """Facts loaded from a graph of `cases` new cases, AS:0 onwards."""
    await write(graph_store, *(f"AS:{n}" for n in range(cases)))
    region = RegionFacts(RULES)
    await region.refresh(graph_store)
    return region


def on_each_page(monkeypatch: pytest.MonkeyPatch, call: Callable[[list[CaseFacts]], Any]) -> None:
    """`call` sees each page of facts a reload beside the requests merges, before it does."""
    merge = RegionIndex.merge

    def spy(index: RegionIndex, facts: Iterable[CaseFacts]) -> None:
        facts = list(facts)
        call(facts)
        merge(index, facts)

    monkeypatch.setattr(RegionIndex, "merge", spy)


async def test_writes_and_tombstones_are_caught_up_by_their_numbers(
    graph_store: GraphStore,
) -> None:
    region = RegionFacts(RULES)
    await region.refresh(graph_store)
    await write(graph_store, "AS:1", "AS:2")
    await region.refresh(graph_store)
    assert sorted(region.facts) == ["AS:1", "AS:2"]
    await remove(graph_store, "AS:1")
    await write(graph_store, "AS:2", version=2, risk="HIGH")
    await region.refresh(graph_store)
    assert sorted(region.facts) == ["AS:2"]
    assert region.facts["AS:2"].risk_level == "HIGH"


async def test_a_write_is_caught_up_however_late_it_committed_after_reading_the_clock(
    graph_store: GraphStore,
) -> None:
    """A write's `syncedAt` is the graph's clock when its statement read it; a transaction that
    commits long after (a slow disk, a lock wait) carries an old stamp. Replicas that followed
    the clock less a margin never saw such an update until the next full reload."""
    region = await region_of(graph_store, cases=2)
    await write(graph_store, "AS:0", version=2, risk="HIGH")
    await graph_store.write("MATCH (c:Case {key: 'AS:0'}) SET c.syncedAt = c.syncedAt - 3600000")
    await region.refresh(graph_store)
    assert region.facts["AS:0"].risk_level == "HIGH"


async def test_replicas_converge_on_the_graph_under_concurrent_writes(
    graph_store: GraphStore,
) -> None:
    """Writers and catch-ups interleaved: afterwards each replica holds what the graph holds."""
    await write(graph_store, "AS:first")  # each statement planned once before the race
    await remove(graph_store, "AS:first")
    replicas = [RegionFacts(RULES), RegionFacts(RULES)]
    for replica in replicas:
        await replica.refresh(graph_store)

    async def writer(w: int) -> None:
        for version in (1, 2, 3):
            await write(graph_store, *(f"AS:{w}-{n}" for n in range(4)), version=version)
        await remove(graph_store, f"AS:{w}-0")

    async def reader(replica: RegionFacts) -> None:
        for _ in range(15):
            await replica.refresh(graph_store)
            await asyncio.sleep(0.01)

    await asyncio.gather(*(writer(w) for w in range(6)), *(reader(r) for r in replicas))
    rows = await graph_store.read("MATCH (c:Case) RETURN c.key AS key, c.seq AS seq")
    held = {row["key"]: row["seq"] for row in rows}
    assert len(held) == 18
    for replica in replicas:
        await replica.refresh(graph_store)  # one more look: what the last writes numbered
        assert {key: fact.seq for key, fact in replica.facts.items()} == held


async def test_the_periodic_reload_sees_what_a_catch_up_cannot(graph_store: GraphStore) -> None:
    region = RegionFacts(RULES)
    await write(graph_store, "AS:1")
    await region.refresh(graph_store)
    await graph_store.write(REGRADE_UNSTAMPED, {"key": "AS:1"})
    await region.refresh(graph_store)
    assert region.facts["AS:1"].risk_level == "LOW"  # the catch-up cannot see it

    await region.reload(graph_store)
    assert region.facts["AS:1"].risk_level == "HIGH"
    assert region.risk_figures(None, 1700000000000)[0].risk_level == "HIGH"


def reloads(kind: str) -> float:
    return (
        REGISTRY.get_sample_value("crossforce_region_reload_duration_seconds_count", {"kind": kind})
        or 0.0
    )


def reloads_started() -> float:
    return REGISTRY.get_sample_value("crossforce_region_reloads_started_total") or 0.0


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise TimeoutError


async def test_running_loads_once_migrated_then_reloads_every_interval_until_cancelled(
    graph_store: GraphStore,
) -> None:
    region = RegionFacts(RULES, reload_every=0.05)
    await write(graph_store, "AS:1")
    first, periodic, started = reloads("first"), reloads("periodic"), reloads_started()
    migrated = asyncio.Event()
    running = asyncio.create_task(region.run(graph_store, migrated))
    await asyncio.sleep(0.1)
    assert not region.loaded  # nothing is read before the graph is migrated
    migrated.set()
    await until(lambda: region.loaded)
    assert reloads("first") == first + 1 and sorted(region.facts) == ["AS:1"]
    await until(lambda: reloads("periodic") >= periodic + 2)
    assert reloads_started() >= started + 2
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    counted = reloads_started()
    await asyncio.sleep(0.2)
    assert reloads_started() == counted  # cancelled: no reload starts any more


async def test_the_first_load_is_tried_again_until_the_facts_can_be_read(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_module, "LOAD_RETRY_SECONDS", (0.05, 0.05))
    await graph_store.write("CREATE (:Case {key: 'AS:bad'})")  # no force, level or dates
    migrated = asyncio.Event()
    migrated.set()
    region = RegionFacts(RULES)
    running = asyncio.create_task(region.run(graph_store, migrated))
    try:
        await asyncio.sleep(0.3)
        assert not region.loaded
        await write(graph_store, "AS:1")
        await graph_store.write("MATCH (c:Case {key: 'AS:bad'}) DETACH DELETE c")
        await until(lambda: region.loaded)
        assert sorted(region.facts) == ["AS:1"]
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def test_a_full_load_reads_every_case_page_by_page(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_module, "ID_PAGE", 3)  # a few node ids a page: many pages
    keys = [f"AS:{n}" for n in range(10)]
    for key in keys:
        await write(graph_store, key)
        await graph_store.write("CREATE (:Device {key: $key})", {"key": key})  # ids between
    region = RegionFacts(RULES)
    await region.refresh(graph_store)
    assert sorted(region.facts) == sorted(keys)
    await region.reload(graph_store)  # the same, beside the requests
    assert sorted(region.facts) == sorted(keys)


async def test_a_reload_indexes_the_cases_a_page_at_a_time(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests get their turn between pages; one page's work is all they wait for."""
    monkeypatch.setattr(region_module, "ID_PAGE", 2)
    region = await region_of(graph_store, cases=8)
    indexed: list[int] = []
    on_each_page(monkeypatch, lambda facts: indexed.append(len(facts)))
    await region.reload(graph_store)
    assert sum(indexed) == 8 and max(indexed) <= 2
    assert sorted(region.facts) == [f"AS:{n}" for n in range(8)]


async def test_a_reload_keeps_the_objects_of_unchanged_cases(graph_store: GraphStore) -> None:
    """So that a reload adds few objects for the garbage collector to walk."""
    region = await region_of(graph_store, cases=3)
    before = dict(region.facts)
    await graph_store.write(REGRADE_UNSTAMPED, {"key": "AS:0"})
    await region.reload(graph_store)
    assert region.facts["AS:0"] is not before["AS:0"]
    assert region.facts["AS:0"].risk_level == "HIGH"
    assert all(region.facts[key] is before[key] for key in ("AS:1", "AS:2"))


async def test_the_periodic_reload_forgets_cases_gone_without_a_tombstone(
    graph_store: GraphStore,
) -> None:
    region = await region_of(graph_store, cases=3)
    await graph_store.write("MATCH (c:Case {key: 'AS:1'}) DETACH DELETE c")  # no tombstone
    await region.reload(graph_store)
    assert sorted(region.facts) == ["AS:0", "AS:2"]
    assert [row.cases for row in region.risk_figures(None, 1700000000000)] == [2]


async def test_a_reload_page_read_before_a_catch_up_does_not_undo_it(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page read, then a newer write caught up before the page is merged: the newer stays."""
    region = await region_of(graph_store, cases=1)
    regraded = dataclasses.replace(
        region.facts["AS:0"], risk_level="HIGH", seq=region.facts["AS:0"].seq + 1
    )

    def caught_up_meanwhile(facts: list[CaseFacts]) -> None:
        region.put(regraded)

    on_each_page(monkeypatch, caught_up_meanwhile)
    await region.reload(graph_store)
    assert region.facts["AS:0"] is regraded


async def test_a_request_waiting_during_a_reload_goes_before_the_next_page(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh takes round trips; were the reload to go on reading pages meanwhile, each trip
    would wait behind a page's work."""
    monkeypatch.setattr(region_module, "ID_PAGE", 2)
    region = await region_of(graph_store, cases=16)
    events: list[str] = []
    requests: list[asyncio.Task[None]] = []

    async def request() -> None:
        await region.refresh(graph_store)
        events.append("request answered")

    def page(facts: list[CaseFacts]) -> None:
        events.append("page")
        if not requests:  # a request arrives while the first page is indexed
            requests.append(asyncio.create_task(request()))

    on_each_page(monkeypatch, page)
    await region.reload(graph_store)
    await requests[0]
    assert events.index("request answered") <= 2, events  # after one more page at most


async def test_a_graph_cleared_or_restored_is_loaded_afresh(graph_store: GraphStore) -> None:
    """Its numbering begins again: numbers the replica saw before name other writes now."""
    region = await region_of(graph_store, cases=3)
    await graph_store.write("MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n")
    for n in range(3):  # numbered past what the replica saw
        await write(graph_store, f"GL:{n}")
    await region.refresh(graph_store)
    assert sorted(region.facts) == ["GL:0", "GL:1", "GL:2"]


async def test_a_failed_reload_does_not_end_the_periodic_reloads(graph_store: GraphStore) -> None:
    region = RegionFacts(RULES, reload_every=0.05)
    migrated = asyncio.Event()
    migrated.set()
    running = asyncio.create_task(region.run(graph_store, migrated))
    try:
        await until(lambda: region.loaded)
        await graph_store.write("CREATE (:Case {key: 'AS:bad'})")  # every reload fails on it
        started = reloads_started()
        await until(lambda: reloads_started() >= started + 2)
        assert not running.done()
        await write(graph_store, "AS:1")
        await graph_store.write("MATCH (c:Case {key: 'AS:bad'}) DETACH DELETE c")
        periodic = reloads("periodic")
        await until(lambda: reloads("periodic") > periodic)
        assert "AS:1" in region.facts
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
