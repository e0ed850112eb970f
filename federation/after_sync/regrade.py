"""Regrade alerts: the signs that an open case of a regradable level (LOW or MEDIUM by default)
may be graded too low. Which levels, which signs and how severe each is are the case rules'
`regrade` section, read from the rules each fact carries. The after-sync step feeds the alerts to
the change feed; the gateway lists them (`regradeAlerts`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from policies.case_facts import CaseFacts
from policies.case_rules import LINK_SIGN

# The reason given for a linked high-risk case the reader may not know (docs/policies.md,
# "Records"): that such a link exists, not which case. The gateway's alerts say the same.
UNNAMED_HIGH = "linked to a case of another force, graded high risk"
_NAMED_HIGH = "linked to {force} case {case_ref}, graded high risk"

# Who may be told which case a reason names: given the owning force, whether the reader may
# know its cases (`RecordView.FULL`). By default, everyone (the feed's stored events).
Knows = Callable[[str], bool]


def _everyone(force: str) -> bool:
    return True


def linked_high_reason(key: str, knows: Knows = _everyone) -> str:
    """The reason naming a linked high-risk case, by its key, or the unnamed one for a reader
    who may not know it."""
    force, _, case_ref = key.partition(":")
    return _NAMED_HIGH.format(force=force, case_ref=case_ref) if knows(force) else UNNAMED_HIGH


def _signs(case: CaseFacts, knows: Knows) -> list[tuple[str, str]]:
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
    if case.registered_sex_offender:
        signs.append(("registered_sex_offender", "suspect is a registered sex offender"))
    if case.self_generated_imagery:
        signs.append(("self_generated_imagery", "self-generated imagery of a child"))
    for key in case.linked_high:
        signs.append(("linked_high_risk", linked_high_reason(key, knows)))
    return signs


def _raised(case: CaseFacts, knows: Knows = _everyone) -> list[tuple[str, int, str]]:
    """The signs the rules count for this case: (sign, severity, reason), severity above 0."""
    regrade = case.rules.regrade
    if case.risk_level not in regrade.levels or not case.open:
        return []
    raised = [(sign, regrade.severity(sign), reason) for sign, reason in _signs(case, knows)]
    return [(sign, severity, reason) for sign, severity, reason in raised if severity > 0]


def regrade_reasons(case: CaseFacts, knows: Knows = _everyone) -> list[str]:
    """Why an open case of a regradable level may be graded too low; empty when there is no
    sign. A linked case whose force `knows` says the reader may not know is not named."""
    return [reason for _, _, reason in _raised(case, knows)]


def reasons_told(reasons: Sequence[str], linked: Sequence[str] | None, knows: Knows) -> list[str]:
    """An alert's stored reasons as a reader may be told them: the reason naming a linked case
    (one of `linked`, the keys the alert was raised for) whose force the reader may not know
    says `UNNAMED_HIGH` instead. An alert stored without its keys (fed before they were kept)
    names no linked case to anyone: which force a stored text names is not read back from it."""
    if linked is None:
        unknown = {r for r in reasons if r.startswith("linked to ") and r != UNNAMED_HIGH}
    else:
        unknown = {linked_high_reason(key) for key in linked if not knows(key.partition(":")[0])}
    return [UNNAMED_HIGH if reason in unknown else reason for reason in reasons]


Rank = tuple[int, int, int, int, str, str]


def regrade_rank(case: CaseFacts) -> Rank | None:
    """Where a case's regrade alert goes, in the order of what matters (the case rules'
    `regrade`): the most severe child-safety signs first (the sum of their severities); among
    equals, the most severe links to other forces' high-risk cases, so that links raise a case
    but never above a stronger child-safety sign; then the longest waiting since referral; then
    the longest quiet (last activity, or referral receipt without one); then force and case
    reference. None when the case raises none. The order does not move with the clock, so the
    region's index keeps it sorted."""
    raised = _raised(case)
    if not raised:
        return None
    safety = sum(severity for sign, severity, _ in raised if sign != LINK_SIGN)
    links = sum(severity for sign, severity, _ in raised if sign == LINK_SIGN)
    quiet_since = case.last_activity_at or case.received_at
    return (-safety, -links, case.received_at, quiet_since, case.force, case.case_ref)
