"""How concerning an open case is, and why: the priority score.

The score is a sum of named parts, each with its reason, so an analyst can see what put a case
at the top (docs/priority.md explains the weights). Links to other forces' cases are counted at
sync (federation/after_sync/link_counts.py) and add at most `LINK_CAP`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from federation.after_sync.link_counts import LINKS_COUNTED
from policies.case_facts import DAY_MS, CaseFacts

RISK_POINTS = {"VERY_HIGH": 40.0, "HIGH": 30.0, "MEDIUM": 15.0, "LOW": 5.0}
WAITING_CAP = 20.0  # 10 points at the target, 20 at twice the target and beyond
CHILDREN_POINTS = 15.0
MEDIA_POINTS = {"A": 10.0, "B": 5.0, "C": 2.0}
UNIDENTIFIED_POINTS, UNIDENTIFIED_CAP = 6.0, 18.0
IDENTIFIED_POINTS, IDENTIFIED_CAP = 2.0, 6.0
CONTACT_POINTS = 10.0
CONTACT_ABUSE_POINTS = 8.0
GROOMING_POINTS = 8.0
LINK_POINTS, LINK_CAP = 4.0, 20.0


@dataclass(frozen=True)
class Scored:
    facts: CaseFacts
    score: float
    reasons: tuple[str, ...]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def base_parts(case: CaseFacts, now_ms: int, *, explain: bool = True) -> list[tuple[float, str]]:
    """Every part of the score except cross-force links, with its reason (left empty without
    `explain`: ranking thousands of cases needs only the points)."""
    parts = [(RISK_POINTS[case.risk_level], f"graded {case.risk_level}" if explain else "")]
    if case.awaiting_enforcement():
        waited = max(0, now_ms - case.received_at) / DAY_MS
        share = waited / case.target_days
        reason = ""
        if explain:
            reason = (
                f"{waited - case.target_days:.1f} days past its {case.target_days}-day target"
                if share > 1
                else f"waiting {waited:.1f} of {case.target_days} days to enforcement"
            )
        parts.append((min(WAITING_CAP, 10.0 * share), reason))
    if case.access_to_children:
        parts.append((CHILDREN_POINTS, "suspect has access to children"))
    for category, count in (("A", case.media_a), ("B", case.media_b), ("C", case.media_c)):
        if count:
            reason = f"category {category} media ({count})" if explain else ""
            parts.append((MEDIA_POINTS[category], reason))
            break
    if case.victims_unidentified:
        points = min(UNIDENTIFIED_CAP, UNIDENTIFIED_POINTS * case.victims_unidentified)
        reason = _plural(case.victims_unidentified, "unidentified victim") if explain else ""
        parts.append((points, reason))
    if case.victims_identified:
        points = min(IDENTIFIED_CAP, IDENTIFIED_POINTS * case.victims_identified)
        reason = _plural(case.victims_identified, "identified victim") if explain else ""
        parts.append((points, reason))
    if case.victim_in_contact:
        parts.append((CONTACT_POINTS, "a victim is in contact with the suspect"))
    if case.contact_abuse_indicated:
        parts.append((CONTACT_ABUSE_POINTS, "contact abuse indicated"))
    if case.grooming_indicated:
        parts.append((GROOMING_POINTS, "grooming indicated"))
    return parts


def link_part(linked_cases: int) -> tuple[float, str] | None:
    if not linked_cases:
        return None
    points = min(LINK_CAP, LINK_POINTS * linked_cases)
    if linked_cases >= LINKS_COUNTED:
        return points, f"linked to {LINKS_COUNTED} or more cases in other forces"
    return points, f"linked to {_plural(linked_cases, 'case')} in other forces"


def _parts(case: CaseFacts, now_ms: int, *, explain: bool = True) -> list[tuple[float, str]]:
    parts = base_parts(case, now_ms, explain=explain)
    link = link_part(case.linked_cases)
    if link is not None:
        parts.append(link)
    return parts


def score(case: CaseFacts, now_ms: int) -> Scored:
    parts = _parts(case, now_ms)
    return Scored(case, _total(parts), tuple(reason for _, reason in parts))


def points(case: CaseFacts, now_ms: int) -> float:
    """`score(...).score`, without writing the reasons."""
    return _total(_parts(case, now_ms, explain=False))


def static_points(case: CaseFacts) -> float:
    """The score without waiting time, fixed until the case or its links change: the score as
    it would be on the day of referral."""
    return sum(points for points, _ in _parts(case, case.received_at, explain=False))


def _total(parts: list[tuple[float, str]]) -> float:
    return round(sum(points for points, _ in parts), 2)


def rank(facts: Iterable[CaseFacts], now_ms: int, first: int) -> list[Scored]:
    """The `first` most concerning cases, highest score first (ties: longest waiting first).
    Every case is scored by its points; only the `first` are explained."""
    ordered = sorted(facts, key=lambda c: (-points(c, now_ms), c.received_at, c.key))
    return [score(c, now_ms) for c in ordered[:first]]
