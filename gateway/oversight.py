"""Figures for regional coordinators, computed from case facts: counts, shares, delays, trends.

Each figure has one implementation: a group's (`RiskGroup`, `ForceGroup`) sorted dates, asked at
"now". The region's index (`gateway/region_index.py`) keeps the groups of every case up to date;
figures of a period (`risk_figures`, `force_figures`) build the same groups from its facts.
Pure code of the facts and "now", so every figure can be checked against an independent
calculation. Days are fractional days from referral receipt.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sortedcontainers import SortedList

from gateway.activity import ActivityGroup, ForceActivity
from policies.case_facts import DAY_MS, CaseFacts

# Age bands of open cases awaiting enforcement (and of devices awaiting examination), in days.
AGE_BANDS: tuple[tuple[str, int, int | None], ...] = (
    ("0-7", 0, 7),
    ("8-14", 7, 14),
    ("15-30", 14, 30),
    ("31-90", 30, 90),
    ("91+", 90, None),
)
INACTIVE_DAYS = 30
ACTIVITY_DAYS = 28
DUE_SOON_MS = 48 * 3_600_000


def age_band(age_ms: int) -> str:
    days = age_ms / DAY_MS
    for label, low, high in AGE_BANDS:
        if days >= low and (high is None or days < high):
            return label
    return AGE_BANDS[0][0]  # a date a little in the future counts as new


def percentile(values: Sequence[float], share: float) -> float | None:
    """Linear interpolation between closest ranks (as Cypher's percentileCont)."""
    return percentile_of_sorted(sorted(values), share)


def median_of_sorted(ordered: Sequence[float]) -> float | None:
    """`statistics.median` of values already in order, without copying them."""
    if not ordered:
        return None
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def percentile_of_sorted(ordered: Sequence[float], share: float) -> float | None:
    """`percentile` of values already in order, without copying them."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class RiskFigures:
    force: str
    risk_level: str
    cases: int = 0
    open: int = 0
    past_target: int = 0
    due_soon: int = 0
    enforced_within_target_share: float | None = None
    median_days_to_enforcement: float | None = None
    p90_days_to_enforcement: float | None = None
    backlog_by_age: dict[str, int] = field(default_factory=dict)


def month_of(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def next_months(month: str, count: int) -> list[str]:
    year, mon = (int(x) for x in month.split("-"))
    out = []
    for _ in range(count):
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
        out.append(f"{year:04d}-{mon:02d}")
    return out


def months_between(first: str, last: str) -> list[str]:
    months = [first]
    while months[-1] < last:
        months.extend(next_months(months[-1], 1))
    return months


# The projection's band: 80% of months are expected inside it (the 10th to 90th percentile).
BAND_Z = statistics.NormalDist().inv_cdf(0.9)
FIT_ROUNDS = 50
PSEUDO_COUNT = 0.5
MAX_EXPONENT = 100.0  # e^100 referrals a month: beyond any force, and far from overflow


def _exp(value: float) -> float:
    return math.exp(min(value, MAX_EXPONENT))


@dataclass
class Trend:
    """Referrals per month fitted to the force's own growth, and the 12 months ahead.

    The fit is log-linear: a Poisson regression of the monthly counts on time with a log link,
    so a force whose referrals grow by a share each month is projected to keep growing by that
    share (a straight line would have it grow by a fixed number), and a quiet month of zero
    referrals is data, not a logarithm of nothing. Half a referral is added to every month before
    the fit (and taken off the projection), so that a series beginning or ending in zeros has a
    finite fit. `band` is an 80% prediction interval for each
    month ahead: the uncertainty of the fitted line and the months' own scatter about it
    (over-dispersion from the residuals, never less than Poisson's)."""

    per_month: float  # the fitted change from the last month to the next, in referrals
    growth_per_month: float  # the fitted share by which referrals grow each month
    projection: list[tuple[str, float]]
    band: list[tuple[str, float, float]]  # month, low, high


def _weighted_fit(
    xs: Sequence[float], zs: Sequence[float], ws: Sequence[float]
) -> tuple[float, float, tuple[float, float, float]]:
    """Weighted least squares of z on x: intercept, slope, and the inverse of X'WX as
    (c00, c01, c11)."""
    s0 = sum(ws)
    s1 = sum(w * x for w, x in zip(ws, xs, strict=True))
    s2 = sum(w * x * x for w, x in zip(ws, xs, strict=True))
    t0 = sum(w * z for w, z in zip(ws, zs, strict=True))
    t1 = sum(w * x * z for w, x, z in zip(ws, xs, zs, strict=True))
    det = s0 * s2 - s1 * s1
    slope = (s0 * t1 - s1 * t0) / det
    intercept = (t0 - s1 * slope) / s0
    return intercept, slope, (s2 / det, -s1 / det, s0 / det)


def trend(monthly: Sequence[tuple[str, int]], ahead: int = 12) -> Trend | None:
    if len(monthly) < 2:
        return None
    xs = [float(x) for x in range(len(monthly))]
    ys = [count + PSEUDO_COUNT for _, count in monthly]
    months = next_months(monthly[-1][0], ahead)
    # Start from least squares on the logarithms, then reweight (IRLS) to the Poisson fit.
    intercept, slope, _ = _weighted_fit(xs, [math.log(y) for y in ys], [1.0] * len(xs))
    for _ in range(FIT_ROUNDS):
        etas = [intercept + slope * x for x in xs]
        mus = [_exp(eta) for eta in etas]
        zs = [eta + (y - mu) / mu for eta, y, mu in zip(etas, ys, mus, strict=True)]
        new_intercept, new_slope, inverse = _weighted_fit(xs, zs, mus)
        done = abs(new_slope - slope) < 1e-10 and abs(new_intercept - intercept) < 1e-10
        intercept, slope = new_intercept, new_slope
        if done:
            break
    mus = [_exp(intercept + slope * x) for x in xs]
    _, _, inverse = _weighted_fit(xs, [0.0] * len(xs), mus)
    freedom = len(xs) - 2
    pearson = sum((y - mu) ** 2 / mu for y, mu in zip(ys, mus, strict=True))
    dispersion = max(1.0, pearson / freedom) if freedom > 0 else 1.0
    c00, c01, c11 = (dispersion * c for c in inverse)
    projection, band = [], []
    for i, month in enumerate(months):
        x = len(xs) + i
        mu = _exp(intercept + slope * x)
        spread = math.sqrt(mu * mu * (c00 + 2 * x * c01 + x * x * c11) + dispersion * mu)
        projected = max(0.0, mu - PSEUDO_COUNT)
        projection.append((month, projected))
        band.append((month, max(0.0, projected - BAND_Z * spread), projected + BAND_Z * spread))
    last = mus[-1] - PSEUDO_COUNT
    return Trend(
        per_month=projection[0][1] - last if projection else 0.0,
        growth_per_month=_exp(slope) - 1,
        projection=projection,
        band=band,
    )


@dataclass
class ForceFigures:
    force: str
    referrals_by_month: list[tuple[str, str, int]]  # month, source, count
    monthly_totals: list[tuple[str, int]]
    trend: Trend | None
    new_cases_28_days: int
    enforcements_28_days: int
    inactive_30_days: int
    devices_awaiting_examination: dict[str, int]
    median_days_to_first_safeguarding: float | None


# How a group's sorted dates change: one value added or dropped, or, for a group built at once,
# added aside and sorted in one go (`Bulk`).
Change = Callable[[SortedList[Any], Any], None]


def _add(values: SortedList[Any], value: Any) -> None:
    values.add(value)


def _drop(values: SortedList[Any], value: Any) -> None:
    values.discard(value)


class Bulk:
    """Adds for a group built at once: kept aside, then each list takes its values at once,
    sorted in one go, instead of one O(log n) insert at a time."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[SortedList[Any], list[Any]]] = {}

    def add(self, values: SortedList[Any], value: Any) -> None:
        pending = self._pending.get(id(values))
        if pending is None:
            pending = self._pending[id(values)] = (values, [])
        pending[1].append(value)

    def flush(self) -> None:
        for values, added in self._pending.values():
            values.update(added)
        self._pending.clear()


def change_for(sign: int, change: Change | None) -> Change:
    return change or (_add if sign > 0 else _drop)


def _between(values: SortedList[float], low: float, high: float) -> int:
    """How many values v with low <= v < high."""
    return int(values.bisect_left(high) - values.bisect_left(low))


def _bands(starts: SortedList[float], now: int) -> dict[str, int]:
    """Counts by age band (as `age_band`) of the dates in `starts`, aged at `now`. An age in
    [low, high) days is a start in (now - high days, now - low days]; the first band also takes
    dates a little in the future."""
    out = {}
    for label, low, high in AGE_BANDS:
        upper = float("inf") if low == 0 else now - low * DAY_MS
        lower = float("-inf") if high is None else now - high * DAY_MS
        count = starts.bisect_right(upper) - starts.bisect_right(lower)
        if count:
            out[label] = count
    return out


@dataclass
class RiskGroup:
    """One force's cases of one risk level, as the dates its figures count between, kept
    sorted: a figure is a few binary searches, and a case changes in O(log n)."""

    cases: int = 0
    open: int = 0
    # due_at, and received_at, of open cases awaiting enforcement
    due: SortedList[float] = field(default_factory=SortedList)
    waiting_since: SortedList[float] = field(default_factory=SortedList)
    days: SortedList[float] = field(default_factory=SortedList)  # to enforcement, enforced cases
    within_target: int = 0

    def apply(self, fact: CaseFacts, sign: int, change: Change | None = None) -> None:
        """Count `fact` in (`sign` +1) or out (-1) of the group."""
        change = change_for(sign, change)
        self.cases += sign
        self.open += sign if fact.open else 0
        if fact.awaiting_enforcement():
            change(self.due, fact.due_at)
            change(self.waiting_since, fact.received_at)
        days = fact.days_to_enforcement()
        if days is not None:
            change(self.days, days)
            self.within_target += sign if days <= fact.target_days else 0

    def figures(self, force: str, risk: str, now: int) -> RiskFigures:
        row = RiskFigures(force, risk, cases=self.cases, open=self.open)
        row.past_target = self.due.bisect_left(now)
        row.due_soon = _between(self.due, now, now + DUE_SOON_MS + 1)
        row.backlog_by_age = _bands(self.waiting_since, now)
        if self.days:
            row.enforced_within_target_share = self.within_target / len(self.days)
            row.median_days_to_enforcement = median_of_sorted(self.days)
            row.p90_days_to_enforcement = percentile_of_sorted(self.days, 0.9)
        return row


# Referrals by (month, source), monthly totals, and their trend (`ForceGroup._referral_figures`).
_ByMonth = tuple[list[tuple[str, str, int]], list[tuple[str, int]], "Trend | None"]


@dataclass
class ForceGroup:
    """One force's cases, as the dates its referral, activity and backlog figures count between."""

    referrals: Counter[tuple[str, str]] = field(default_factory=Counter)
    received: SortedList[float] = field(default_factory=SortedList)
    enforced: SortedList[float] = field(default_factory=SortedList)
    open_activity: SortedList[float] = field(default_factory=SortedList)
    # one entry per device awaiting examination
    seized: SortedList[float] = field(default_factory=SortedList)
    safeguarding_days: SortedList[float] = field(default_factory=SortedList)
    views_avoided: int = 0
    events: ActivityGroup = field(default_factory=ActivityGroup)  # for activity in a window
    _by_month: _ByMonth | None = field(default=None, repr=False, compare=False)

    def apply(self, fact: CaseFacts, sign: int, change: Change | None = None) -> None:
        change = change_for(sign, change)
        self.events.apply(fact, change)
        self.referrals[(month_of(fact.received_at), fact.source)] += sign
        self._by_month = None
        self.views_avoided += sign * fact.views_avoided
        change(self.received, fact.received_at)
        if fact.enforcement_at is not None:
            change(self.enforced, fact.enforcement_at)
        if fact.open:
            change(self.open_activity, fact.last_activity_at or fact.opened_at or fact.received_at)
        if fact.devices_unexamined and fact.oldest_unexamined_seized_at is not None:
            for _ in range(fact.devices_unexamined):
                change(self.seized, fact.oldest_unexamined_seized_at)
        if fact.first_safeguarding_at is not None:
            change(self.safeguarding_days, (fact.first_safeguarding_at - fact.received_at) / DAY_MS)

    def _referral_figures(self) -> _ByMonth:
        """Referrals by month and source, monthly totals and their trend: they change only
        with the referrals, so they are worked out once per change, not per request."""
        if self._by_month is None:
            by_source = sorted((m, s, n) for (m, s), n in self.referrals.items() if n)
            totals: Counter[str] = Counter()
            for month, _, count in by_source:
                totals[month] += count
            months = months_between(min(totals), max(totals)) if totals else []
            monthly = [(m, totals.get(m, 0)) for m in months]
            self._by_month = (by_source, monthly, trend(monthly))
        return self._by_month

    def figures(self, force: str, now: int) -> ForceFigures:
        by_source, monthly, fitted = self._referral_figures()
        since = now - ACTIVITY_DAYS * DAY_MS
        return ForceFigures(
            force=force,
            referrals_by_month=list(by_source),
            monthly_totals=list(monthly),
            trend=fitted,
            new_cases_28_days=_between(self.received, since, now + 1),
            enforcements_28_days=_between(self.enforced, since, now + 1),
            inactive_30_days=self.open_activity.bisect_left(now - INACTIVE_DAYS * DAY_MS),
            devices_awaiting_examination=_bands(self.seized, now),
            median_days_to_first_safeguarding=median_of_sorted(self.safeguarding_days),
        )

    def activity(self, force: str, low: int, high: int) -> ForceActivity:
        """What the force did in `[low, high)`, epoch milliseconds."""
        return self.events.activity(force, self.received, low, high)


def risk_groups(facts: Iterable[CaseFacts]) -> dict[tuple[str, str], RiskGroup]:
    """The facts' groups by force and risk level, built at once."""
    groups: dict[tuple[str, str], RiskGroup] = defaultdict(RiskGroup)
    bulk = Bulk()
    for fact in facts:
        groups[(fact.force, fact.risk_level)].apply(fact, +1, bulk.add)
    bulk.flush()
    return groups


def force_groups(facts: Iterable[CaseFacts]) -> dict[str, ForceGroup]:
    groups: dict[str, ForceGroup] = defaultdict(ForceGroup)
    bulk = Bulk()
    for fact in facts:
        groups[fact.force].apply(fact, +1, bulk.add)
    bulk.flush()
    return groups


def risk_figures(facts: Iterable[CaseFacts], now_ms: int) -> list[RiskFigures]:
    """A row per force and risk level with a case among `facts` (of a period, say): the same
    groups the region's index keeps up to date, built at once."""
    groups = risk_groups(facts)
    return [groups[key].figures(*key, now_ms) for key in sorted(groups)]


def force_figures(facts: Iterable[CaseFacts], now_ms: int) -> list[ForceFigures]:
    groups = force_groups(facts)
    return [groups[force].figures(force, now_ms) for force in sorted(groups)]


def activity(facts: Iterable[CaseFacts], low: int, high: int) -> list[ForceActivity]:
    """A row per force with a case among `facts`: what it did in `[low, high)`."""
    groups = force_groups(facts)
    return [groups[force].activity(force, low, high) for force in sorted(groups)]


def first_enforced(
    groups: Mapping[str, ForceGroup],
    forces: set[str],
    band: str,
    low: int,
    high: int,
    after: tuple[int, str] | None = None,
) -> Iterator[str]:
    """The keys of the forces' cases whose first enforcement action is in `[low, high)` after a
    wait in `band` (`activity.DELAY_BANDS`), earliest action first (ties by key), after the
    position `after` if given: each force's sorted list entered by a binary search, merged."""
    lists = [
        groups[force].events.first_enforced_after(band, low, high, after)
        for force in sorted(forces)
        if force in groups
    ]
    return (key for _, key in heapq.merge(*lists))


def first_enforced_count(
    groups: Mapping[str, ForceGroup], forces: set[str], band: str, low: int, high: int
) -> int:
    return sum(
        groups[force].events.first_enforced_count(band, low, high)
        for force in forces
        if force in groups
    )


def views_avoided(facts: Iterable[CaseFacts]) -> dict[str, int]:
    """Per force, the image views its officers need not make (counted at sync), where any."""
    groups = force_groups(facts)
    counts = {force: groups[force].views_avoided for force in sorted(groups)}
    return {force: count for force, count in counts.items() if count}
