"""What a synthetic region looks like: its forces, volumes and the shares every case draws from.

The shares are assumptions chosen to resemble what inspections describe (docs/region.md gives the
reasons); each can be overridden through `RegionParams`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

# The South West region the development identity provider knows comes first, then plausible
# codes for the other forces of England and Wales, up to 43.
FORCE_CODES: tuple[str, ...] = (
    "AS", "GL", "WI", "DC", "DO",
    "MP", "WM", "GM", "WY", "TV", "KT", "HA", "EX", "SX", "SR", "HT", "BD", "CB", "NF", "SF",
    "LI", "LE", "NH", "NT", "DB", "ST", "WK", "WR", "CH", "LA", "CU", "DU", "CV", "NY", "HU",
    "MY", "NB", "SY", "SW", "NW", "GW", "DP", "CL",
)  # fmt: skip
MIN_FORCES, MAX_FORCES = 5, len(FORCE_CODES)

# Relative size of each force (1.0: a force of about 1.1 million people, taking `monthly_base`
# referrals a month). Roughly in proportion to the population each force polices.
FORCE_WEIGHTS: dict[str, float] = {
    "AS": 1.5, "GL": 0.6, "WI": 0.7, "DC": 1.6, "DO": 0.7,
    "MP": 7.5, "WM": 2.6, "GM": 2.5, "WY": 2.0, "TV": 2.1, "KT": 1.6, "HA": 1.8, "EX": 1.6,
    "SX": 1.5, "SR": 1.0, "HT": 1.0, "BD": 0.6, "CB": 0.8, "NF": 0.8, "SF": 0.7, "LI": 0.7,
    "LE": 0.9, "NH": 0.7, "NT": 1.0, "DB": 0.9, "ST": 1.0, "WK": 0.5, "WR": 1.1, "CH": 0.9,
    "LA": 1.4, "CU": 0.4, "DU": 0.6, "CV": 0.5, "NY": 0.7, "HU": 0.8, "MY": 1.3, "NB": 1.3,
    "SY": 1.2, "SW": 1.2, "NW": 0.6, "GW": 0.5, "DP": 0.5, "CL": 0.1,
}  # fmt: skip

# Where referrals come from. NCMEC CyberTipline reports about UK users mostly reach forces
# packaged by the NCA, so the NCA dominates and NCMEC direct is small.
SOURCE_SHARES: dict[str, float] = {
    "NCA": 0.55,
    "CHILD_PROTECTION_SYSTEM": 0.12,
    "ROCU": 0.10,
    "INDUSTRY": 0.08,
    "NCMEC": 0.05,
    "OTHER_FORCE": 0.04,
    "PUBLIC": 0.04,
    "OTHER": 0.02,
}

# Risk grades as assessed (KIRAT) at receipt.
RISK_MIX: dict[str, float] = {"VERY_HIGH": 0.05, "HIGH": 0.25, "MEDIUM": 0.40, "LOW": 0.30}

# NPCC enforcement targets, in days from receipt of referral.
TARGET_DAYS: dict[str, int] = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}

# Of the cases that reach enforcement, the share enforced after the target: lower grades wait
# longer, as inspections found.
PAST_TARGET_SHARE: dict[str, float] = {"VERY_HIGH": 0.10, "HIGH": 0.20, "MEDIUM": 0.30, "LOW": 0.40}

RISK_LEVELS = tuple(RISK_MIX)


def _shares(name: str, shares: Mapping[str, float], allowed: tuple[str, ...]) -> None:
    unknown = set(shares) - set(allowed)
    if unknown:
        raise ValueError(f"{name}: unknown keys {sorted(unknown)}; allowed: {', '.join(allowed)}")
    if any(not (math.isfinite(v) and v >= 0) for v in shares.values()):
        raise ValueError(f"{name}: shares must be finite and not negative")
    if sum(shares.values()) <= 0:
        raise ValueError(f"{name}: at least one share must be positive")


def _rate(name: str, value: float) -> None:
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise ValueError(f"{name} must be between 0 and 1")


@dataclass(frozen=True)
class RegionParams:
    """A synthetic region; the same parameters always give the same cases, record for record."""

    seed: int = 7
    forces: int = 5  # 5..43; the first five are the South West region
    months: int = 12  # referrals are received over this many calendar months...
    start: date = date(2025, 10, 1)  # ...from this month (its first day, UTC)
    cases: int | None = None  # total cases; None: volumes follow monthly_base and growth
    monthly_base: float = 70.0  # referrals a month of a force of weight 1.0 in the first month
    monthly_growth: float = 0.066  # 6.6 % a month: the last of 12 months holds twice the first
    overlap: float = 0.03  # chance that a case's suspect/device/account/IP/image is another force's
    low_with_high_signs: float = 0.08  # share of LOW cases that carry high-risk signs
    series_share: float = 0.05  # share of cases holding images of a known image series
    media_per_case: float = 3.0  # mean number of media items listed in a case summary
    sources: Mapping[str, float] = field(default_factory=lambda: dict(SOURCE_SHARES))
    risk_mix: Mapping[str, float] = field(default_factory=lambda: dict(RISK_MIX))
    past_target: Mapping[str, float] = field(default_factory=lambda: dict(PAST_TARGET_SHARE))

    def __post_init__(self) -> None:
        if not MIN_FORCES <= self.forces <= MAX_FORCES:
            raise ValueError(f"forces must be between {MIN_FORCES} and {MAX_FORCES}")
        if not 1 <= self.months <= 120:
            raise ValueError("months must be between 1 and 120")
        if self.start.day != 1:
            raise ValueError("start must be the first day of a month")
        if self.start.year < 2000:
            raise ValueError("start must be in 2000 or later")
        if self.cases is not None and self.cases < 0:
            raise ValueError("cases must not be negative")
        if not (math.isfinite(self.monthly_base) and self.monthly_base >= 0):
            raise ValueError("monthly_base must not be negative")
        if not (math.isfinite(self.monthly_growth) and -0.5 <= self.monthly_growth <= 1):
            raise ValueError("monthly_growth must be between -0.5 and 1 (a share per month)")
        for name in ("overlap", "low_with_high_signs", "series_share"):
            _rate(name, getattr(self, name))
        if not (math.isfinite(self.media_per_case) and 0 <= self.media_per_case <= 1000):
            raise ValueError("media_per_case must be between 0 and 1000")
        _shares("sources", self.sources, tuple(SOURCE_SHARES))
        _shares("risk_mix", self.risk_mix, RISK_LEVELS)
        unknown = set(self.past_target) - set(RISK_LEVELS)
        if unknown:
            raise ValueError(f"past_target: unknown risk levels {sorted(unknown)}")
        for level, share in self.past_target.items():
            _rate(f"past_target[{level}]", share)

    @property
    def force_codes(self) -> tuple[str, ...]:
        return FORCE_CODES[: self.forces]

    @property
    def end(self) -> datetime:
        """The instant the region is seen at: the first instant after the last month."""
        months = self.start.month - 1 + self.months
        return datetime(self.start.year + months // 12, months % 12 + 1, 1, tzinfo=UTC)


def recent_start(months: int, today: date | None = None) -> date:
    """The start month that makes `months` months end with the last complete month before
    `today` (default: the current UTC date), for a region that looks current."""
    today = today or datetime.now(UTC).date()
    index = today.year * 12 + today.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)
