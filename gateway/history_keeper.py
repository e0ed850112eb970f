"""The daily history kept in the graph: each force's figures at the end of each day.

Every replica's hourly upkeep (`gateway/upkeep.py`) calls `keep_history`, which works out the
days that should be held (from the earliest referral, at most `BACKFILL_DAYS` back, to the last
day that ended at least `SETTLE` ago), asks the graph which are held, and writes the missing
ones from the case facts (`gateway/history.py`). A day is only ever created, never rewritten
(graph/queries/history.py): whichever replica gets there first keeps it, and the others find it
held. The first start back-fills from case dates; so does `crossforce history backfill`, for a
hub that is not running.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from gateway.history import daily_figures, day_of, days_between, first_day
from gateway.region_index import RegionIndex
from graph import GraphStore
from graph.force_days import ForceDays, day_key

BACKFILL_DAYS = 400
SETTLE = timedelta(hours=1)  # a day's snapshot waits this long after midnight for late syncs


@dataclass(frozen=True)
class Kept:
    """What one pass did: days written now, and days it found held already."""

    written: int
    held: int


def last_complete_day(now: datetime) -> date:
    return (now.astimezone(UTC) - SETTLE).date() - timedelta(days=1)


async def keep_history(
    store: GraphStore, region: RegionIndex, now: datetime, *, back: int = BACKFILL_DAYS
) -> Kept:
    """Write the days missing from the graph, up to the last complete one, from the facts."""
    facts = list(region.facts.values())
    first = first_day(facts)
    last = last_complete_day(now)
    if first is None or first > last:
        return Kept(0, 0)
    days = days_between(max(first, last - timedelta(days=back - 1)), last)
    starts: dict[str, int] = {}
    for fact in facts:
        known = starts.get(fact.force)
        starts[fact.force] = fact.received_at if known is None else min(known, fact.received_at)
    wanted = [
        day_key(force, day)
        for force, start in starts.items()
        for day in days
        if day >= day_of(start)
    ]
    repository = ForceDays(store)
    held = await repository.held(wanted)
    if len(held) == len(wanted):
        return Kept(0, len(held))
    missing_days = sorted({date.fromisoformat(key.partition(":")[2]) for key in set(wanted) - held})
    rows = await asyncio.to_thread(daily_figures, facts, missing_days)
    missing = [row for row in rows if row.key not in held]
    written = await repository.keep(missing, int(now.timestamp() * 1000))
    return Kept(written, len(held))
