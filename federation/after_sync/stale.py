"""Stale cases: an open case with no activity for the case rules' `stale.after_days` is told to
its force once, on its change feed (a `STALE` event), per quiet spell.

Nothing syncs when a case goes quiet, so no sync's after-sync step can see it: the gateway's
hourly upkeep calls `feed_stale` (gateway/upkeep.py). Each pass tells at most `PER_PASS` cases,
the longest quiet first, and marks each told case with the spell told of (`staleToldFor`), so a
pass reads only what is left to tell. The event's dedupe key names the case and the spell, so a
second replica's pass at the same time appends nothing twice. The events are not held for a force
over its intake ceiling (federation/intake.py): they tell a force of its own case alone, so they
are no way to learn of another force's holdings.
"""

from __future__ import annotations

from typing import Any

from federation.after_sync.feed import append_new
from graph import GraphStore
from graph.queries import oversight as q
from policies.case_facts import DAY_MS
from policies.case_rules import CaseRules

PER_PASS = 1000
KIND = "STALE"


async def feed_stale(
    store: GraphStore, rules: CaseRules, now_ms: int, *, limit: int = PER_PASS
) -> int:
    """Tell the forces of the open cases gone stale since they were last told; how many events
    were new on the feeds."""
    days = rules.stale_after_days
    cut = now_ms - days * DAY_MS
    rows = await store.read(q.STALE_UNTOLD, {"cut": cut, "limit": limit})
    if not rows:
        return 0
    events: dict[str, dict[str, Any]] = {}
    for row in rows:
        quiet_since = int(row["quietSince"])
        dedupe = f"{KIND}|{row['key']}|{quiet_since}"
        events[dedupe] = {
            "dedupe": dedupe, "kind": KIND, "force": row["force"], "caseRef": row["caseRef"],
            "reasons": [f"no activity for {days} days"], "at": now_ms,
        }  # fmt: skip
    delivered = await append_new(store, events)
    told = [{"key": row["key"], "quietSince": int(row["quietSince"])} for row in rows]
    await store.write(q.STALE_TOLD, {"told": told})
    return delivered
