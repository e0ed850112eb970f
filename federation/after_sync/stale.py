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
from graph.stale_cases import StaleCases
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
    stale = StaleCases(store)
    cases = await stale.untold(cut, limit)
    if not cases:
        return 0
    events: dict[str, dict[str, Any]] = {}
    for case in cases:
        dedupe = f"{KIND}|{case.key}|{case.quiet_since}"
        events[dedupe] = {
            "dedupe": dedupe, "kind": KIND, "force": case.force, "caseRef": case.case_ref,
            "reasons": [f"no activity for {days} days"], "at": now_ms,
        }  # fmt: skip
    delivered = await append_new(store, events)
    await stale.mark_told(cases)
    return delivered
