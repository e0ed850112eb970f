"""What a force did in a window of time: referrals received, enforcement actions by method,
outcomes by kind, cases resolved (`oversight { activity(from, to) }`, docs/graphql.md).

Each count is of dates falling in `[from, to)`. A force's `ActivityGroup` keeps those dates in
sorted lists, kept up to date with the region's index like the other groups of
`gateway/oversight.py`, so a window of any length is a few binary searches per force, whatever
the region's size. Pure code of the case facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sortedcontainers import SortedList

from policies.case_facts import CaseFacts

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

Change = Callable[[SortedList[Any], Any], None]


@dataclass(frozen=True)
class ForceActivity:
    force: str
    received: int
    enforcements: dict[str, int]  # by method, every one of METHODS
    outcomes: dict[str, int]  # by kind, every one of OUTCOME_KINDS
    resolved: int

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

    def apply(self, fact: CaseFacts, change: Change) -> None:
        """Add (or drop, as `change` does) the fact's dated events."""
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
        )
