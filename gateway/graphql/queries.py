"""Root fields for people: a case, the priority queue, identifier search, oversight, and reveal."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import datetime

import strawberry

from gateway import oversight
from gateway.graphql import explore, loaders, victims
from gateway.graphql.alerts import alerted
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput
from gateway.graphql.explore import GraphNode, Neighbourhood, NodeRef
from gateway.graphql.figures import Oversight, PrioritisedCase
from gateway.graphql.holders import Holder, IdentifierInput, search_holders
from gateway.graphql.limits import counted_as
from gateway.graphql.lists import ListSources
from gateway.graphql.oversight_cases import OpenCases
from gateway.graphql.paging import MAX_PAGE, checked_page
from gateway.graphql.priority_queue import PriorityFilter
from gateway.graphql.priority_queue import priority_queue as queue_page
from gateway.graphql.types import Case, case_of
from gateway.region import RegionFacts
from graph.cases import case_key
from policies.case_facts import CaseFacts
from policies.reveal import reveal as reveal_field
from policies.scopes import CASES_READ, OVERSIGHT_READ, SENSITIVE_REVEAL

FORCE_CODE = re.compile(r"^[A-Z]{2,4}$")
MAX_CASE_REF = 64


def checked_force(force: str) -> str:
    if not FORCE_CODE.match(force):
        raise BadInput("force: a force code of 2 to 4 capital letters, e.g. AS")
    return force


def checked_case_ref(case_ref: str) -> str:
    if not 0 < len(case_ref) <= MAX_CASE_REF:
        raise BadInput(f"caseRef: 1 to {MAX_CASE_REF} characters")
    return case_ref


async def current_region(context: Context) -> RegionFacts:
    await context.region.refresh(context.graph)
    return context.region


async def region_facts(context: Context) -> list[CaseFacts]:
    return list((await current_region(context)).facts.values())


@strawberry.input(description="Restricts every oversight figure; all parts optional.")
class OversightFilter:
    forces: list[str] | None = None
    received_from: datetime | None = strawberry.field(
        default=None, description="referrals received at or after this instant"
    )
    received_before: datetime | None = None

    def force_set(self) -> set[str] | None:
        return {checked_force(f) for f in self.forces} if self.forces is not None else None

    def has_dates(self) -> bool:
        return self.received_from is not None or self.received_before is not None

    def apply(self, facts: Iterable[CaseFacts]) -> list[CaseFacts]:
        forces = self.force_set()
        low = int(self.received_from.timestamp() * 1000) if self.received_from else None
        high = int(self.received_before.timestamp() * 1000) if self.received_before else None
        if low is not None and high is not None and low >= high:
            raise BadInput("receivedFrom must be before receivedBefore")
        return [
            f
            for f in facts
            if (forces is None or f.force in forces)
            and (low is None or f.received_at >= low)
            and (high is None or f.received_at < high)
        ]


@strawberry.type
class Query:
    @strawberry.field(description="One case; null when absent or not visible to the caller.")
    async def case(self, info: Info, force: str, case_ref: str) -> Case | None:
        context = info.context
        context.require(CASES_READ, OVERSIGHT_READ)
        key = case_key(checked_force(force), checked_case_ref(case_ref))
        if not context.knows_case(force):
            return None  # the guard would null it too; this spares the graph the read
        found = loaders.cases(context).load(key)
        if loaders.asks_for(info, "links"):
            loaders.prefetch(loaders.links(context), key)
        stored = await found
        return None if stored is None else case_of(stored)

    @strawberry.field(
        description="The most concerning open cases the caller may see, first; `after` a "
        "case's cursor for the next page, `filter` by force, risk, team or reason."
    )
    async def priority_queue(
        self,
        info: Info,
        first: int = 20,
        after: str | None = None,
        filter: PriorityFilter | None = None,
    ) -> list[PrioritisedCase]:
        return await queue_page(info, first, after, filter)

    @strawberry.field(description="Cases and entities around a case or entity, nearest first.")
    async def neighbourhood(
        self,
        info: Info,
        start: NodeRef,
        depth: int = 1,
        first: int = 50,
        after: str | None = None,
    ) -> Neighbourhood:
        context = info.context
        context.require(CASES_READ)
        checked_page(first)
        label, key = start.label_and_key()
        return explore.page(await explore.draw(context, label, key, depth), first, after)

    @strawberry.field(description="A shortest path between two nodes; null if none is visible.")
    async def path(
        self, info: Info, start: NodeRef, end: NodeRef, max_hops: int = explore.MAX_PATH_HOPS
    ) -> list[GraphNode] | None:
        context = info.context
        context.require(CASES_READ)
        return await explore.path(context, start.label_and_key(), end.label_and_key(), max_hops)

    @strawberry.field(
        description="Does any force hold this identifier? The forces and cases holding it, as "
        "far as the agreements show them; every search is audited with its purpose.",
        metadata=counted_as(MAX_PAGE),  # no page bounds the answer: counted as the largest
    )
    async def holders(self, info: Info, identifier: IdentifierInput, purpose: str) -> list[Holder]:
        return await search_holders(info, identifier, purpose)

    @strawberry.field(description="The regional victim identification queue.")
    async def victim_groups(
        self, info: Info, first: int = 20, after: str | None = None
    ) -> victims.VictimGroupConnection:
        return await victims.victim_groups(info, checked_page(first), after)

    @strawberry.field(description="Regional figures for coordinators.")
    async def oversight(self, info: Info, filter: OversightFilter | None = None) -> Oversight:
        context = info.context
        context.require(OVERSIGHT_READ)
        region, now = await current_region(context), context.now_ms
        # Figures name forces, not cases; alerts name cases: only those the caller may know.
        known = {force for force in region.forces() if context.knows_case(force)}
        if filter is not None and filter.has_dates():  # figures of a period: counted afresh
            facts = filter.apply(region.facts.values())
            ranked = functools.cache(lambda: alerted(f for f in facts if f.force in known))
            return Oversight(
                risk_rows=oversight.risk_figures(facts, now),
                force_rows=oversight.force_figures(facts, now),
                alerted=lambda first: ranked()[:first],
                alert_count=lambda: len(ranked()),
                avoided=lambda: oversight.views_avoided(facts),
                activity_in=lambda low, high: oversight.activity(facts, low, high),
                open_cases=OpenCases.of_facts(facts),
                lists=ListSources.of_facts(facts),
                scope=filter.force_set(),
                as_of=context.now,
            )
        forces = filter.force_set() if filter is not None else None
        alerting = known if forces is None else known & forces
        return Oversight(  # the whole record: from the region's running indexes
            risk_rows=region.risk_figures(forces, now),
            force_rows=region.force_figures(forces, now),
            alerted=lambda first: region.regrade_alerts(alerting, first),
            alert_count=lambda: region.regrade_count(alerting),
            avoided=lambda: region.views_avoided(forces),
            activity_in=lambda low, high: region.activity(forces, low, high),
            open_cases=OpenCases.of_index(region, forces),
            lists=ListSources.of_index(region, forces),
            scope=forces,
            as_of=context.now,
        )


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Take a victim group from the queue to work on it.")
    async def claim_victim_group(self, info: Info, group_id: strawberry.ID) -> victims.VictimGroup:
        return await victims.claim(info, str(group_id))

    @strawberry.mutation(
        description="Give a claimed group back to the queue, or to a named force (and "
        "officer) with a note; the note is sealed and shown as the agreement allows."
    )
    async def hand_over_victim_group(
        self,
        info: Info,
        group_id: strawberry.ID,
        to: victims.HandOverTo | None = None,
        note: str | None = None,
    ) -> victims.VictimGroup:
        return await victims.hand_over(info, str(group_id), to, note)

    @strawberry.mutation(
        description="Record that a victim of the group has been identified: once per victim "
        "across the region (a second force gets CONFLICT, naming the first)."
    )
    async def record_identification(
        self, info: Info, group_id: strawberry.ID, victim: victims.VictimRef
    ) -> victims.VictimGroup:
        return await victims.identify(info, str(group_id), victim)

    @strawberry.mutation(description="Record a safeguarding referral for a victim and its outcome.")
    async def record_safeguarding_referral(
        self,
        info: Info,
        group_id: strawberry.ID,
        victim: victims.VictimRef,
        referred_to: victims.SafeguardingAgency,
        outcome: victims.SafeguardingOutcome,
    ) -> victims.VictimGroup:
        return await victims.refer(info, str(group_id), victim, referred_to, outcome)

    @strawberry.mutation(
        description="Update a safeguarding referral's outcome (by the force that made it); the "
        "victim's force is told on its change feed."
    )
    async def update_safeguarding_referral(
        self, info: Info, referral_id: strawberry.ID, outcome: victims.SafeguardingOutcome
    ) -> victims.VictimGroup:
        return await victims.update_referral(info, str(referral_id), outcome)

    @strawberry.mutation(
        description="Decrypts one field the agreement lets the caller reveal, stating why. The "
        "audit log records who, which field and the purpose before the value is returned."
    )
    async def reveal(
        self, info: Info, force: str, case_ref: str, field: str, purpose: str
    ) -> str | None:
        context = info.context
        context.require(SENSITIVE_REVEAL)
        key = case_key(checked_force(force), checked_case_ref(case_ref))
        stored = await loaders.cases(context).load(key) if context.knows_case(force) else None
        # No case, an invisible one, or no value there: refused as a hidden field is (no oracle).
        sealed = stored.sealed.get(field) if stored is not None else None
        protection = context.protection
        return await reveal_field(
            principal=context.principal,
            owner_force=force,
            case_ref=case_ref,
            pointer=field,
            purpose=purpose,
            sealed=sealed,
            policy=protection.sharing,
            cipher=protection.cipher,
            audit=protection.audit,
        )
