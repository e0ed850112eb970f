"""Regrade alerts: open LOW and MEDIUM cases whose facts, links counted at sync included, carry
signs of higher risk (federation/after_sync/regrade.py)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import strawberry

from federation.after_sync import regrade
from gateway.graphql.context import Info
from gateway.graphql.listed import ListedCase
from policies.case_facts import DAY_MS, CaseFacts


@strawberry.type(description="A case graded LOW or MEDIUM that carries signs of higher risk.")
class RegradeAlert(ListedCase):
    @classmethod
    def of(cls, fact: CaseFacts, now: int) -> RegradeAlert:
        return cls(fact=fact, now=now)

    @strawberry.field(description="fractional days since the referral was received")
    def days_waiting(self) -> float:
        return (self.now - self.fact.received_at) / DAY_MS

    @strawberry.field(description="the case's last activity, where its force says")
    def last_activity_at(self) -> datetime | None:
        at = self.fact.last_activity_at
        return None if at is None else datetime.fromtimestamp(at / 1000, UTC)

    @strawberry.field(description="the signs; a linked case the caller may not know is not named")
    def reasons(self, info: Info) -> list[str]:
        return regrade.regrade_reasons(self.fact, knows=info.context.knows_case)


def alerted(facts: Iterable[CaseFacts]) -> list[CaseFacts]:
    """The cases of these with signs of higher risk, in the order of their rank (the order the
    region's index keeps, for figures of a period counted afresh)."""
    ranked = [(rank, fact) for fact in facts if (rank := regrade.regrade_rank(fact))]
    return [fact for _, fact in sorted(ranked, key=lambda pair: pair[0])]
