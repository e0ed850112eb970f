"""How concerning an open case is, and why: the priority score.

The score is a sum of named parts, each with its reason, so an analyst can see what put a case
at the top. The weights are the case rules' `priority` section (`case_rules.yaml`; docs/priority.md
says why), read from the rules each fact carries. Links to other forces' cases are counted at
sync (federation/after_sync/link_counts.py), up to the rules' `links.counted`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import Capped, CaseRules


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
    weights = case.rules.priority
    parts = [(weights.risk[case.risk_level], f"graded {case.risk_level}" if explain else "")]
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
        parts.append((min(weights.waiting.cap, weights.waiting.at_target * share), reason))
    if case.access_to_children:
        parts.append((weights.access_to_children, "suspect has access to children"))
    for category, count in (("A", case.media_a), ("B", case.media_b), ("C", case.media_c)):
        if count:
            reason = f"category {category} media ({count})" if explain else ""
            parts.append((weights.media[category], reason))
            break
    if case.victims_unidentified:
        points = _capped(weights.unidentified_victims, case.victims_unidentified)
        reason = _plural(case.victims_unidentified, "unidentified victim") if explain else ""
        parts.append((points, reason))
    if case.victims_identified:
        points = _capped(weights.identified_victims, case.victims_identified)
        reason = _plural(case.victims_identified, "identified victim") if explain else ""
        parts.append((points, reason))
    if case.victim_in_contact:
        parts.append((weights.victim_in_contact, "a victim is in contact with the suspect"))
    if case.contact_abuse_indicated:
        parts.append((weights.contact_abuse, "contact abuse indicated"))
    if case.grooming_indicated:
        parts.append((weights.grooming, "grooming indicated"))
    return parts


def _capped(weight: Capped, count: int) -> float:
    return min(weight.cap, weight.each * count)


def link_part(linked_cases: int, rules: CaseRules) -> tuple[float, str] | None:
    if not linked_cases:
        return None
    points = _capped(rules.priority.linked_cases, linked_cases)
    if linked_cases >= rules.links_counted:
        return points, f"linked to {rules.links_counted} or more cases in other forces"
    return points, f"linked to {_plural(linked_cases, 'case')} in other forces"


def most_waiting_points(rules: CaseRules) -> float:
    """The most the waiting part can add: what a case ranked by its points without waiting time
    can gain at most."""
    return rules.priority.waiting.cap


def _parts(case: CaseFacts, now_ms: int, *, explain: bool = True) -> list[tuple[float, str]]:
    parts = base_parts(case, now_ms, explain=explain)
    link = link_part(case.linked_cases, case.rules)
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
