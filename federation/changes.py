"""Cross-force detection and the durable change feed each force reads."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from graph import GraphStore
from graph.queries import changes as q
from graph.queries.links import ENTITY_KINDS

PAGE_LIMIT = 500


def _dedupe(recipient_case: str, other_case: str, kind: str) -> str:
    return f"LINK|{recipient_case}|{other_case}|{kind}"


async def record_new_links(
    store: GraphStore, case_keys: Iterable[str], now_ms: int, *, first_written: Iterable[str] = ()
) -> int:
    """Find links from these cases to other forces' cases; feed each new one to both forces.

    `first_written`: cases the graph had never held before this write. No link of theirs can be
    on the feed yet, so those are not looked up there (a look-up that grows with the feed)."""
    keys = sorted(set(case_keys))
    if not keys:
        return 0
    rows = await store.read(q.CROSS_FORCE_LINKS, {"keys": keys})
    new_cases = set(first_written)
    events: dict[str, dict[str, Any]] = {}
    unseen: set[str] = set()
    for row in rows:
        kind = ENTITY_KINDS[row["label"]]
        first_link = row["case"] in new_cases or row["other"] in new_cases
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
            if first_link:
                unseen.add(dedupe)
    return await append_new(store, events, unseen=unseen)


async def append_new(
    store: GraphStore, events: dict[str, dict[str, Any]], *, unseen: Collection[str] = ()
) -> int:
    """Append the events (by dedupe key) not already on the feed; how many were new. Dedupe keys
    in `unseen` are known not to be on the feed and are not looked up."""
    if not events:
        return 0
    ask = [d for d in events if d not in unseen]
    known = {row["dedupe"] for row in await store.read(q.KNOWN, {"dedupes": ask})} if ask else set()
    fresh = {d: e for d, e in events.items() if d not in known}
    if not fresh:
        return 0
    await store.write(q.APPEND, {"events": [fresh[d] for d in sorted(fresh)]})
    return len(fresh)


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
