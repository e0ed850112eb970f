"""Regrade alerts: open LOW and MEDIUM cases whose facts, links counted at sync included, carry
signs of higher risk (federation/after_sync/regrade.py)."""

from __future__ import annotations

from collections.abc import Iterable

import strawberry

from federation.after_sync import regrade
from gateway.graphql.types import RiskLevel
from policies.case_facts import CaseFacts


@strawberry.type(description="A case graded LOW or MEDIUM that carries signs of higher risk.")
class RegradeAlert:
    force: str
    case_ref: str
    risk_level: RiskLevel
    reasons: list[str]

    @classmethod
    def of(cls, fact: CaseFacts) -> RegradeAlert:
        return cls(
            force=fact.force,
            case_ref=fact.case_ref,
            risk_level=RiskLevel(fact.risk_level),
            reasons=regrade.regrade_reasons(fact),
        )


def alerted(facts: Iterable[CaseFacts]) -> list[CaseFacts]:
    """The cases of these with signs of higher risk, most signs first (the order the region's
    index keeps, for figures of a period counted afresh)."""
    ranked = [(rank, fact) for fact in facts if (rank := regrade.regrade_rank(fact))]
    return [fact for _, fact in sorted(ranked, key=lambda pair: pair[0])]
