"""The priority score, part by part."""

from __future__ import annotations

import math

import pytest

from gateway import priority
from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import default_case_rules

NOW = 1_800_000_000_000
RULES = default_case_rules()


def case(days_waiting: float = 1.0, **changes: object) -> CaseFacts:
    fields: dict[str, object] = {
        "key": "AS:1",
        "force": "AS",
        "case_ref": "1",
        "risk_level": "LOW",
        "status": "NEW",
        "open": True,
        "source": "NCA",
        "received_at": NOW - int(days_waiting * DAY_MS),
        "rules": RULES,
    }
    fields.update(changes)
    return CaseFacts(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "points", "reason"),
    [
        (case(risk_level="VERY_HIGH", enforcement_at=NOW), 40.0, "graded VERY_HIGH"),
        (case(risk_level="HIGH", enforcement_at=NOW), 30.0, "graded HIGH"),
        (case(risk_level="MEDIUM", enforcement_at=NOW), 15.0, "graded MEDIUM"),
        (case(enforcement_at=NOW), 5.0, "graded LOW"),
        (case(days_waiting=15), 5.0 + 5.0, "waiting 15.0 of 30 days to enforcement"),
        # Past the target: 10 more points for each doubling of the time waited, at most 40.
        (
            case(days_waiting=45),
            round(5.0 + 10.0 + 10 * math.log2(1.5), 2),
            "15.0 days past its 30-day target",
        ),
        (case(days_waiting=300), 5.0 + 40.0, "270.0 days past its 30-day target"),
        (case(enforcement_at=NOW, access_to_children=True), 20.0, "suspect has access to children"),
        (case(enforcement_at=NOW, media_a=2, media_c=5), 15.0, "category A media (2)"),
        (case(enforcement_at=NOW, media_b=1), 10.0, "category B media (1)"),
        (case(enforcement_at=NOW, media_c=1), 7.0, "category C media (1)"),
        (case(enforcement_at=NOW, victims_unidentified=1), 11.0, "1 unidentified victim"),
        (case(enforcement_at=NOW, victims_unidentified=9), 23.0, "9 unidentified victims"),
        (case(enforcement_at=NOW, victims_identified=2), 9.0, "2 identified victims"),
        (
            case(enforcement_at=NOW, victim_in_contact=True),
            15.0,
            "a victim is in contact with the suspect",
        ),
        (case(enforcement_at=NOW, contact_abuse_indicated=True), 13.0, "contact abuse indicated"),
        (case(enforcement_at=NOW, grooming_indicated=True), 13.0, "grooming indicated"),
        (
            case(enforcement_at=NOW, registered_sex_offender=True),
            13.0,
            "suspect is a registered sex offender",
        ),
    ],
)
def test_each_part_of_the_score_counts_and_names_its_reason(
    facts: CaseFacts, points: float, reason: str
) -> None:
    scored = priority.score(facts, NOW)
    assert scored.score == points
    assert reason in scored.reasons


def test_cross_force_links_add_up_to_a_cap() -> None:
    assert priority.score(case(enforcement_at=NOW, linked_cases=2), NOW).score == 5.0 + 8.0
    capped = priority.score(case(enforcement_at=NOW, linked_cases=7), NOW)
    assert capped.score == 5.0 + RULES.priority.linked_cases.cap
    assert "linked to 7 cases in other forces" in capped.reasons
    counted = priority.score(case(enforcement_at=NOW, linked_cases=RULES.links_counted), NOW)
    assert "linked to 20 or more cases in other forces" in counted.reasons


def test_static_points_are_the_score_on_the_day_of_referral() -> None:
    waiting = case(risk_level="MEDIUM", days_waiting=20, linked_cases=1)
    assert priority.static_points(waiting) == 15.0 + 4.0
    assert priority.points(waiting, NOW) > priority.static_points(waiting)


def test_rank_orders_by_score_then_longest_waiting() -> None:
    older = case(days_waiting=3, key="AS:older", enforcement_at=NOW)
    newer = case(days_waiting=1, key="AS:newer", enforcement_at=NOW)
    linked = case(days_waiting=1, key="AS:linked", enforcement_at=NOW, linked_cases=1)
    ranked = priority.rank([newer, older, linked], NOW, first=3)
    assert [s.facts.key for s in ranked] == ["AS:linked", "AS:older", "AS:newer"]


def test_waiting_points_keep_growing_past_the_target_up_to_the_cap() -> None:
    ages = [20, 30, 60, 120, 200]  # days, for a low-risk case's 30-day target
    scores = [priority.score(case(days_waiting=days), NOW).score for days in ages]
    assert scores == sorted(scores) and len(set(scores)) == len(scores)
    sixty_days = priority.score(case(days_waiting=60), NOW).score
    eighteen_months = priority.score(case(days_waiting=540), NOW).score
    assert eighteen_months - sixty_days == 20.0  # 20 at 60 days (one doubling), capped at 40
    assert priority.score(case(days_waiting=5000), NOW).score == 5.0 + RULES.priority.waiting.cap


def test_each_part_names_why_the_case_is_in_the_queue() -> None:
    scored = priority.score(case(days_waiting=45, access_to_children=True, media_a=1), NOW)
    assert scored.codes == ("RISK", "PAST_TARGET", "ACCESS_TO_CHILDREN", "MEDIA")
    assert priority.codes(case(days_waiting=2), NOW) == {"RISK", "WAITING"}
