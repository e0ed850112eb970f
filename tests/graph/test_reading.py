"""Reads the gateway keeps its figures by, on both engines."""

from __future__ import annotations

from graph import GraphStore
from graph.queries import reading


async def test_the_case_count_is_one_row_with_the_graphs_clock(graph_store: GraphStore) -> None:
    await graph_store.write("UNWIND range(1, 3) AS i CREATE (:Case {key: 'AS:' + toString(i)})")
    rows = await graph_store.read(reading.CASE_COUNT)
    assert len(rows) == 1
    assert rows[0]["cases"] == 3
    assert rows[0]["now"] > 1_700_000_000_000  # milliseconds since the epoch
