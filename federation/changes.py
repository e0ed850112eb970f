"""Cross-force detection and the durable change feed each force reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from graph import GraphStore
from graph.queries import changes as q
from graph.queries.links import ENTITY_KINDS

PAGE_LIMIT = 500
APPEND_PAGE = 2000  # events appended in one statement


def _dedupe(recipient_case: str, other_case: str, kind: str) -> str:
    return f"LINK|{recipient_case}|{other_case}|{kind}"


async def cross_force_links(store: GraphStore, case_keys: Iterable[str]) -> list[dict[str, Any]]:
    """One row per (case, other force's case, kind of shared entity), for these cases."""
    keys = sorted(set(case_keys))
    return await store.read(q.CROSS_FORCE_LINKS, {"keys": keys}) if keys else []


def link_events(rows: Iterable[dict[str, Any]], now_ms: int) -> dict[str, dict[str, Any]]:
    """The feed's events for links found by `cross_force_links`: each link to both forces,
    keyed by dedupe key."""
    events: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = ENTITY_KINDS[row["label"]]
        one = (row["case"], row["force"], row["caseRef"])
        two = (row["other"], row["otherForce"], row["otherCaseRef"])
        for mine, theirs in ((one, two), (two, one)):
            dedupe = _dedupe(mine[0], theirs[0], kind)
            events[dedupe] = {
                "dedupe": dedupe,
                "kind": "LINK",
                "force": mine[1],
                "caseRef": mine[2],
                "otherForce": theirs[1],
                "otherCaseRef": theirs[2],
                "otherKey": theirs[0],
                "via": kind,
                "at": now_ms,
            }
    return events


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
