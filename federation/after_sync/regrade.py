"""Regrade alerts: the signs that a LOW or MEDIUM open case may be graded too low. The after-sync
step feeds them to the change feed; the gateway lists them (`regradeAlerts`)."""

from __future__ import annotations

from policies.case_facts import HIGH_RISK, CaseFacts

REGRADABLE = frozenset({"LOW", "MEDIUM"})


def regrade_reasons(case: CaseFacts) -> list[str]:
    """Why a LOW or MEDIUM open case may be graded too low; empty when there is no sign."""
    if case.risk_level not in REGRADABLE or not case.open:
        return []
    reasons = []
    if case.access_to_children:
        reasons.append("suspect has access to children")
    if case.media_a:
        reasons.append(f"category A media ({case.media_a})")
    if case.contact_abuse_indicated:
        reasons.append("contact abuse indicated")
    if case.grooming_indicated:
        reasons.append("grooming indicated")
    if case.victim_in_contact:
        reasons.append("a victim is in contact with the suspect")
    for key in case.linked_high:
        force, _, case_ref = key.partition(":")
        reasons.append(f"linked to {force} case {case_ref}, graded high risk")
    return reasons


def regrade_rank(case: CaseFacts) -> tuple[int, str, str] | None:
    """Where a case's regrade alert goes, most signs first, then by force and case reference;
    None when the case raises none."""
    signs = len(regrade_reasons(case))
    return (-signs, case.force, case.case_ref) if signs else None


def is_high(risk_level: str) -> bool:
    return risk_level in HIGH_RISK
