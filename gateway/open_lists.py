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

# A page within a group is taken from the cases selected by activity (then put in receipt
# order) when they are few beside the receipt range, else by walking that range in order.
GATHER_RATIO = 64


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


@dataclass(frozen=True)
class Selection:
    """The cases of one group a list selects: received in `[low, high)` (None: unbounded) and,
    if `quiet_before` is given, last active before it. `count` is exact."""

    group: OpenGroup
    facts: Mapping[str, CaseFacts]
    low: int | None = None
    high: int | None = None
    quiet_before: int | None = None
    count: int = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "count", self._count())

    def _received_range(self) -> tuple[int, int]:
        values = self.group.by_received
        start = 0 if self.low is None else values.bisect_left((self.low, ""))
        stop = len(values) if self.high is None else values.bisect_left((self.high, ""))
        if self.quiet_before is not None and not self.group.anomalies:  # received <= active
            stop = min(stop, values.bisect_left((self.quiet_before, "")))
        return start, max(start, stop)

    def _quiet(self) -> int:
        """How many of the group were last active before `quiet_before`."""
        assert self.quiet_before is not None
        return self.group.by_activity.bisect_left((self.quiet_before, ""))

    def _in_range(self, received: int) -> bool:
        return (self.low is None or received >= self.low) and (
            self.high is None or received < self.high
        )

    def _count(self) -> int:
        start, stop = self._received_range()
        bound = self.quiet_before
        if bound is None or stop == start:
            return stop - start
        quiet = self._quiet()
        by_activity_alone = (
            not self.group.anomalies
            and self.low is None
            and (self.high is None or bound <= self.high)
        )
        if by_activity_alone:
            return quiet
        if quiet <= stop - start:  # walk the quiet ones, testing receipt
            keys = (key for _, key in self.group.by_activity.islice(0, quiet))
            return sum(1 for key in keys if self._in_range(self.facts[key].received_at))
        keys = (key for _, key in self.group.by_received.islice(start, stop))
        return sum(1 for key in keys if quiet_since(self.facts[key]) < bound)

    def walk(self, after: Position | None) -> Iterator[Position]:
        """The selected cases in receipt order, after `after` if given."""
        if self.count == 0:
            return iter(())
        start, stop = self._received_range()
        values = self.group.by_received
        if after is not None:
            start = max(start, values.bisect_right(after))
        bound = self.quiet_before
        if bound is None:
            return values.islice(start, stop)
        quiet = self._quiet()
        if quiet * self.count <= GATHER_RATIO * max(1, stop - start):
            positions = (
                (self.facts[key].received_at, key)
                for _, key in self.group.by_activity.islice(0, quiet)
            )
            return iter(
                sorted(
                    p for p in positions if self._in_range(p[0]) and (after is None or p > after)
                )
            )
        walked = values.islice(start, stop)
        return (p for p in walked if quiet_since(self.facts[p[1]]) < bound)
