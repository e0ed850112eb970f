"""Oversight figures now and of a period are one implementation: a period covering every case
gives the figures asked for now, both equal to the contract's definitions computed here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, sync_all
from tests.gateway.test_graphql_oversight import expected_figures, region

FIGURES = "open pastTarget enforcedWithinTargetShare medianDaysToEnforcement"
NOW_AND_PERIOD = f"""
{{ now: oversight {{ byForce {{ force riskLevel {FIGURES} }} }}
   period: oversight(filter: {{receivedFrom: "2000-01-01T00:00:00Z",
                                receivedBefore: "2100-01-01T00:00:00Z"}}) {{
     byForce {{ force riskLevel {FIGURES} }} }} }}
"""


def by_group(rows: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["force"], r["riskLevel"]): {k: r[k] for k in list(r)[2:]} for r in rows}


def assert_figures(got: dict[tuple[str, str], Any], expected: dict[tuple[str, str], Any]) -> None:
    assert set(got) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            if isinstance(value, float):
                assert abs(got[key][name] - value) < 1e-6, (key, name)
            else:
                assert got[key][name] == value, (key, name)


async def test_figures_of_a_period_covering_every_case_are_the_figures_now(hub: Hub) -> None:
    now = datetime.now(UTC)
    records = region(23, now)
    await sync_all(hub, records)
    answer = await data(hub, "coordinator", NOW_AND_PERIOD)
    expected = expected_figures(records, now)
    assert_figures(by_group(answer["now"]["byForce"]), expected)
    assert_figures(by_group(answer["period"]["byForce"]), expected)
    assert answer["now"]["byForce"] == answer["period"]["byForce"]
