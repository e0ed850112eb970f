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
    # By default category A (4) and a victim in contact (5) outweigh grooming (4).
    assert [f.key for f in alerted(pair(RULES))] == ["AS:two", "AS:groomed"]
    text = DEFAULT_FILE.read_text().replace("    grooming: 4\n", "    grooming: 10\n")
    assert [f.key for f in alerted(pair(parse_case_rules(text)))] == ["AS:groomed", "AS:two"]


def test_registered_sex_offenders_and_self_generated_imagery_are_signs() -> None:
    assert regrade.regrade_reasons(case(registered_sex_offender=True)) == [
        "suspect is a registered sex offender"
    ]
    assert regrade.regrade_reasons(case(self_generated_imagery=True)) == [
        "self-generated imagery of a child"
    ]


def test_links_raise_a_case_but_never_above_a_child_safety_sign() -> None:
    five_links = tuple(f"GL:GL/{n}" for n in range(5))
    linked = case(key="AS:linked", case_ref="linked", linked_high=five_links)
    offender = case(key="AS:rso", case_ref="rso", registered_sex_offender=True)
    # However severe the links, the weakest child-safety sign comes first.
    strong_links = DEFAULT_FILE.read_text().replace("linked_high_risk: 2", "linked_high_risk: 90")
    for rules in (RULES, parse_case_rules(strong_links)):
        pair = [case(rules, **vars_of(linked)), case(rules, **vars_of(offender))]
        assert [f.key for f in alerted(pair)] == ["AS:rso", "AS:linked"]
    # Among cases of equal child-safety signs, links raise one above the other.
    alone = case(
        key="AS:alone", case_ref="alone", grooming_indicated=True, received_at=NOW - 9 * DAY_MS
    )
    joined = case(
        key="AS:joined", case_ref="joined", grooming_indicated=True, linked_high=("WI:1",)
    )
    assert [f.key for f in alerted([alone, joined])] == ["AS:joined", "AS:alone"]
    # The case: five high-risk links never outrank access to children, category A
    # media, grooming and a victim in contact.
    worst = case(key="AS:worst", case_ref="worst", access_to_children=True, media_a=2,
                 grooming_indicated=True, victim_in_contact=True)  # fmt: skip
    assert [f.key for f in alerted([linked, worst])] == ["AS:worst", "AS:linked"]


def test_equal_signs_rank_by_time_waiting_then_by_inactivity() -> None:
    old = case(key="AS:old", case_ref="old", grooming_indicated=True, received_at=NOW - 40 * DAY_MS)
    new = case(key="AS:new", case_ref="new", grooming_indicated=True, received_at=NOW - 2 * DAY_MS)
    quiet = case(key="AS:quiet", case_ref="quiet", grooming_indicated=True,
                 received_at=NOW - 2 * DAY_MS, last_activity_at=NOW - 2 * DAY_MS)  # fmt: skip
    busy = case(key="AS:busy", case_ref="busy", grooming_indicated=True,
                received_at=NOW - 2 * DAY_MS, last_activity_at=NOW - DAY_MS)  # fmt: skip
    assert [f.key for f in alerted([busy, new, quiet, old])] == [
        "AS:old", "AS:new", "AS:quiet", "AS:busy"
    ]  # fmt: skip


def vars_of(fact: CaseFacts) -> dict[str, object]:
    """The fields `case` was given for `fact`, to build it again under other rules."""
    return {
        "key": fact.key, "case_ref": fact.case_ref, "linked_high": fact.linked_high,
        "registered_sex_offender": fact.registered_sex_offender,
    }  # fmt: skip


def test_a_sign_of_severity_zero_raises_nothing() -> None:
    text = DEFAULT_FILE.read_text().replace("    grooming: 4\n", "    grooming: 0\n")
    quiet = case(parse_case_rules(text), grooming_indicated=True)
    assert regrade.regrade_reasons(quiet) == []
    assert regrade.regrade_rank(quiet) is None
