"""The oversight calculations themselves: percentiles, age bands, trend and projection."""

from __future__ import annotations

import statistics

from gateway import oversight
from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import default_case_rules

NOW = 1_800_000_000_000


def fact(received_days_ago: float, **changes: object) -> CaseFacts:
    fields: dict[str, object] = {
        "key": f"AS:{received_days_ago}",
        "force": "AS",
        "case_ref": str(received_days_ago),
        "risk_level": "HIGH",
        "status": "NEW",
        "open": True,
        "source": "NCA",
        "received_at": NOW - int(received_days_ago * DAY_MS),
        "rules": default_case_rules(),
    }
    fields.update(changes)
    return CaseFacts(**fields)  # type: ignore[arg-type]


def test_percentile_interpolates_like_percentile_cont() -> None:
    assert oversight.percentile([1, 2, 3, 4], 0.5) == statistics.median([1, 2, 3, 4])
    assert oversight.percentile([10, 20, 30, 40, 50], 0.9) == 46.0
    assert oversight.percentile([], 0.9) is None


def test_age_bands_have_no_gaps() -> None:
    labels = [oversight.age_band(int(d * DAY_MS)) for d in (0, 6.9, 7, 14, 29.9, 30, 90, 400)]
    assert labels == ["0-7", "0-7", "8-14", "15-30", "15-30", "31-90", "91+", "91+"]


def test_due_soon_and_past_target_split_the_awaiting_cases() -> None:
    rows = oversight.risk_figures([fact(1), fact(6), fact(8), fact(9, enforcement_at=NOW)], NOW)
    (row,) = rows
    assert (row.open, row.past_target, row.due_soon) == (4, 1, 1)
    assert row.backlog_by_age == {"0-7": 2, "8-14": 1}


def test_trend_fits_growth_and_projects_twelve_months() -> None:
    monthly = [(f"2026-{m:02d}", round(70 * 1.06 ** (m - 1))) for m in range(1, 13)]
    fitted = oversight.trend(monthly)
    assert fitted is not None
    assert abs(fitted.growth_per_month - 0.06) < 0.005
    assert [m for m, _ in fitted.projection][:2] == ["2027-01", "2027-02"]
    assert len(fitted.projection) == 12
    assert abs(fitted.projection[0][1] - 70 * 1.06**12) < 3
    assert abs(fitted.per_month - (fitted.projection[0][1] - 70 * 1.06**11)) < 3


def test_force_figures_count_activity_inactivity_and_safeguarding() -> None:
    cases = [
        fact(3, enforcement_at=NOW - DAY_MS),
        fact(40, last_activity_at=NOW - 35 * DAY_MS, first_safeguarding_at=NOW - 38 * DAY_MS),
        fact(50, open=False, status="CLOSED"),
        fact(60, devices_unexamined=2, oldest_unexamined_seized_at=NOW - 45 * DAY_MS,
             last_activity_at=NOW - DAY_MS),
    ]  # fmt: skip
    (row,) = oversight.force_figures(cases, NOW)
    assert (row.new_cases_28_days, row.enforcements_28_days) == (1, 1)
    assert row.inactive_30_days == 1
    assert row.devices_awaiting_examination == {"31-90": 2}
    assert row.median_days_to_first_safeguarding == 2.0
