"""A force's figures at the end of each day, from case dates: the daily history coordinators read
(`oversight { history }`) and the snapshot the hub keeps of it (`gateway/history_keeper.py`).

At the end of day D (midnight UTC after it) a case is
- *open* when its referral was received before then and it was not resolved before then
  (resolved: the earlier of its outcome and its closing; a case closed without either date counts
  as closed from its last sync, the latest moment it is known to have been closed by);
- *awaiting enforcement* when open and no enforcement action was taken before then;
- *past target* when awaiting enforcement and its target (`targets` of the case rules, for the
  risk level in force then) had passed by then.
`received` and `resolved` count the cases whose referral, or resolution, falls in the day.

The graph keeps a case's current risk level and when it was assessed, not the levels before: on
a day that ended before the assessment, the level in force is not known (a case regraded from
low to high today was not past the high target while it was low). Such a case is counted past
target only when it had passed the longest target of any level, which it had whatever its level;
one that had passed the shortest but not the longest is counted in `past_target_unsure` instead,
so a day's past-target count lies between `past_target` and the sum of the two, and is exact
when `past_target_unsure` is 0.

Per force, each figure is a difference of counts in sorted lists of dates: the lists are built
once (an append per date, one sort), then a year of days costs a few binary searches per day
whatever the region's size. Pure code of the case facts.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from graph.force_days import ForceDay
from policies.case_facts import DAY_MS, CaseFacts


def day_start_ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def day_of(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last`, both included."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


_NEVER = 2**63  # the end of a span that has not ended


def _below(values: list[int], cut: int) -> int:
    return bisect.bisect_left(values, cut)


@dataclass
class _ForceDates:
    """One force's cases as the dates its daily figures count below a day's end: plain lists,
    appended to and then sorted once (`sort`), since the figures are asked of a finished set."""

    received: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    stopped_waiting: list[int] = field(default_factory=list)  # enforced or resolved
    # A case counts past target (or unsure) at the end of a day when the cut lies in one of its
    # spans (start, end]: the starts and the (finite) ends, each list counted below the cut.
    past_starts: list[int] = field(default_factory=list)
    past_ends: list[int] = field(default_factory=list)
    unsure_starts: list[int] = field(default_factory=list)
    unsure_ends: list[int] = field(default_factory=list)

    def add(self, fact: CaseFacts) -> None:
        received = fact.received_at
        self.received.append(received)
        resolved = _resolved_at(fact)
        if resolved is not None:
            resolved = resolved if resolved > received else received  # resolved on receipt
            self.resolved.append(resolved)
        enforced = fact.enforcement_at
        stopped: int | None = None
        if enforced is not None and (resolved is None or enforced < resolved):
            stopped = enforced if enforced > received else received
        elif resolved is not None:
            stopped = resolved
        if stopped is not None:
            self.stopped_waiting.append(stopped)
        self._add_past(fact, stopped)

    def _add_past(self, fact: CaseFacts, stopped: int | None) -> None:
        """The spans of cuts at which the case was awaiting enforcement past its target: under
        the longest target while its level was not known yet (cuts up to its assessment), under
        its own target after; and unsure while past the shortest target but not the longest."""
        targets = fact.rules.target_days.values()
        longest = fact.received_at + max(targets) * DAY_MS
        shortest = fact.received_at + min(targets) * DAY_MS
        known = fact.risk_assessed_at  # the level held now is in force at cuts after this
        end = _NEVER if stopped is None else stopped
        if known is None or known < fact.received_at:
            self._span(self.past_starts, self.past_ends, fact.due_at, end)
            return
        self._span(self.past_starts, self.past_ends, longest, min(known, end))
        self._span(self.past_starts, self.past_ends, max(known, fact.due_at), end)
        self._span(self.unsure_starts, self.unsure_ends, shortest, min(known, end, longest))

    @staticmethod
    def _span(starts: list[int], ends: list[int], start: int, end: int) -> None:
        if start < end:
            starts.append(start)
            if end != _NEVER:
                ends.append(end)

    def sort(self) -> None:
        for values in (
            self.received,
            self.resolved,
            self.stopped_waiting,
            self.past_starts,
            self.past_ends,
            self.unsure_starts,
            self.unsure_ends,
        ):
            values.sort()

    def at_end_of(self, force: str, day: date) -> ForceDay:
        start = day_start_ms(day)
        cut = start + DAY_MS
        received = _below(self.received, cut)
        # Cases whose span of being past target (or unsure) began before the cut and had not
        # ended before it.
        past = _below(self.past_starts, cut) - _below(self.past_ends, cut)
        unsure = _below(self.unsure_starts, cut) - _below(self.unsure_ends, cut)
        return ForceDay(
            force=force,
            day=day,
            open=received - _below(self.resolved, cut),
            past_target=past,
            past_target_unsure=unsure,
            awaiting_enforcement=received - _below(self.stopped_waiting, cut),
            received=received - _below(self.received, start),
            resolved=_below(self.resolved, cut) - _below(self.resolved, start),
        )


def _resolved_at(fact: CaseFacts) -> int | None:
    if fact.resolved_at is not None:
        return fact.resolved_at
    return None if fact.open else fact.synced_at or fact.received_at


def daily_figures(facts: Iterable[CaseFacts], days: Sequence[date]) -> list[ForceDay]:
    """For each force with a case among `facts`, its figures at the end of each of `days`
    received on or before that day, by force then day."""
    forces: dict[str, _ForceDates] = defaultdict(_ForceDates)
    for fact in facts:
        forces[fact.force].add(fact)
    rows: list[ForceDay] = []
    for force in sorted(forces):
        dates = forces[force]
        dates.sort()
        first = day_of(dates.received[0])
        rows.extend(dates.at_end_of(force, day) for day in days if day >= first)
    return rows


def first_day(facts: Iterable[CaseFacts]) -> date | None:
    """The day the earliest referral among `facts` was received."""
    earliest = min((fact.received_at for fact in facts), default=None)
    return None if earliest is None else day_of(earliest)
