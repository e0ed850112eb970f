"""Reads the gateway keeps its figures by, on both engines: writes numbered in commit order."""

from __future__ import annotations

import asyncio

from graph import GraphStore
from graph.cases import tombstone_cases, upsert_cases
from graph.queries import reading
from tests.graph.builders import case_row


async def newest(store: GraphStore) -> int:
    return int((await store.read(reading.CASES_SEQ))[0]["seq"] or 0)


async def test_each_write_of_cases_takes_the_next_number(graph_store: GraphStore) -> None:
    start = await newest(graph_store)
    await upsert_cases(graph_store, [case_row("AS", "1"), case_row("AS", "2")])
    await upsert_cases(graph_store, [case_row("AS", "1", 2)])
    assert await upsert_cases(graph_store, [case_row("AS", "2", 1)]) == set()  # stale
    await tombstone_cases(graph_store, [{"key": "AS:2", "force": "AS", "version": 5}])
    assert await newest(graph_store) == start + 3  # nothing written, no number taken

    window = {"after": start, "upto": start + 3}
    cases = await graph_store.read(reading.CASE_METADATA_AFTER, window)
    assert [(r["key"], r["seq"]) for r in cases] == [("AS:1", start + 2)]
    removed = await graph_store.read(reading.REMOVED_AFTER, window)
    assert [(r["key"], r["seq"]) for r in removed] == [("AS:2", start + 3)]
    later = {"after": start + 3, "upto": start + 3}
    assert await graph_store.read(reading.CASE_METADATA_AFTER, later) == []


async def test_concurrent_writers_take_distinct_numbers(graph_store: GraphStore) -> None:
    start = await newest(graph_store)
    batches = [[case_row("AS", f"{w}-{n}") for n in range(5)] for w in range(8)]
    await asyncio.gather(*(upsert_cases(graph_store, batch) for batch in batches))
    assert await newest(graph_store) == start + 8
    rows = await graph_store.read(reading.CASE_METADATA_AFTER, {"after": start, "upto": start + 8})
    assert len(rows) == 40
    assert sorted({r["seq"] for r in rows}) == list(range(start + 1, start + 9))
