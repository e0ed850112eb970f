"""The per-force figures of the read model, kept between requests, follow each change."""

from __future__ import annotations

from gateway.region_index import RegionIndex
from policies.case_facts import DAY_MS, CaseFacts
from tests.gateway.test_open_lists import NOW, RULES, _fields


def test_force_figures_follow_each_change_of_the_referrals() -> None:
    """The referral months and trend are kept between requests: each change shows at once."""
    month = 31 * DAY_MS
    first = [
        CaseFacts(**{**_fields(_case(f"AS:{i}")), "received_at": NOW - (3 - i % 3) * month})
        for i in range(9)
    ]
    index = RegionIndex(first)
    before = index.force_figures(None, NOW)[0]
    assert sum(n for _, n in before.monthly_totals) == 9
    added = CaseFacts(**{**_fields(_case("AS:new")), "received_at": NOW - 6 * month})
    index.put(added)
    after = index.force_figures(None, NOW)[0]
    assert sum(n for _, n in after.monthly_totals) == 10
    assert len(after.monthly_totals) > len(before.monthly_totals)
    assert after.trend != before.trend
    index.remove("AS:new", added.seq)
    assert index.force_figures(None, NOW)[0].monthly_totals == before.monthly_totals


def _case(key: str) -> CaseFacts:
    return CaseFacts(
        key=key,
        force="AS",
        case_ref=key,
        risk_level="LOW",
        status="NEW",
        open=True,
        source="NCA",
        received_at=NOW,
        rules=RULES,
    )
