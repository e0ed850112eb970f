"""Cross-force detection and the durable change feed each force reads."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client import Counter as Metric

from graph import GraphStore
from graph.queries import changes as q
from graph.queries import intake as iq
from graph.queries.links import ENTITY_KINDS

PAGE_LIMIT = 500
APPEND_PAGE = 2000  # events appended in one statement
DAY_MS = 86_400_000
SIDES = ("force", "otherForce")  # an event is held when either force's events are
LINKS_TOLD = 20  # other forces' cases a case hears of (see `link_events`); as many as are counted


def _dedupe(recipient_case: str, other_case: str, kind: str) -> str:
    return f"LINK|{recipient_case}|{other_case}|{kind}"


async def cross_force_links(store: GraphStore, case_keys: Iterable[str]) -> list[dict[str, Any]]:
    """One row per (case, other force's case, kind of shared entity), for these cases."""
    keys = sorted(set(case_keys))
    return await store.read(q.CROSS_FORCE_LINKS, {"keys": keys}) if keys else []


def link_events(rows: Iterable[dict[str, Any]], now_ms: int) -> dict[str, dict[str, Any]]:
    """The feed's events for links found by `cross_force_links`, keyed by dedupe key: each link
    to both forces, but a case hears of at most `LINKS_TOLD` other forces' cases.

    An image in a thousand cases would otherwise tell each of them of every other, a flood that
    grows with the square of the cases (288,000 events for one batch of 200 cases sharing an
    image with 1,000). So a synced case hears of its first `LINKS_TOLD` other cases for each
    kind of entity, by key, which a newer version finds again; and a case it links to hears of
    it only while that case holds fewer links than that (`otherLinked`, counted at the last
    sync around it). The rest are on the case's links and in its priority."""
    rows = sorted(rows, key=lambda r: (r["case"], r["label"], r["other"]))
    synced = {row["case"] for row in rows}
    per_kind: Counter[tuple[str, str]] = Counter()
    room: dict[str, int] = {}  # the other cases' room left: those not synced here
    events: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = ENTITY_KINDS[row["label"]]
        one = (row["case"], row["force"], row["caseRef"])
        two = (row["other"], row["otherForce"], row["otherCaseRef"])
        per_kind[(row["case"], kind)] += 1
        if per_kind[(row["case"], kind)] <= LINKS_TOLD:
            _link_event(events, one, two, kind, now_ms)
        if row["other"] in synced:
            continue  # told from its own rows
        left = room.setdefault(row["other"], LINKS_TOLD - min(row["otherLinked"] or 0, LINKS_TOLD))
        if left > 0 and _link_event(events, two, one, kind, now_ms):
            room[row["other"]] = left - 1
    return events


def _link_event(
    events: dict[str, dict[str, Any]],
    mine: tuple[str, str, str],
    theirs: tuple[str, str, str],
    kind: str,
    now_ms: int,
) -> bool:
    """Add the event telling `mine` (key, force, case ref) of `theirs`; whether it was new."""
    dedupe = _dedupe(mine[0], theirs[0], kind)
    if dedupe in events:
        return False
    events[dedupe] = {
        "dedupe": dedupe, "kind": "LINK", "force": mine[1], "caseRef": mine[2],
        "otherForce": theirs[1], "otherCaseRef": theirs[2], "otherKey": theirs[0], "via": kind,
        "at": now_ms,
    }  # fmt: skip
    return True


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


@dataclass(frozen=True)
class Hold:
    force: str
    since_ms: int
    events: int


async def holds(store: GraphStore) -> list[Hold]:
    """The forces whose link events are held, since when, and how many events wait."""
    rows = await store.read(iq.HOLDS)
    return [Hold(r["force"], int(r["since"] or 0), int(r["events"])) for r in rows]


async def release(store: GraphStore, force: str, now_ms: int) -> int:
    """Lift the force's hold and put its held events on its feed; how many were released.

    The hold goes first, so events fed meanwhile reach the feed rather than a hold nobody will
    release; what the force sent today up to now no longer counts against its ceiling."""
    await store.write(iq.LIFT, {"force": force, "day": now_ms // DAY_MS})
    rows = await store.write(q.RELEASE_HELD, {"force": force})
    return int(rows[0]["released"]) if rows else 0


@dataclass(frozen=True)
class ChangesPage:
    changes: list[dict[str, Any]]
    next: str


def parse_cursor(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if not since.isdigit() or len(since) > 18:
        raise ValueError("since must be a cursor returned by an earlier page")
    return int(since)


async def page(store: GraphStore, force: str, since: int, limit: int = PAGE_LIMIT) -> ChangesPage:
    rows = await store.read(q.PAGE, {"force": force, "since": since, "limit": limit})
    last = rows[-1]["seq"] if rows else since
    return ChangesPage([{k: v for k, v in r.items() if v is not None} for r in rows], str(last))
