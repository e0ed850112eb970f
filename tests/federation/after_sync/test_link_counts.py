"""Each case's link counts, kept by the after-sync step, follow the syncs around it: links made,
links lost by a newer version or a removal, risk levels changed, and images graded first."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from federation.after_sync import after_sync_step, applied_keys, link_counts
from federation.ingest import Ingest
from graph import GraphStore
from graph.after_sync_queue import AfterSyncWork
from graph.case_metadata import CaseMetadataStore
from graph.migrations import MIGRATIONS
from policies.case_facts import CaseFacts, facts_of
from policies.case_rules import CaseRules, default_case_rules
from tests.federation.after_sync.test_regrade_alert_recovery import principal
from tests.federation.test_ingest_pipeline import ingest, stream
from tests.gateway.graphql_client import iso, summary

PHONE = {"ref": "P1", "phones": ["07700 900555"]}
SAME_PHONE = {"ref": "P9", "phones": ["+447700900555"]}


RULES = default_case_rules()


async def synced(
    store: GraphStore, hub: Ingest, records: list[dict[str, Any]], rules: CaseRules = RULES
) -> None:
    """Apply the records, force by force, and run the after-sync step for them."""
    keys: list[str] = []
    for force in sorted({r["force"] for r in records}):
        mine = [r for r in records if r["force"] == force]
        keys += applied_keys(force, await hub.apply(principal(force), stream(mine)))
    await after_sync_step(store, keys, 0, rules=rules)


async def facts(store: GraphStore, *keys: str) -> dict[str, CaseFacts]:
    cases = await CaseMetadataStore(store).of(keys)
    return {case["key"]: facts_of(case, RULES) for case in cases}


def newer(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return record | {"version": record["version"] + 1} | changes


async def test_links_are_counted_on_both_sides_and_high_risk_ones_named(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    await synced(
        graph_store,
        hub,
        [
            summary("AS", 1, level="LOW", suspects=[PHONE]),
            summary("GL", 2, level="HIGH", suspects=[SAME_PHONE]),
            summary("WI", 3, level="MEDIUM", suspects=[SAME_PHONE]),
            summary("AS", 4, level="LOW", suspects=[PHONE]),  # same force: no link
        ],
    )
    held = await facts(graph_store, "AS:AS-T-0001", "GL:GL-T-0002", "WI:WI-T-0003", "AS:AS-T-0004")
    assert held["AS:AS-T-0001"].linked_cases == 2
    assert held["AS:AS-T-0001"].linked_high == ("GL:GL-T-0002",)
    assert held["GL:GL-T-0002"].linked_cases == 3  # both AS cases and the WI case
    assert held["GL:GL-T-0002"].linked_high == ()
    assert held["WI:WI-T-0003"].linked_high == ("GL:GL-T-0002",)
    assert held["AS:AS-T-0004"].linked_cases == 2
    # Counted again from the graph, as the cases around a sync are: nothing to write.
    around = link_counts.Around(now=frozenset(held), before=frozenset())
    assert await link_counts.count_after_sync(graph_store, [], around, [], RULES) == 0


async def test_a_lost_link_a_removal_and_a_new_grade_are_counted_again(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    mine = summary("AS", 1, level="LOW", suspects=[PHONE])
    high = summary("GL", 2, level="HIGH", suspects=[SAME_PHONE])
    other = summary("WI", 3, level="LOW", suspects=[SAME_PHONE])
    await synced(graph_store, hub, [mine, high, other])
    assert (await facts(graph_store, "AS:AS-T-0001"))["AS:AS-T-0001"].linked_cases == 2

    # GL regrades its case MEDIUM: the others no longer name it as high risk.
    high = newer(high, risk={"level": "MEDIUM", "assessedAt": high["risk"]["assessedAt"]})
    await synced(graph_store, hub, [high])
    held = await facts(graph_store, "AS:AS-T-0001", "WI:WI-T-0003")
    assert [f.linked_high for f in held.values()] == [(), ()]

    # WI's newer version no longer holds the phone: a link lost on both sides.
    await synced(graph_store, hub, [newer(other, suspects=[{"ref": "P9"}])])
    held = await facts(graph_store, "AS:AS-T-0001", "WI:WI-T-0003")
    assert held["AS:AS-T-0001"].linked_cases == 1
    assert held["WI:WI-T-0003"].linked_cases == 0

    # GL withdraws its case: the AS case is linked to nothing.
    await synced(graph_store, hub, [newer(high, deleted=True)])
    assert (await facts(graph_store, "AS:AS-T-0001"))["AS:AS-T-0001"].linked_cases == 0
    work = AfterSyncWork(graph_store)
    pending = await work.pending()  # never settled here: the step ran alone
    assert "GL:GL-T-0002" in pending  # the tombstone too
    assert await work.count() == len(pending)


async def test_views_avoided_count_the_items_another_case_graded_first(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    earlier = datetime.now(UTC) - timedelta(days=3)
    image = "d" * 40
    graded = {"sha1": image, "category": "B", "gradedAt": iso(earlier)}
    first = summary("AS", 1, media=[graded])
    later = summary("AS", 2, media=[{"sha1": image}, {"md5": "e" * 32}])
    await synced(graph_store, hub, [first, later])
    held = await facts(graph_store, "AS:AS-T-0001", "AS:AS-T-0002")
    assert held["AS:AS-T-0001"].views_avoided == 0  # it graded the image first
    assert held["AS:AS-T-0002"].views_avoided == 1
    assert held["AS:AS-T-0002"].linked_cases == 0  # one force: a view spared, no link

    # The first case drops the image: the later one has nothing graded before it any more.
    await synced(graph_store, hub, [newer(first, media=[{"md5": "f" * 32}])])
    assert (await facts(graph_store, "AS:AS-T-0002"))["AS:AS-T-0002"].views_avoided == 0


async def test_links_are_counted_up_to_a_cap_and_each_image_once_graded(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    two = dataclasses.replace(RULES, links_counted=2)  # as `links: {counted: 2}` in the file
    hub = ingest(graph_store, tmp_path, 50)
    first = datetime.now(UTC) - timedelta(days=9)
    image = {"sha1": "9" * 40, "category": "C", "gradedAt": iso(first)}
    regraded = image | {"gradedAt": iso(first + timedelta(days=1))}
    await synced(
        graph_store,
        hub,
        [
            summary("AS", 1, media=[image]),
            *(summary(force, 2, media=[regraded]) for force in ("GL", "WI", "DC")),
        ],
        two,
    )
    held = await facts(graph_store, "AS:AS-T-0001", "GL:GL-T-0002")
    assert held["AS:AS-T-0001"].linked_cases == 2  # three other forces' cases: two counted
    assert held["AS:AS-T-0001"].views_avoided == 0  # it graded the image first
    assert held["GL:GL-T-0002"].views_avoided == 1
    rows = await graph_store.read("MATCH (m:Media) RETURN m.firstGradedAt AS first")
    assert rows == [{"first": int(first.timestamp()) * 1000}]


async def test_the_migration_hands_uncounted_cases_to_the_after_sync_step(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    await synced(graph_store, hub, [summary("AS", 1, suspects=[PHONE])])
    await graph_store.write("MATCH (c:Case) SET c.linkedCases = null, c.afterSyncPending = null")
    (backfill,) = [m.then for m in MIGRATIONS if m.version == 9]
    await graph_store.write(backfill)
    assert await AfterSyncWork(graph_store).pending() == ["AS:AS-T-0001"]
