"""The referral projection fits a force's own growth: a force whose referrals double in a year is
projected to double again, not to grow by the same number each month (issue 22: 10 -> 20 a month
projected at 30.9 by a straight line, about 40 by its growth)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.oversight import trend
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

FORCES = """{ oversight { forces { force monthlyReferrals { month count } growthPerMonth
  projection { month count } projectionBand { month low high } } } }"""


def months_back(now: datetime, count: int) -> list[datetime]:
    """The 15th of each of the `count` months before this one, oldest first."""
    first = now.replace(day=15, hour=12, minute=0, second=0, microsecond=0)
    months = []
    for _ in range(count):
        first = (first.replace(day=1) - timedelta(days=1)).replace(day=15)
        months.append(first)
    return months[::-1]


def doubling(months: int) -> list[int]:
    """10 a month growing to 20 a year later."""
    return [round(10 * 2 ** (n / 12)) for n in range(months)]


def test_a_series_that_doubles_in_a_year_is_projected_to_double_again() -> None:
    counts = doubling(13)
    monthly = [(f"2025-{n + 1:02d}", c) for n, c in enumerate(counts[:12])] + [("2026-01", 20)]
    fitted = trend(monthly)
    assert fitted is not None
    month, projected = fitted.projection[-1]
    assert month == "2027-01"
    assert 36 <= projected <= 44  # 20 doubled; a straight line gives under 31
    assert 0.05 <= fitted.growth_per_month <= 0.065  # 2 ** (1 / 12) - 1 = 0.059
    _, low, high = fitted.band[-1]
    assert low < 40 < high and high - low < 60
    widths = [high - low for _, low, high in fitted.band]
    assert widths == sorted(widths), "the further ahead, the wider the band"


def test_a_steady_force_is_projected_flat_and_zero_months_are_data() -> None:
    steady = trend([(f"2025-{n + 1:02d}", 12) for n in range(12)])
    assert steady is not None
    assert all(abs(count - 12) < 1e-6 for _, count in steady.projection)
    quiet = trend([("2025-01", 0), ("2025-02", 4), ("2025-03", 0), ("2025-04", 0)])
    assert quiet is not None
    assert all(count >= 0 for _, count in quiet.projection)
    assert all(0 <= low <= count <= high for (_, count), (_, low, high) in
               zip(quiet.projection, quiet.band, strict=True))  # fmt: skip
    assert trend([("2025-01", 3)]) is None


async def test_the_projection_of_synced_referrals_follows_their_growth(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    counts = doubling(13)
    records: list[dict[str, Any]] = []
    for month, count in zip(months_back(now, 13), counts, strict=True):
        for _ in range(count):
            days = (now - month).total_seconds() / 86400
            records.append(summary("AS", len(records), received_days_ago=days, now=now))
    await sync_all(hub, records)
    (row,) = (await data(hub, "coordinator", FORCES))["oversight"]["forces"]
    assert [m["count"] for m in row["monthlyReferrals"]] == counts
    projected = row["projection"][-1]["count"]
    assert 36 <= projected <= 44
    band = row["projectionBand"][-1]
    assert band["low"] < projected < band["high"]
    assert abs(row["growthPerMonth"] - (2 ** (1 / 12) - 1)) < 0.01
