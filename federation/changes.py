"""The change feed as forces and administrators read it: pages of a force's events, each told
as far as the reader's agreements allow, and the holds on forces whose intake went over the
ceiling. What is appended to it is the after-sync step's (federation/after_sync/feed.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from federation.after_sync.link_counts import recount_force
from federation.after_sync.regrade import reasons_told
from graph import GraphStore
from graph.queries import changes as q
from graph.queries import intake as iq
from policies.case_rules import CaseRules
from policies.principal import Principal
from policies.sharing import PolicyHolder, RecordView

PAGE_LIMIT = 500
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Hold:
    force: str
    since_ms: int
    events: int


async def holds(store: GraphStore) -> list[Hold]:
    """The forces whose link events are held, since when, and how many events wait."""
    rows = await store.read(iq.HOLDS)
    return [Hold(r["force"], int(r["since"] or 0), int(r["events"])) for r in rows]


async def release(store: GraphStore, force: str, now_ms: int, *, rules: CaseRules) -> int:
    """Lift the force's hold, put its held events on its feed, and count its links again under
    the case rules (they were not counted while held); how many events were released.

    The hold goes first, so events fed meanwhile reach the feed rather than a hold nobody will
    release; what the force sent today up to now no longer counts against its ceiling."""
    await store.write(iq.LIFT, {"force": force, "day": now_ms // DAY_MS})
    rows = await store.write(q.RELEASE_HELD, {"force": force})
    await recount_force(store, force, rules)
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


# What names the other case of a change: its reference, and its key (by which its contact is found).
NAMING_OTHER = ("otherCaseRef", "otherKey")


def told(
    changes: Iterable[dict[str, Any]], sharing: PolicyHolder, reader: Principal
) -> list[dict[str, Any]]:
    """The changes as the reader may be told them, by the record-level decision
    (`record_view`, docs/policies.md "Records") on the other force each names: a change about a
    case of a force the reader may know nothing of is left out; where it may know only that the
    force holds such a case, the change keeps the force, not the case's reference nor the key
    its contact is found by. An alert's reasons name no linked case the reader may not know.

    A change always concerns one of the reader's own cases: that part is never withheld."""

    def knows(force: str) -> bool:
        return sharing.record_view(reader, force) == RecordView.FULL

    shown = []
    for change in changes:
        change = dict(change)
        linked = change.pop("linkedHigh", None)
        other = change.get("otherForce")
        view = RecordView.FULL if other is None else sharing.record_view(reader, other)
        if view == RecordView.NONE:
            continue
        if view == RecordView.EXISTENCE:
            for name in NAMING_OTHER:
                change.pop(name, None)
        if change.get("reasons"):
            change["reasons"] = reasons_told(change["reasons"], linked, knows)
        shown.append(change)
    return shown
