"""What every coordinator's list row says of its case, from the read model's facts: the force,
the reference, the risk level and the team. Metadata only, never personal data; the sharing
guard decides whether the row may name its case (`NamesCase`)."""

from __future__ import annotations

import strawberry

from gateway.graphql.sharing import NamesCase
from gateway.graphql.types import RiskLevel, Team
from policies.case_facts import CaseFacts


@strawberry.type(description="A case in a list: metadata only, never personal data.")
class ListedCase(NamesCase):
    fact: strawberry.Private[CaseFacts]
    now: strawberry.Private[int]

    def named_force(self) -> str | None:
        return self.fact.force

    @strawberry.field
    def force(self) -> str:
        return self.fact.force

    @strawberry.field
    def case_ref(self) -> str:
        return self.fact.case_ref

    @strawberry.field
    def risk_level(self) -> RiskLevel:
        return RiskLevel(self.fact.risk_level)

    @strawberry.field(description="the team holding the case, where its force says")
    def team(self) -> Team | None:
        return Team(self.fact.team) if self.fact.team is not None else None
