"""How concerning an open case is, and why: the priority score.

The score is a sum of named parts, each with its reason, so an analyst can see what put a case
at the top. The weights are the case rules' `priority` section (`case_rules.yaml`; docs/priority.md
says why), read from the rules each fact carries. Links to other forces' cases are counted at
sync (federation/after_sync/link_counts.py), up to the rules' `links.counted`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import Capped, CaseRules

# What each part of the score is, for filtering the queue by why a case is there.
RISK = "RISK"
WAITING = "WAITING"
PAST_TARGET = "PAST_TARGET"
ACCESS_TO_CHILDREN = "ACCESS_TO_CHILDREN"
MEDIA = "MEDIA"
UNIDENTIFIED_VICTIMS = "UNIDENTIFIED_VICTIMS"
IDENTIFIED_VICTIMS = "IDENTIFIED_VICTIMS"
VICTIM_IN_CONTACT = "VICTIM_IN_CONTACT"
CONTACT_ABUSE = "CONTACT_ABUSE"
GROOMING = "GROOMING"
REGISTERED_SEX_OFFENDER = "REGISTERED_SEX_OFFENDER"
LINKED_CASES = "LINKED_CASES"
CODES = (
    RISK, WAITING, PAST_TARGET, ACCESS_TO_CHILDREN, MEDIA, UNIDENTIFIED_VICTIMS,
    IDENTIFIED_VICTIMS, VICTIM_IN_CONTACT, CONTACT_ABUSE, GROOMING, REGISTERED_SEX_OFFENDER,
    LINKED_CASES,
)  # fmt: skip


@dataclass(frozen=True)
class Part:
    points: float
    code: str
    reason: str  # empty where the caller asked for points only


@dataclass(frozen=True)
class Scored:
    facts: CaseFacts
    score: float
    reasons: tuple[str, ...]
    codes: tuple[str, ...] = ()


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def base_parts(case: CaseFacts, now_ms: int, *, explain: bool = True) -> list[Part]:
    """Every part of the score except cross-force links, with its reason (left empty without
    `explain`: ranking thousands of cases needs only the points)."""
    weights = case.rules.priority
    parts = [Part(weights.risk[case.risk_level], RISK, f"graded {case.risk_level}")]
    if case.awaiting_enforcement():
        parts.append(_waiting(case, now_ms, explain))
    if case.access_to_children:
        parts.append(
            Part(weights.access_to_children, ACCESS_TO_CHILDREN, "suspect has access to children")
        )
    for category, count in (("A", case.media_a), ("B", case.media_b), ("C", case.media_c)):
        if count:
            reason = f"category {category} media ({count})" if explain else ""
            parts.append(Part(weights.media[category], MEDIA, reason))
            break
    if case.victims_unidentified:
        points = _capped(weights.unidentified_victims, case.victims_unidentified)
        reason = _plural(case.victims_unidentified, "unidentified victim") if explain else ""
        parts.append(Part(points, UNIDENTIFIED_VICTIMS, reason))
    if case.victims_identified:
        points = _capped(weights.identified_victims, case.victims_identified)
        reason = _plural(case.victims_identified, "identified victim") if explain else ""
        parts.append(Part(points, IDENTIFIED_VICTIMS, reason))
    if case.victim_in_contact:
        reason = "a victim is in contact with the suspect"
        parts.append(Part(weights.victim_in_contact, VICTIM_IN_CONTACT, reason))
    if case.contact_abuse_indicated:
        parts.append(Part(weights.contact_abuse, CONTACT_ABUSE, "contact abuse indicated"))
    if case.grooming_indicated:
        parts.append(Part(weights.grooming, GROOMING, "grooming indicated"))
    if case.registered_sex_offender and weights.registered_sex_offender:
        reason = "suspect is a registered sex offender"
        parts.append(Part(weights.registered_sex_offender, REGISTERED_SEX_OFFENDER, reason))
    return parts


def _waiting(case: CaseFacts, now_ms: int, explain: bool) -> Part:
    """Up to `at_target` as the target nears; past it, `per_doubling` more for each doubling of
    the time waited, at most `cap` (case rules)."""
    weights = case.rules.priority.waiting
    waited = max(0, now_ms - case.received_at) / DAY_MS
    share = waited / case.target_days
    if share <= 1:
        points = weights.at_target * share
        reason = f"waiting {waited:.1f} of {case.target_days} days to enforcement"
        return Part(min(weights.cap, points), WAITING, reason if explain else "")
    points = weights.at_target + weights.per_doubling * math.log2(share)
    reason = f"{waited - case.target_days:.1f} days past its {case.target_days}-day target"
    return Part(min(weights.cap, points), PAST_TARGET, reason if explain else "")


def _capped(weight: Capped, count: int) -> float:
    return min(weight.cap, weight.each * count)


def link_part(linked_cases: int, rules: CaseRules) -> Part | None:
    if not linked_cases:
        return None
    points = _capped(rules.priority.linked_cases, linked_cases)
    if linked_cases >= rules.links_counted:
        reason = f"linked to {rules.links_counted} or more cases in other forces"
    else:
        reason = f"linked to {_plural(linked_cases, 'case')} in other forces"
    return Part(points, LINKED_CASES, reason)


def most_waiting_points(rules: CaseRules) -> float:
    """The most the waiting part can add: what a case ranked by its points without waiting time
    can gain at most."""
    return rules.priority.waiting.cap


def _parts(case: CaseFacts, now_ms: int, *, explain: bool = True) -> list[Part]:
    parts = base_parts(case, now_ms, explain=explain)
    link = link_part(case.linked_cases, case.rules)
    if link is not None:
        parts.append(link)
    return parts


def score(case: CaseFacts, now_ms: int) -> Scored:
    parts = _parts(case, now_ms)
    return Scored(case, _total(parts), tuple(p.reason for p in parts), tuple(p.code for p in parts))


def codes(case: CaseFacts, now_ms: int) -> set[str]:
    """Why the case is in the queue: the codes of its score's parts."""
    return {p.code for p in _parts(case, now_ms, explain=False)}


def points(case: CaseFacts, now_ms: int) -> float:
    """`score(...).score`, without writing the reasons."""
    return _total(_parts(case, now_ms, explain=False))


def static_points(case: CaseFacts) -> float:
    """The score without waiting time, fixed until the case or its links change: the score as
    it would be on the day of referral."""
    return sum(p.points for p in _parts(case, case.received_at, explain=False))


def _total(parts: list[Part]) -> float:
    return round(sum(p.points for p in parts), 2)


def rank(facts: Iterable[CaseFacts], now_ms: int, first: int, *, offset: int = 0) -> list[Scored]:
    """The most concerning cases from `offset` on, `first` of them, highest score first (ties:
    longest waiting first). Every case is scored by its points; only those returned are
    explained."""
    ordered = sorted(facts, key=lambda c: (-points(c, now_ms), c.received_at, c.key))
    return [score(c, now_ms) for c in ordered[offset : offset + first]]


Accept = Callable[[CaseFacts], bool]
