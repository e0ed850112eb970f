"""The after-sync step's appends to the change feed: each event once, held for forces whose
intake went over the case rules' ceiling (federation/intake.py)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter as Metric

from graph import GraphStore
from graph.queries import changes as q
from graph.queries import intake as iq

APPEND_PAGE = 2000  # events appended in one statement
SIDES = ("force", "otherForce")  # an event is held when either force's events are


async def append_new(store: GraphStore, events: dict[str, dict[str, Any]]) -> int:
    """Append the events (by dedupe key) not already on the feed; how many were new. The check
    and the append are one transaction, so an event appended twice (by two replicas, or again
    after a crash) is on the feed once."""
    ordered = [events[d] for d in sorted(events)]
    added = 0
    # A page at a time: a case sharing an image with hundreds of cases feeds two events per
    # link, and one statement for them all outlasted the query timeout (and failed again at
    # each retry). An event is on the feed once, whichever page brought it.
    for start in range(0, len(ordered), APPEND_PAGE):
        rows = await store.write(q.APPEND, {"events": ordered[start : start + APPEND_PAGE]})
        added += int(rows[0]["added"]) if rows else 0
    return added


EVENTS_HELD = Metric(
    "crossforce_change_events_held",
    "Change-feed events held back because the receiving force went over its intake ceiling",
    ["force"],
)


async def deliver(store: GraphStore, events: dict[str, dict[str, Any]]) -> int:
    """Append the events, except those of forces whose link events are held (their intake went
    over the case rules' ceiling, federation/intake.py): the events meant for such a force, and
    those telling other forces of its cases. Those are kept, held, until an administrator
    releases them. How many were new, on the feed or held."""
    forces = sorted({e[side] for e in events.values() for side in SIDES if e.get(side)})
    rows = await store.read(iq.HELD_FORCES, {"forces": forces}) if forces else []
    holding = {row["force"] for row in rows}
    held: dict[str, list[dict[str, Any]]] = {}
    free = {}
    for dedupe in sorted(events):
        event = events[dedupe]
        holder = next((event[s] for s in SIDES if event.get(s) in holding), None)
        if holder is None:
            free[dedupe] = event
        else:
            held.setdefault(holder, []).append(event | {"heldFor": holder})
    added = await append_new(store, free)
    for force, kept in sorted(held.items()):
        for start in range(0, len(kept), APPEND_PAGE):
            page = kept[start : start + APPEND_PAGE]
            written = await store.write(q.APPEND_HELD, {"events": page})
            count = int(written[0]["held"]) if written else 0
            EVENTS_HELD.labels(force).inc(count)
            added += count
    return added
