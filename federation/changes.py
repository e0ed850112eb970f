"""The change feed as forces and administrators read it: pages of a force's events, each told
as far as the reader's agreements allow, and the holds on forces whose intake went over the
ceiling. What is appended to it is the after-sync step's (federation/after_sync/feed.py)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from federation.after_sync.link_counts import recount_force
from federation.after_sync.regrade import reasons_told
from graph import GraphStore
from graph.change_feed import Change, ChangeFeed, Hold
from policies.case_rules import CaseRules
from policies.principal import Principal
from policies.sharing import PolicyHolder, RecordView

__all__ = ["Change", "ChangesPage", "Hold", "holds", "page", "parse_cursor", "release", "told"]

PAGE_LIMIT = 500
DAY_MS = 86_400_000


async def holds(store: GraphStore) -> list[Hold]:
    """The forces whose link events are held, since when, and how many events wait."""
    return await ChangeFeed(store).holds()


async def release(store: GraphStore, force: str, now_ms: int, *, rules: CaseRules) -> int:
    """Lift the force's hold, put its held events on its feed, and count its links again under
    the case rules (they were not counted while held); how many events were released. What the
    force sent today up to now no longer counts against its ceiling."""
    released = await ChangeFeed(store).release(force, now_ms // DAY_MS)
    await recount_force(store, force, rules)
    return released


@dataclass(frozen=True)
class ChangesPage:
    changes: list[Change]
    next: str


def parse_cursor(since: str | None) -> int:
    if since is None or since == "":
        return 0
    if not since.isdigit() or len(since) > 18:
        raise ValueError("since must be a cursor returned by an earlier page")
    return int(since)


async def page(store: GraphStore, force: str, since: int, limit: int = PAGE_LIMIT) -> ChangesPage:
    changes = await ChangeFeed(store).page(force, since, limit)
    return ChangesPage(changes, str(changes[-1].seq if changes else since))


def told(changes: Iterable[Change], sharing: PolicyHolder, reader: Principal) -> list[Change]:
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
        other = change.other_force
        view = RecordView.FULL if other is None else sharing.record_view(reader, other)
        if view == RecordView.NONE:
            continue
        if view == RecordView.EXISTENCE:
            change = replace(change, other_case_ref=None, other_key=None)
        if change.reasons:
            reasons = reasons_told(change.reasons, change.linked_high, knows)
            change = replace(change, reasons=tuple(reasons))
        shown.append(change)
    return shown
