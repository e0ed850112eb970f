"""The analyst's priority queue: the most concerning open cases the caller may see, filtered by
force, risk, team and why a case is there, and paged past the first page.

Pages are by position in the ranking at the time of asking: a case's waiting points grow with
the clock, so a queue read an hour later may have moved by a place or two at a page's edge.
"""

from __future__ import annotations

import strawberry

from gateway import priority
from gateway.graphql.context import Info
from gateway.graphql.errors import BadInput
from gateway.graphql.figures import PrioritisedCase
from gateway.graphql.paging import after_position, checked_page, position_cursor
from gateway.graphql.types import PriorityReason, RiskLevel, Team
from policies.case_facts import CaseFacts
from policies.scopes import CASES_READ

QUEUE = "q"  # the prefix of the queue's cursors
MAX_DEPTH = 10_000  # how far down the ranking a page may start: a bound on the work per request


@strawberry.input(description="Which cases of the queue: all of each list given (any of one).")
class PriorityFilter:
    forces: list[str] | None = None
    risk_levels: list[RiskLevel] | None = None
    team: Team | None = None
    reasons: list[PriorityReason] | None = strawberry.field(
        default=None, description="cases whose score has any of these parts"
    )

    def accepts(self, now: int) -> priority.Accept:
        levels = {r.value for r in self.risk_levels} if self.risk_levels else None
        reasons = {r.value for r in self.reasons} if self.reasons else None
        team = self.team.value if self.team else None

        def accept(fact: CaseFacts) -> bool:
            if levels is not None and fact.risk_level not in levels:
                return False
            if team is not None and fact.team != team:
                return False
            return reasons is None or bool(reasons & priority.codes(fact, now))

        return accept


async def priority_queue(
    info: Info, first: int, after: str | None, filter: PriorityFilter | None
) -> list[PrioritisedCase]:
    context = info.context
    context.require(CASES_READ)
    checked_page(first)
    offset = after_position(after, QUEUE)
    if offset + first > MAX_DEPTH:
        raise BadInput(f"after: the queue is paged to its first {MAX_DEPTH} cases")
    await context.region.refresh(context.graph)
    region = context.region
    now = context.now_ms
    asked = set(filter.forces) if filter and filter.forces else None
    visible = [
        force
        for force in region.forces()
        if context.knows_case(force) and (asked is None or force in asked)
    ]
    accept = filter.accepts(now) if filter else None
    candidates = region.candidates(visible, now, offset + first, accept)
    ranked = priority.rank(candidates, now, first, offset=offset)
    return [
        PrioritisedCase(scored=s, cursor=position_cursor(offset + i, QUEUE))
        for i, s in enumerate(ranked)
    ]
