"""Victim groups, kept by the after-sync step, follow the syncs of their cases: a group forms
when a second case shares an image or series, keeps its id while its cases are written again,
splits or goes when a case drops what joined it, and goes with its cases' removal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from federation.after_sync.victim_groups import regroup
from graph import GraphStore
from graph.after_sync_queue import AfterSyncWork
from graph.migrations import MIGRATIONS
from tests.federation.after_sync.test_link_counts import newer, synced
from tests.federation.test_ingest_pipeline import ingest
from tests.gateway.graphql_client import summary

IMAGE = "9c1185a5c5e9fc54612808977ee8f548b2258d31"
OTHER_IMAGE = "1" * 40


def victim(ref: str, identified: bool = False) -> dict[str, object]:
    return {"ref": ref, "identified": identified, "ageBand": "8-12"}


def depicting(sha1: str, *refs: str, series: str | None = None) -> dict[str, object]:
    item: dict[str, object] = {"sha1": sha1, "category": "B", "depicts": list(refs)}
    return item | ({"seriesRef": series} if series else {})


async def kept(store: GraphStore) -> dict[str, dict[str, Any]]:
    rows = await store.read(
        "MATCH (g:VictimGroup) OPTIONAL MATCH (g)-[:OF_CASE]->(c:Case) "
        "RETURN g.id AS id, g.victims AS victims, g.unidentified AS unidentified, "
        "collect(c.key) AS cases"
    )
    return {row["id"]: row | {"cases": sorted(row["cases"])} for row in rows}


async def test_a_group_forms_keeps_its_id_and_goes_when_the_shared_image_does(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    mine = summary("AS", 1, victims=[victim("V1")], media=[depicting(IMAGE, "V1")])
    theirs = summary("GL", 2, victims=[victim("V3", True)], media=[depicting(IMAGE, "V3")])
    await synced(graph_store, hub, [mine])
    assert await kept(graph_store) == {}  # one case: nothing to look at yet

    await synced(graph_store, hub, [theirs])
    (group,) = (await kept(graph_store)).values()
    assert group["victims"] == ["AS:AS-T-0001:V1", "GL:GL-T-0002:V3"]
    assert group["cases"] == ["AS:AS-T-0001", "GL:GL-T-0002"]
    assert group["unidentified"] == 1

    # Both cases written again, in one sync: the same group, once.
    await synced(graph_store, hub, [newer(mine), newer(theirs)])
    assert list(await kept(graph_store)) == [group["id"]]

    # GL's newer version no longer holds the image: no group left.
    await synced(graph_store, hub, [newer(theirs, version=3, media=[depicting(OTHER_IMAGE, "V3")])])
    assert await kept(graph_store) == {}


async def test_a_group_splits_when_the_case_joining_it_drops_its_victim(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    # DC's victim is in the image AS holds and in a series WI's case is in: one group of three.
    middle = summary(
        "DC", 1, victims=[victim("V1")],
        media=[depicting(IMAGE, "V1"), depicting(OTHER_IMAGE, "V1", series="S-9")],
    )  # fmt: skip
    await synced(
        graph_store,
        hub,
        [
            middle,
            summary("AS", 2, victims=[victim("V1")], media=[depicting(IMAGE, "V1")]),
            summary(
                "WI", 3, victims=[victim("V1")], media=[depicting("2" * 40, "V1", series="s-9")]
            ),
            summary("GL", 4, victims=[victim("V1")], media=[depicting("3" * 40, "V1")]),
        ],
    )
    (group,) = (await kept(graph_store)).values()
    assert group["cases"] == ["AS:AS-T-0002", "DC:DC-T-0001", "WI:WI-T-0003"]

    await synced(graph_store, hub, [newer(middle, victims=[], media=[{"sha1": IMAGE}])])
    assert await kept(graph_store) == {}  # AS and WI share nothing with each other


async def test_removing_every_case_of_a_group_removes_it(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    cases = [
        summary(force, n, victims=[victim("V1")], media=[depicting(IMAGE, "V1")])
        for n, force in enumerate(("AS", "GL"), start=1)
    ]
    await synced(graph_store, hub, cases)
    assert len(await kept(graph_store)) == 1
    await synced(graph_store, hub, [newer(case, deleted=True) for case in cases])
    assert await kept(graph_store) == {}


async def test_the_migration_hands_cases_with_victims_to_the_after_sync_step(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    await synced(
        graph_store,
        hub,
        [
            summary("AS", 1, victims=[victim("V1")], media=[depicting(IMAGE, "V1")]),
            summary("GL", 2, victims=[victim("V1")], media=[depicting(IMAGE, "V1")]),
            summary("WI", 3),
        ],
    )
    await graph_store.write("MATCH (g:VictimGroup) DETACH DELETE g")
    await graph_store.write("MATCH (c:Case) SET c.afterSyncPending = null")
    (backfill,) = [m.then for m in MIGRATIONS if m.version == 10]
    await graph_store.write(backfill)
    pending = sorted(await AfterSyncWork(graph_store).pending())
    assert pending == ["AS:AS-T-0001", "GL:GL-T-0002"]
    assert await regroup(graph_store, pending) == 1
