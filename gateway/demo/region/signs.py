"""High-risk signs a case summary can carry whatever its grade (what inspections found missed
when cases were graded low)."""

from __future__ import annotations

from typing import Any

GROOMING_OR_CONTACT = frozenset(
    {"ONLINE_GROOMING", "SEXUAL_COMMUNICATION_WITH_CHILD", "SEXTORTION", "CONTACT_ABUSE_INDICATED"}
)
SIGNS = ("access-to-children", "category-a", "grooming-or-contact", "victim-in-contact")


def high_risk_signs(case: dict[str, Any]) -> list[str]:
    """The signs present: a suspect with access to children, category A media, contact abuse
    or grooming offences, a victim in contact with the suspect."""
    found = []
    if any(s.get("accessToChildren") for s in case.get("suspects") or []):
        found.append("access-to-children")
    if any(m.get("category") == "A" for m in case.get("media") or []):
        found.append("category-a")
    if GROOMING_OR_CONTACT.intersection(case.get("offences") or []):
        found.append("grooming-or-contact")
    if any(v.get("contactWith") for v in case.get("victims") or []):
        found.append("victim-in-contact")
    return found
