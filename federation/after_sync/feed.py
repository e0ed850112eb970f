"""The after-sync step's appends to the change feed: each event once, held for forces whose
intake went over the case rules' ceiling (federation/intake.py)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter as Metric

from graph import GraphStore
from graph.change_feed import ChangeFeed

SIDES = ("force", "otherForce")  # an event is held when either force's events are


async def append_new(store: GraphStore, events: dict[str, dict[str, Any]]) -> int:
    """Append the events (by dedupe key) not already on the feed; how many were new. An event
    appended twice (by two replicas, or again after a crash) is on the feed once; a case sharing
    an image with hundreds of cases feeds two events per link, so they go a page at a time."""
    return await ChangeFeed(store).append([events[d] for d in sorted(events)])


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
    feed = ChangeFeed(store)
    forces = sorted({e[side] for e in events.values() for side in SIDES if e.get(side)})
    holding = await feed.held_forces(forces)
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
        count = await feed.hold(kept)
        EVENTS_HELD.labels(force).inc(count)
        added += count
    return added
