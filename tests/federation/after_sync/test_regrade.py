"""Regrade reasons, case by case, and the order of alerts by the severity of their signs."""

from __future__ import annotations

import pytest

from federation.after_sync import regrade
from gateway.graphql.alerts import alerted
from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import DEFAULTS as DEFAULT_FILE
from policies.case_rules import CaseRules, default_case_rules, parse_case_rules

NOW = 1_800_000_000_000
RULES = default_case_rules()


def case(rules: CaseRules = RULES, **changes: object) -> CaseFacts:
    fields: dict[str, object] = {
        "key": "AS:1",
        "force": "AS",
        "case_ref": "1",
        "risk_level": "LOW",
        "status": "NEW",
        "open": True,
        "source": "NCA",
        "received_at": NOW - DAY_MS,
        "rules": rules,
    }
    fields.update(changes)
    return CaseFacts(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("facts", "reasons"),
    [
        (case(), []),
        (case(access_to_children=True), ["suspect has access to children"]),
        (case(media_a=3), ["category A media (3)"]),
        (case(contact_abuse_indicated=True), ["contact abuse indicated"]),
        (case(grooming_indicated=True), ["grooming indicated"]),
        (case(victim_in_contact=True), ["a victim is in contact with the suspect"]),
        (case(risk_level="HIGH", access_to_children=True), []),  # already graded high
        (case(open=False, access_to_children=True), []),  # closed
        (case(risk_level="MEDIUM", media_b=4), []),  # category B is no sign on its own
    ],
)
def test_regrade_reasons(facts: CaseFacts, reasons: list[str]) -> None:
    assert regrade.regrade_reasons(facts) == reasons


def test_a_link_to_another_forces_high_case_is_a_regrade_reason() -> None:
    reasons = regrade.regrade_reasons(case(linked_high=("GL:GL/1", "WI:7")))
    assert reasons == [
        "linked to GL case GL/1, graded high risk",
        "linked to WI case 7, graded high risk",
    ]


def pair(rules: CaseRules) -> list[CaseFacts]:
    """A case with one sign (grooming) and a case with two (category A media, contact)."""
    return [
        case(rules, key="AS:groomed", case_ref="groomed", grooming_indicated=True),
        case(rules, key="AS:two", case_ref="two", media_a=1, victim_in_contact=True),
    ]


def test_alerts_with_the_most_severe_signs_come_first() -> None:
    # Every sign weighs 1 by default: two signs come before one.
    assert [f.key for f in alerted(pair(RULES))] == ["AS:two", "AS:groomed"]
    text = DEFAULT_FILE.read_text().replace("    grooming: 1\n", "    grooming: 5\n")
    assert [f.key for f in alerted(pair(parse_case_rules(text)))] == ["AS:groomed", "AS:two"]


def test_a_sign_of_severity_zero_raises_nothing() -> None:
    text = DEFAULT_FILE.read_text().replace("    grooming: 1\n", "    grooming: 0\n")
    quiet = case(parse_case_rules(text), grooming_indicated=True)
    assert regrade.regrade_reasons(quiet) == []
    assert regrade.regrade_rank(quiet) is None
