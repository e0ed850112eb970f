"""What a force did in a window of time: referrals received, enforcement actions by method,
outcomes by kind, cases resolved, and the time its cases first enforced in the window had waited
for it, by band (`oversight { activity(from, to) }`, docs/graphql.md).

Each count is of dates falling in `[from, to)`. A force's `ActivityGroup` keeps those dates in
sorted lists, kept up to date with the region's index like the other groups of
`gateway/oversight.py`, so a window of any length is a few binary searches per force, whatever
the region's size. Pure code of the case facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedList

from policies.case_facts import DAY_MS, CaseFacts

# In the order of the case summary schema v1.1; every row lists each of them, zeros included.
METHODS = ("WARRANT", "ARREST", "VOLUNTARY_ATTENDANCE", "OTHER")
OUTCOME_KINDS = (
    "CHARGED",
    "CONDITIONAL_CAUTION",
    "CAUTION",
    "COMMUNITY_RESOLUTION",
    "FAST_TRACK_CPS_FILE",
    "NO_FURTHER_ACTION",
    "TRANSFERRED",
)
ARREST = "ARREST"
# Days from referral receipt to the first enforcement action: [low, high) days, as the age bands
# of `gateway/oversight.py`; a first action dated before receipt counts in the first band.
DELAY_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 7, 14),
    ("15-30", 14, 30),
    ("31-60", 30, 60),
    ("61-90", 60, 90),
    ("91-180", 90, 180),
    ("181+", 180, None),
)


def delay_band(received_at: int, enforced_at: int) -> str:
    """The band of `DELAY_BANDS` holding the wait from receipt to a first enforcement."""
    days = (enforced_at - received_at) / DAY_MS
    for label, _, high in DELAY_BANDS:
        if high is None or days < high:
            return label
    raise AssertionError("the last band is open")  # pragma: no cover


Change = Callable[[SortedList[Any], Any], None]


@dataclass(frozen=True)
class ForceActivity:
    force: str
    received: int
    enforcements: dict[str, int]  # by method, every one of METHODS
    outcomes: dict[str, int]  # by kind, every one of OUTCOME_KINDS
    resolved: int
    # by band of DELAY_BANDS, every one: cases whose first enforcement action is in the window
    time_to_enforcement: dict[str, int] = field(default_factory=dict)

    @property
    def arrests(self) -> int:
        return self.enforcements[ARREST]


def _between(values: SortedList[float], low: int, high: int) -> int:
    """How many values v with low <= v < high."""
    return int(values.bisect_left(high) - values.bisect_left(low))


@dataclass
class ActivityGroup:
    """One force's dated events: each enforcement action's time by method, each outcome's time
    by kind, each resolution's time. Referral receipts are the force group's own list."""

    actions: defaultdict[str, SortedList[float]] = field(
        default_factory=lambda: defaultdict(SortedList)
    )
    outcomes: defaultdict[str, SortedList[float]] = field(
        default_factory=lambda: defaultdict(SortedList)
    )
    resolved: SortedList[float] = field(default_factory=SortedList)
    # by band of DELAY_BANDS: (first enforcement time, case key) of the cases that waited so long
    first_enforced: defaultdict[str, SortedList[tuple[int, str]]] = field(
        default_factory=lambda: defaultdict(SortedList)
    )

    def apply(self, fact: CaseFacts, change: Change) -> None:
        """Add (or drop, as `change` does) the fact's dated events."""
        first = fact.enforcement_at
        if first is not None:
            band = delay_band(fact.received_at, first)
            change(self.first_enforced[band], (first, fact.key))
        for at, method in zip(fact.enforcement_times, fact.enforcement_methods, strict=False):
            change(self.actions[method], at)
        if fact.outcome_kind is not None and fact.outcome_at is not None:
            change(self.outcomes[fact.outcome_kind], fact.outcome_at)
        if fact.resolved_at is not None:
            change(self.resolved, fact.resolved_at)

    def activity(
        self, force: str, received: SortedList[float], low: int, high: int
    ) -> ForceActivity:
        """The force's counts in `[low, high)` (epoch milliseconds); `received` is its sorted
        referral receipts."""

        def count(values: SortedList[float] | None) -> int:
            return 0 if values is None else _between(values, low, high)

        return ForceActivity(
            force=force,
            received=count(received),
            enforcements={m: count(self.actions.get(m)) for m in METHODS},
            outcomes={k: count(self.outcomes.get(k)) for k in OUTCOME_KINDS},
            resolved=count(self.resolved),
            time_to_enforcement={
                label: self.first_enforced_count(label, low, high) for label, *_ in DELAY_BANDS
            },
        )

    def first_enforced_count(self, band: str, low: int, high: int) -> int:
        """Cases of the band whose first enforcement action is in `[low, high)`."""
        values = self.first_enforced.get(band)
        if values is None:
            return 0
        return int(values.bisect_left((high, "")) - values.bisect_left((low, "")))

    def first_enforced_after(
        self, band: str, low: int, high: int, after: tuple[int, str] | None
    ) -> Iterator[tuple[int, str]]:
        """(first enforcement time, key) of the band's cases enforced first in `[low, high)`,
        earliest first, after the position `after` if given."""
        values = self.first_enforced.get(band)
        if values is None:
            return iter(())
        start = values.bisect_left((low, ""))
        if after is not None:
            start = max(start, values.bisect_right(after))
        return values.islice(start, values.bisect_left((high, "")))
