"""`crossforce history backfill`: write each force's daily figures the graph does not hold yet.

The hub's replicas do this themselves once the graph is migrated and every hour after
(`gateway/upkeep.py`); the command does the same pass for a hub that is not running, or
back further than the replicas go. Days already held are left as they are.
"""

from __future__ import annotations

from datetime import UTC, datetime

from gateway.history_keeper import Kept, keep_history
from gateway.region import RegionFacts
from graph import GraphConnection
from policies.case_rules import CaseRules


async def backfill(connection: GraphConnection, rules: CaseRules, days: int) -> Kept:
    """Read every case's facts from the graph, then keep the days missing."""
    store = connection.store
    await store.migrate()
    region = RegionFacts(rules)
    await region.refresh(store)
    return await keep_history(store, region, datetime.now(UTC), back=days)
