"""Regrade alerts: the signs that an open case of a regradable level (LOW or MEDIUM by default)
may be graded too low. Which levels, which signs and how severe each is are the case rules'
`regrade` section, read from the rules each fact carries. The after-sync step feeds the alerts to
the change feed; the gateway lists them (`regradeAlerts`)."""

from __future__ import annotations

from policies.case_facts import CaseFacts


def _signs(case: CaseFacts) -> list[tuple[str, str]]:
    """The case's signs of higher risk: (sign, reason), whatever their severity."""
    signs = []
    if case.access_to_children:
        signs.append(("access_to_children", "suspect has access to children"))
    if case.media_a:
        signs.append(("category_a_media", f"category A media ({case.media_a})"))
    if case.contact_abuse_indicated:
        signs.append(("contact_abuse", "contact abuse indicated"))
    if case.grooming_indicated:
        signs.append(("grooming", "grooming indicated"))
    if case.victim_in_contact:
        signs.append(("victim_in_contact", "a victim is in contact with the suspect"))
    for key in case.linked_high:
        force, _, case_ref = key.partition(":")
        signs.append(("linked_high_risk", f"linked to {force} case {case_ref}, graded high risk"))
    return signs


def _raised(case: CaseFacts) -> list[tuple[int, str]]:
    """The signs the rules count for this case: (severity, reason), severity above 0."""
    regrade = case.rules.regrade
    if case.risk_level not in regrade.levels or not case.open:
        return []
    raised = [(regrade.severity(sign), reason) for sign, reason in _signs(case)]
    return [(severity, reason) for severity, reason in raised if severity > 0]


def regrade_reasons(case: CaseFacts) -> list[str]:
    """Why an open case of a regradable level may be graded too low; empty when there is no
    sign."""
    return [reason for _, reason in _raised(case)]


def regrade_rank(case: CaseFacts) -> tuple[int, str, str] | None:
    """Where a case's regrade alert goes, most severe signs first, then by force and case
    reference; None when the case raises none."""
    severity = sum(severity for severity, _ in _raised(case))
    return (-severity, case.force, case.case_ref) if severity else None
