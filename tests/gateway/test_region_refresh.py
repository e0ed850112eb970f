"""Region facts follow the graph: writes and removals by their stamps, the full reload beside."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from prometheus_client import REGISTRY

from gateway import region as region_module
from gateway.region import RegionFacts, RegionIndex
from graph import GraphStore
from policies.case_facts import CaseFacts
from policies.case_rules import default_case_rules

CASE = """
CREATE (:Case {key: $key, force: 'AS', caseRef: $key, riskLevel: 'LOW', status: 'OPEN',
               open: true, referralSource: 'NCA', receivedAt: 1700000000000,
               syncedAt: timestamp() - $age})
"""
# Changed behind the catch-up's back: no new `syncedAt`, so only a full reload sees it.
REGRADE_UNSTAMPED = "MATCH (c:Case {key: $key}) SET c.riskLevel = 'HIGH'"
TOMBSTONE = """
MATCH (c:Case {key: $key}) DETACH DELETE c CREATE (:Tombstone {key: $key, syncedAt: timestamp()})
"""


async def region_of(graph_store: GraphStore, cases: int) -> RegionFacts:
    """Facts loaded from a graph of `cases` new cases, AS:0 onwards."""
    for n in range(cases):
        await graph_store.write(CASE, {"key": f"AS:{n}", "age": 0})
    region = RegionFacts(default_case_rules())
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


async def test_writes_and_tombstones_are_caught_up_by_their_stamps(graph_store: GraphStore) -> None:
    region = RegionFacts(default_case_rules())
    await region.refresh(graph_store)
    for key in ("AS:1", "AS:2"):
        await graph_store.write(CASE, {"key": key, "age": 0})
    await region.refresh(graph_store)
    assert sorted(region.facts) == ["AS:1", "AS:2"]
    await graph_store.write(TOMBSTONE, {"key": "AS:1"})
    await region.refresh(graph_store)
    assert sorted(region.facts) == ["AS:2"]


async def test_the_periodic_reload_runs_beside_the_requests(graph_store: GraphStore) -> None:
    region = RegionFacts(default_case_rules())
    await graph_store.write(CASE, {"key": "AS:1", "age": 60_000})  # older than any look-back
    await region.refresh(graph_store)
    await graph_store.write(REGRADE_UNSTAMPED, {"key": "AS:1"})
    await region.refresh(graph_store)
    assert region.facts["AS:1"].risk_level == "LOW"  # the catch-up cannot see it

    region._reloaded_at = time.monotonic() - 3600  # the reload is due
    await region.refresh(graph_store)
    reloading = region._reloading
    assert reloading is not None
    await reloading
    assert region.facts["AS:1"].risk_level == "HIGH"
    assert region.risk_figures(None, 1700000000000)[0].risk_level == "HIGH"


def reloads(kind: str) -> float:
    return (
        REGISTRY.get_sample_value("crossforce_region_reload_duration_seconds_count", {"kind": kind})
        or 0.0
    )


async def test_the_reload_interval_is_set_and_each_reload_counted(graph_store: GraphStore) -> None:
    region = RegionFacts(default_case_rules(), reload_every=0.05)
    await graph_store.write(CASE, {"key": "AS:1", "age": 0})
    first, periodic = reloads("first"), reloads("periodic")
    started = REGISTRY.get_sample_value("crossforce_region_reloads_started_total") or 0.0
    await region.refresh(graph_store)
    assert reloads("first") == first + 1
    await asyncio.sleep(0.1)
    await region.refresh(graph_store)  # due again: one starts beside this request
    assert region._reloading is not None
    await region._reloading
    assert reloads("periodic") == periodic + 1
    assert REGISTRY.get_sample_value("crossforce_region_reloads_started_total") == started + 1


async def test_a_full_load_reads_every_case_page_by_page(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(region_module, "ID_PAGE", 3)  # a few node ids a page: many pages
    keys = [f"AS:{n}" for n in range(10)]
    for key in keys:
        await graph_store.write(CASE, {"key": key, "age": 0})
        await graph_store.write("CREATE (:Device {key: $key})", {"key": key})  # ids between
    region = RegionFacts(default_case_rules())
    await region.refresh(graph_store)
    assert sorted(region.facts) == sorted(keys)
    await region._reload_beside(graph_store)  # the same, beside the requests
    assert sorted(region.facts) == sorted(keys)


async def test_a_reload_indexes_the_cases_a_page_at_a_time(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests get their turn between pages; one page's work is all they wait for."""
    monkeypatch.setattr(region_module, "ID_PAGE", 2)
    region = await region_of(graph_store, cases=8)
    indexed: list[int] = []
    on_each_page(monkeypatch, lambda facts: indexed.append(len(facts)))
    await region._reload_beside(graph_store)
    assert sum(indexed) == 8 and max(indexed) <= 2
    assert sorted(region.facts) == [f"AS:{n}" for n in range(8)]


async def test_a_reload_keeps_the_objects_of_unchanged_cases(graph_store: GraphStore) -> None:
    """So that a reload adds few objects for the garbage collector to walk."""
    for n in range(3):
        await graph_store.write(CASE, {"key": f"AS:{n}", "age": 60_000})
    region = RegionFacts(default_case_rules())
    await region.refresh(graph_store)
    before = dict(region.facts)
    await graph_store.write(REGRADE_UNSTAMPED, {"key": "AS:0"})
    await region._reload_beside(graph_store)
    assert region.facts["AS:0"] is not before["AS:0"]
    assert region.facts["AS:0"].risk_level == "HIGH"
    assert all(region.facts[key] is before[key] for key in ("AS:1", "AS:2"))


async def test_the_periodic_reload_forgets_cases_gone_without_a_tombstone(
    graph_store: GraphStore,
) -> None:
    region = await region_of(graph_store, cases=3)
    await graph_store.write("MATCH (c:Case {key: 'AS:1'}) DETACH DELETE c")  # no tombstone
    await region._reload_beside(graph_store)
    assert sorted(region.facts) == ["AS:0", "AS:2"]
    assert [row.cases for row in region.risk_figures(None, 1700000000000)] == [2]


async def test_a_reload_page_read_before_a_catch_up_does_not_undo_it(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page read, then a newer write caught up before the page is merged: the newer stays."""
    region = await region_of(graph_store, cases=1)
    regraded = dataclasses.replace(
        region.facts["AS:0"], risk_level="HIGH", synced_at=region.facts["AS:0"].synced_at + 1
    )

    def caught_up_meanwhile(facts: list[CaseFacts]) -> None:
        region.put(regraded)

    on_each_page(monkeypatch, caught_up_meanwhile)
    await region._reload_beside(graph_store)
    assert region.facts["AS:0"] is regraded


async def test_a_request_waiting_during_a_reload_goes_before_the_next_page(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refresh takes three round trips; were the reload to go on reading pages meanwhile,
    each trip would wait behind a page's work."""
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
    await region._reload_beside(graph_store)
    await requests[0]
    assert events.index("request answered") <= 2, events  # after one more page at most


async def test_a_reload_beside_the_requests_makes_no_full_collections(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each would walk the index built so far; young collections go on."""
    region = await region_of(graph_store, cases=1)
    thresholds: list[tuple[int, int, int]] = []
    on_each_page(monkeypatch, lambda facts: thresholds.append(gc.get_threshold()))
    before = gc.get_threshold()
    await region._reload_beside(graph_store)
    assert thresholds[0][:2] == before[:2] and gc.isenabled()
    assert thresholds[0][2] == region_module.NO_FULL_COLLECTIONS
    assert gc.get_threshold() == before
