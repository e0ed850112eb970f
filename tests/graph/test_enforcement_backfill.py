"""Cases stored before schema v1.1 gain its enforcement figures when the hub migrates."""

from __future__ import annotations

from graph import GraphStore
from graph.migrations import MIGRATIONS, RECORD_VERSION

BACKFILL = next(m.version for m in MIGRATIONS if "(schema v1.1)" in m.description)
OLD_CASES = """
CREATE (:Case {key: 'AS:1', force: 'AS', enforcementAt: 1760000000000, closedAt: 1770000000000})
CREATE (:Case {key: 'AS:2', force: 'AS'})
"""
READ = """
MATCH (c:Case) RETURN c.key AS key, c.enforcementTimes AS times,
       c.enforcementMethods AS methods, c.resolvedAt AS resolved, c.schemaVersion AS schema
ORDER BY key
"""


async def test_a_stored_v1_enforcement_becomes_one_action_of_method_other(
    graph_store: GraphStore,
) -> None:
    await graph_store.write(OLD_CASES)
    await graph_store.write(RECORD_VERSION, {"version": BACKFILL - 1})

    assert BACKFILL in await graph_store.migrate()

    assert await graph_store.read(READ) == [
        {"key": "AS:1", "times": [1760000000000], "methods": ["OTHER"],
         "resolved": 1770000000000, "schema": "v1"},
        {"key": "AS:2", "times": [], "methods": [], "resolved": None, "schema": "v1"},
    ]  # fmt: skip
