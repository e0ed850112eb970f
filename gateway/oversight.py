"""Figures for regional coordinators, computed from case facts: counts, shares, delays, trends.

Pure functions of the facts and "now", so every figure can be checked against an independent
calculation. Days are fractional days from referral receipt.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

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


def risk_figures(facts: Iterable[CaseFacts], now_ms: int) -> list[RiskFigures]:
    groups: dict[tuple[str, str], list[CaseFacts]] = defaultdict(list)
    for fact in facts:
        groups[(fact.force, fact.risk_level)].append(fact)
    return [
        _risk_row(force, risk, cases, now_ms) for (force, risk), cases in sorted(groups.items())
    ]


def _risk_row(force: str, risk: str, cases: list[CaseFacts], now_ms: int) -> RiskFigures:
    row = RiskFigures(force, risk, cases=len(cases))
    row.open = sum(1 for c in cases if c.open)
    awaiting = [c for c in cases if c.awaiting_enforcement()]
    row.past_target = sum(1 for c in awaiting if c.due_at < now_ms)
    row.due_soon = sum(1 for c in awaiting if now_ms <= c.due_at <= now_ms + DUE_SOON_MS)
    row.backlog_by_age = dict(Counter(age_band(now_ms - c.received_at) for c in awaiting))
    enforced = [(c.days_to_enforcement() or 0.0, c.target_days) for c in cases if c.enforcement_at]
    if enforced:
        row.enforced_within_target_share = sum(d <= t for d, t in enforced) / len(enforced)
        days = [d for d, _ in enforced]
        row.median_days_to_enforcement = statistics.median(days)
        row.p90_days_to_enforcement = percentile(days, 0.9)
    return row


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


@dataclass
class Trend:
    """Referrals per month fitted by least squares: the monthly change and 12 months ahead."""

    per_month: float
    projection: list[tuple[str, float]]


def trend(monthly: Sequence[tuple[str, int]], ahead: int = 12) -> Trend | None:
    if len(monthly) < 2:
        return None
    xs = list(range(len(monthly)))
    ys = [count for _, count in monthly]
    slope, intercept = statistics.linear_regression(xs, ys)
    months = next_months(monthly[-1][0], ahead)
    projection = [(m, max(0.0, intercept + slope * (len(xs) + i))) for i, m in enumerate(months)]
    return Trend(per_month=slope, projection=projection)


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


def force_figures(facts: Iterable[CaseFacts], now_ms: int) -> list[ForceFigures]:
    groups: dict[str, list[CaseFacts]] = defaultdict(list)
    for fact in facts:
        groups[fact.force].append(fact)
    return [_force_row(force, cases, now_ms) for force, cases in sorted(groups.items())]


def _force_row(force: str, cases: list[CaseFacts], now_ms: int) -> ForceFigures:
    by_source = Counter((month_of(c.received_at), c.source) for c in cases)
    totals = Counter(month_of(c.received_at) for c in cases)
    months = months_between(min(totals), max(totals))
    monthly = [(m, totals.get(m, 0)) for m in months]
    since = now_ms - ACTIVITY_DAYS * DAY_MS
    idle_since = now_ms - INACTIVE_DAYS * DAY_MS
    devices: Counter[str] = Counter()
    for c in cases:
        if c.devices_unexamined and c.oldest_unexamined_seized_at is not None:
            devices[age_band(now_ms - c.oldest_unexamined_seized_at)] += c.devices_unexamined
    safeguarding = [
        (c.first_safeguarding_at - c.received_at) / DAY_MS
        for c in cases
        if c.first_safeguarding_at is not None
    ]
    return ForceFigures(
        force=force,
        referrals_by_month=sorted((m, s, n) for (m, s), n in by_source.items()),
        monthly_totals=monthly,
        trend=trend(monthly),
        new_cases_28_days=sum(1 for c in cases if since <= c.received_at <= now_ms),
        enforcements_28_days=sum(
            1 for c in cases if c.enforcement_at is not None and since <= c.enforcement_at <= now_ms
        ),
        inactive_30_days=sum(1 for c in cases if c.open and _last_activity(c) < idle_since),
        devices_awaiting_examination=dict(devices),
        median_days_to_first_safeguarding=(
            statistics.median(safeguarding) if safeguarding else None
        ),
    )


def _last_activity(case: CaseFacts) -> int:
    return case.last_activity_at or case.opened_at or case.received_at


def views_avoided(facts: Iterable[CaseFacts]) -> dict[str, int]:
    """Per force, the image views its officers need not make (counted at sync), where any."""
    counts: Counter[str] = Counter()
    for fact in facts:
        counts[fact.force] += fact.views_avoided
    return {force: count for force, count in sorted(counts.items()) if count}
