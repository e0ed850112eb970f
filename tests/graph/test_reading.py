"""Reads the gateway keeps its figures by, on both engines."""

from __future__ import annotations

from graph import GraphStore
from graph.queries import reading


async def test_the_case_count_the_clock_and_removals_since(graph_store: GraphStore) -> None:
    await graph_store.write("UNWIND range(1, 3) AS i CREATE (:Case {key: 'AS:' + toString(i)})")
    assert await graph_store.read(reading.CASE_COUNT) == [{"cases": 3}]
    now = (await graph_store.read(reading.GRAPH_CLOCK))[0]["now"]
    assert now > 1_700_000_000_000  # milliseconds since the epoch

    none = await graph_store.read(reading.REMOVED_SINCE, {"since": now})
    assert len(none) == 1 and none[0]["key"] is None and none[0]["now"] >= now
    await graph_store.write("CREATE (:Tombstone {key: 'AS:9', syncedAt: $at})", {"at": now + 1})
    await graph_store.write("CREATE (:Tombstone {key: 'AS:8', syncedAt: $at})", {"at": now - 1})
    removed = await graph_store.read(reading.REMOVED_SINCE, {"since": now})
    assert [(r["key"], r["removedAt"]) for r in removed] == [("AS:9", now + 1)]
