"""Both engines behave alike on the port itself: migrations, reads, writes, failures."""

from __future__ import annotations

import asyncio
import os
import time

import pytest

from graph import ConstraintViolation, GraphError, GraphStore
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from graph.migrations import LATEST_VERSION, READ_VERSION


async def test_migrations_are_applied_once_and_rerun_harmlessly(graph_store: GraphStore) -> None:
    assert await graph_store.migrate() == []  # the session fixture applied them all
    assert await graph_store.migrate() == []
    assert (await graph_store.read(READ_VERSION))[0]["version"] == LATEST_VERSION


async def test_unique_keys_are_enforced(graph_store: GraphStore) -> None:
    await graph_store.write("CREATE (:Person {key: $k})", {"k": "bi-1"})
    with pytest.raises(ConstraintViolation):
        await graph_store.write("CREATE (:Person {key: $k})", {"k": "bi-1"})


async def test_failed_statement_leaves_nothing_behind(graph_store: GraphStore) -> None:
    with pytest.raises(GraphError):
        await graph_store.write(
            "UNWIND $xs AS x CREATE (:Device {key: toString(x), v: 10 / x})", {"xs": [1, 2, 0]}
        )
    rows = await graph_store.read("MATCH (d:Device) RETURN count(d) AS n")
    assert rows == [{"n": 0}]


async def test_rows_come_back_as_plain_dicts(graph_store: GraphStore) -> None:
    rows = await graph_store.read(
        "UNWIND $xs AS x RETURN x AS value, [x, x] AS pair, {v: x} AS map ORDER BY value",
        {"xs": [2, 1]},
    )
    assert rows == [
        {"value": 1, "pair": [1, 1], "map": {"v": 1}},
        {"value": 2, "pair": [2, 2], "map": {"v": 2}},
    ]


async def test_ping_answers(graph_store: GraphStore) -> None:
    await graph_store.ping()


async def test_replicas_starting_together_both_migrate_a_fresh_graph(
    falkordb_server: EmbeddedFalkorDB,
) -> None:
    """Two hubs (replicas, or `serve --workers`) migrating one new graph at once. FalkorDB only:
    a fresh graph is a new name there, while Neo4j's DDL is `IF NOT EXISTS` by construction."""
    name = f"fresh-{os.getpid()}-{time.monotonic_ns()}"
    stores = [FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name=name) for _ in range(3)]
    try:
        await asyncio.gather(*(store.migrate() for store in stores))
        assert (await stores[0].read(READ_VERSION))[0]["version"] == LATEST_VERSION
        await stores[0].write("CREATE (:Case {key: 'k'})")
        with pytest.raises(ConstraintViolation):
            await stores[1].write("CREATE (:Case {key: 'k'})")
    finally:
        graph = await stores[0]._graph()
        await graph.delete()
        for store in stores:
            await store.close()
