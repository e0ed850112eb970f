"""The open cases of the read model, kept so that a named list's count and page cost a few
binary searches, not a walk of every open case.

Per force, risk level, team and whether the case awaits enforcement, a group keeps its open
cases twice: ordered by receipt (the order a list is read in) and by last activity (or, without
one, receipt: what `inactiveDays` asks about). A list's filter becomes, per group, a range of
receipt times (`minDaysWaiting`, and `pastTarget`: the cases awaiting enforcement received before
their level's cut are a prefix) and at most a bound on activity (`inactiveDays`).

A range on one order alone is counted by binary search. Both at once is a two-dimensional count,
which the two orders select exactly when every case of the group had its last activity at or
after its receipt (the group counts those that did not) and the activity bound lies at or before
the receipt range: then "quiet since" implies "received before", and the receipt range adds
nothing, or excludes everything. That holds for the lists coordinators ask for (inactive for N
days, alone or with a longer wait or past a shorter target). Any other combination is counted by
walking the smaller of the two selected ranges, testing the other bound: exact, costing the
smaller range, never the whole group.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from sortedcontainers import SortedList

from policies.case_facts import CaseFacts

Position = tuple[int, str]  # an open case's place in the order: (received at, key)
GroupKey = tuple[str, str, bool, str | None]  # force, risk level, awaiting enforcement, team

# A page of quiet cases within a group is walked in receipt order for this many steps per quiet
# case in the group, then taken from the quiet cases themselves (`Selection._walk_quiet`).
WALK_BUDGET = 1


def quiet_since(fact: CaseFacts) -> int:
    """When the case was last active: its last activity, or without one its receipt."""
    return fact.last_activity_at or fact.received_at


def group_of(fact: CaseFacts) -> GroupKey:
    return fact.force, fact.risk_level, fact.awaiting_enforcement(), fact.team


@dataclass
class OpenGroup:
    by_received: SortedList[Position] = field(default_factory=SortedList)
    by_activity: SortedList[Position] = field(default_factory=SortedList)
    anomalies: int = 0  # cases last active before they were received

    def change(self, fact: CaseFacts, sign: int) -> None:
        quiet = quiet_since(fact)
        if sign > 0:
            self.by_received.add((fact.received_at, fact.key))
            self.by_activity.add((quiet, fact.key))
        else:
            self.by_received.remove((fact.received_at, fact.key))
            self.by_activity.remove((quiet, fact.key))
        if quiet < fact.received_at:
            self.anomalies += sign

    def extend(self, facts: list[CaseFacts]) -> None:
        """Add many at once, each list sorted once."""
        self.by_received.update((f.received_at, f.key) for f in facts)
        self.by_activity.update((quiet_since(f), f.key) for f in facts)
        self.anomalies += sum(1 for f in facts if quiet_since(f) < f.received_at)

    def __len__(self) -> int:
        return len(self.by_received)


class Selection:
    """The cases of one group a list selects: received in `[low, high)` (None: unbounded) and,
    if `quiet_before` is given, last active before it. Each binary search is made once, when
    the selection is made; `count()` is exact."""

    __slots__ = (
        "_count",
        "facts",
        "group",
        "high",
        "low",
        "quiet",
        "quiet_before",
        "start",
        "stop",
    )

    def __init__(
        self,
        group: OpenGroup,
        facts: Mapping[str, CaseFacts],
        low: int | None = None,
        high: int | None = None,
        quiet_before: int | None = None,
    ) -> None:
        self.group, self.facts = group, facts
        self.low, self.high, self.quiet_before = low, high, quiet_before
        values = group.by_received
        start = 0 if low is None else values.bisect_left((low, ""))
        stop = len(values) if high is None else values.bisect_left((high, ""))
        self.quiet = 0  # how many of the group were last active before `quiet_before`
        if quiet_before is not None:
            if not group.anomalies:  # received <= last active: only those received before
                stop = min(stop, values.bisect_left((quiet_before, "")))
            self.quiet = group.by_activity.bisect_left((quiet_before, ""))
        self.start, self.stop = start, max(start, stop)
        self._count: int | None = None

    def _in_range(self, received: int) -> bool:
        return (self.low is None or received >= self.low) and (
            self.high is None or received < self.high
        )

    def count(self) -> int:
        if self._count is None:
            self._count = self._counted()
        return self._count

    def _counted(self) -> int:
        start, stop, bound = self.start, self.stop, self.quiet_before
        if bound is None or stop == start:
            return stop - start
        by_activity_alone = (
            not self.group.anomalies
            and self.low is None
            and (self.high is None or bound <= self.high)
        )
        if by_activity_alone:
            return self.quiet
        if self.quiet <= stop - start:  # walk the quiet ones, testing receipt
            keys = (key for _, key in self.group.by_activity.islice(0, self.quiet))
            return sum(1 for key in keys if self._in_range(self.facts[key].received_at))
        keys = (key for _, key in self.group.by_received.islice(start, stop))
        return sum(1 for key in keys if quiet_since(self.facts[key]) < bound)

    def walk(self, after: Position | None) -> Iterator[Position]:
        """The selected cases in receipt order, after `after` if given."""
        start, stop, bound = self.start, self.stop, self.quiet_before
        if stop == start or (bound is not None and self.quiet == 0):
            return iter(())
        values = self.group.by_received
        if after is not None:
            start = max(start, values.bisect_right(after))
        if bound is None:
            return values.islice(start, stop)
        return self._walk_quiet(start, after)

    def _walk_quiet(self, start: int, after: Position | None) -> Iterator[Position]:
        """The quiet ones in receipt order: the receipt range walked, testing activity, for as
        many steps as there are quiet cases in the group; if that did not finish, the quiet
        cases left are taken by activity and put in receipt order. Either way the cost is at
        most twice that of the cheaper of the two."""
        bound = self.quiet_before
        assert bound is not None
        budget = WALK_BUDGET * self.quiet
        last = after
        for walked, position in enumerate(self.group.by_received.islice(start, self.stop)):
            if walked >= budget:
                break
            last = position
            if quiet_since(self.facts[position[1]]) < bound:
                yield position
        else:
            return
        positions = (
            (self.facts[key].received_at, key)
            for _, key in self.group.by_activity.islice(0, self.quiet)
        )
        yield from sorted(
            p for p in positions if self._in_range(p[0]) and (last is None or p > last)
        )
