"""Victim identification across forces: groups, a shared work queue, and its recorded steps.

Victims depicted by the same image (one `Media` node, however each force wrote its hash) or
whose cases hold the same series form a group, kept by the after-sync step
(federation/after_sync/victim_groups.py); a request reads one page of them. Any analyst with
`victim-id:write` may claim a group from the regional queue, hand it over (to the queue, or to a
named force and officer with a note), record an identification (once per victim across the
region) or a safeguarding referral, and update that referral's outcome. The steps are taken in
`federation/victim_work.py`, which tells the member forces; this module only reads and calls it.
"""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry

from federation.victim_work import (
    OUTCOMES,
    Claim,
    Member,
    Step,
    VictimWork,
    acting_force,
    stale_before,
)
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput, NotFound
from gateway.graphql.explore import PageInfo, decode_cursor, encode_cursor
from gateway.graphql.sharing import Owned, governed
from gateway.graphql.types import instant
from graph.cases import case_key
from graph.victim_groups import GroupMember, KeptGroup, VictimGroupStore
from policies.scopes import CASES_READ


@strawberry.enum
class SafeguardingAgency(enum.Enum):
    NSPCC = "NSPCC"
    CHILDRENS_SOCIAL_CARE = "CHILDRENS_SOCIAL_CARE"
    MASH = "MASH"
    SCHOOL = "SCHOOL"
    HEALTH = "HEALTH"
    OTHER = "OTHER"


@strawberry.enum
class SafeguardingOutcome(enum.Enum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CHILD_SAFEGUARDED = "CHILD_SAFEGUARDED"


@strawberry.enum
class VictimActionKind(enum.Enum):
    IDENTIFIED = "IDENTIFIED"
    SAFEGUARDING_REFERRAL = "SAFEGUARDING_REFERRAL"


@strawberry.enum
class VictimStepKind(enum.Enum):
    CLAIMED = "CLAIMED"
    HANDED_OVER = "HANDED_OVER"
    RETURNED = "RETURNED"
    IDENTIFIED = "IDENTIFIED"
    SAFEGUARDING_REFERRAL = "SAFEGUARDING_REFERRAL"
    REFERRAL_UPDATED = "REFERRAL_UPDATED"


@strawberry.type(description="One force's record of a victim in the group.")
class GroupVictim(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    member: strawberry.Private[GroupMember]
    identified_here: strawberry.Private[bool]  # through the hub, whatever the force's record says

    @strawberry.field(metadata=governed("case", "force"))
    def force(self) -> str:
        return self.owner

    @strawberry.field(name="caseRef", metadata=governed("case", "caseRef"))
    def victim_case_ref(self) -> str:
        return self.case_ref

    @strawberry.field(metadata=governed("victim", "ref"))
    def ref(self) -> str | None:
        return self.member.ref

    @strawberry.field(metadata=governed("victim", "ageBand"))
    def age_band(self) -> str | None:
        return self.member.age_band

    @strawberry.field(
        metadata=governed("victim", "identified"),
        description="identified, by its force's record or through the hub",
    )
    def identified(self) -> bool | None:
        return self.member.identified or self.identified_here


@strawberry.type
class GroupClaim:
    force: str
    since: datetime
    stale: bool
    officer: str | None = strawberry.field(
        default=None, description="the officer holding it: the token's subject"
    )
    officer_name: str | None = strawberry.field(
        default=None, description="their name, where the caller sees that force's records"
    )


@strawberry.type(description="An outcome recorded for a victim of the group.")
class VictimAction:
    id: strawberry.ID
    kind: VictimActionKind
    force: str = strawberry.field(description="the force that recorded it")
    officer: str | None
    at: datetime
    referred_to: SafeguardingAgency | None = None
    outcome: SafeguardingOutcome | None = strawberry.field(
        default=None, description="a referral's outcome as last updated"
    )


@strawberry.type(description="One recorded step of the group's work, oldest first.")
class VictimStep:
    id: strawberry.ID
    kind: VictimStepKind
    force: str = strawberry.field(description="the force that took the step")
    officer: str | None = strawberry.field(description="who took it: the token's subject")
    officer_name: str | None = strawberry.field(
        description="their name, where the caller sees that force's records"
    )
    at: datetime
    note: str | None = strawberry.field(
        description="a hand-over's note, where the caller sees that force's records"
    )
    to_force: str | None
    to_officer: str | None
    referred_to: SafeguardingAgency | None
    outcome: SafeguardingOutcome | None


@strawberry.type(description="Victim records of one or more forces that may be the same child.")
class VictimGroup:
    id: strawberry.ID
    kept: strawberry.Private[KeptGroup]  # the group as the after-sync step kept it
    seen: strawberry.Private[list[GroupVictim]]  # its victims the caller may see
    claim: GroupClaim | None
    actions: list[VictimAction]
    history: list[VictimStep] = strawberry.field(
        description="every recorded step: claims, hand-overs, identifications, referrals"
    )

    @strawberry.field
    def forces(self) -> list[str]:
        return sorted({v.owner for v in self.seen})

    @strawberry.field
    def victims(self) -> list[GroupVictim]:
        return self.seen

    @strawberry.field(
        description="victim records not yet identified, by their force or through the hub"
    )
    def unidentified(self) -> int:
        return sum(1 for v in self.seen if not (v.member.identified or v.identified_here))

    @strawberry.field(description="grades given to the shared images")
    def categories(self) -> list[str]:
        return list(self.kept.categories)

    @strawberry.field
    def shared_images(self) -> int:
        return self.kept.shared_images

    @strawberry.field
    def shared_series(self) -> int:
        return self.kept.shared_series


@strawberry.type
class VictimGroupEdge:
    node: VictimGroup
    cursor: str


@strawberry.type(description="The regional identification queue: unclaimed groups first.")
class VictimGroupConnection:
    edges: list[VictimGroupEdge]
    page_info: PageInfo
    total_count: int


def _work(context: Context) -> VictimWork:
    protection = context.protection
    return VictimWork(context.graph, protection.cipher, protection.sharing)


def _claim(claim: Claim | None, now_ms: int) -> GroupClaim | None:
    if claim is None:
        return None
    return GroupClaim(
        force=claim.force, since=_at(claim.at), stale=claim.at < stale_before(now_ms),
        officer=claim.officer, officer_name=claim.officer_name,
    )  # fmt: skip


def _at(ms: int) -> datetime:
    moment = instant(ms)
    assert moment is not None
    return moment


def _action(step: Step, updated: dict[str, str]) -> VictimAction:
    outcome = updated.get(step.id, step.outcome)
    return VictimAction(
        id=strawberry.ID(step.id), kind=VictimActionKind(step.kind), force=step.force,
        officer=step.officer, at=_at(step.at),
        referred_to=SafeguardingAgency(step.referred_to) if step.referred_to else None,
        outcome=SafeguardingOutcome(outcome) if outcome else None,
    )  # fmt: skip


def _step(step: Step) -> VictimStep:
    return VictimStep(
        id=strawberry.ID(step.id), kind=VictimStepKind(step.kind), force=step.force,
        officer=step.officer, officer_name=step.officer_name, at=_at(step.at), note=step.note,
        to_force=step.to_force, to_officer=step.to_officer,
        referred_to=SafeguardingAgency(step.referred_to) if step.referred_to else None,
        outcome=SafeguardingOutcome(step.outcome) if step.outcome else None,
    )  # fmt: skip


async def _groups_of(context: Context, kept_groups: list[KeptGroup]) -> list[VictimGroup]:
    work = _work(context)
    ids = [group.id for group in kept_groups]
    claims = await work.claims(context.principal, ids)
    steps = await work.steps(context.principal, ids)
    here = await work.identified(m.key for group in kept_groups for m in group.members)
    groups = []
    for group in kept_groups:
        seen = [
            GroupVictim(owner=m.force, case_ref=m.case_ref, member=m, identified_here=m.key in here)
            for m in sorted(group.members, key=lambda m: m.key)
            if context.knows_case(m.force)
        ]
        kept = steps.get(group.id, [])
        updated = {s.about: s.outcome for s in kept if s.about and s.outcome}
        groups.append(
            VictimGroup(
                id=strawberry.ID(group.id), kept=group, seen=seen,
                claim=_claim(claims.get(group.id), context.now_ms),
                actions=[_action(s, updated) for s in kept if s.kind in OUTCOMES],
                history=[_step(s) for s in kept],
            )
        )  # fmt: skip
    return groups


async def victim_groups(info: Info, first: int, after: str | None) -> VictimGroupConnection:
    """The regional queue: groups no force holds first, then by victims not yet identified."""
    context = info.context
    context.require(CASES_READ)
    queue = VictimGroupStore(context.graph)
    held = await queue.held(stale_before(context.now_ms))
    start = decode_cursor(after)
    chosen = await _groups_of(context, await queue.page(held, start, first))
    total = await queue.count()
    return VictimGroupConnection(
        edges=[
            VictimGroupEdge(node=n, cursor=encode_cursor(start + i)) for i, n in enumerate(chosen)
        ],
        page_info=PageInfo(
            has_next_page=start + first < total,
            end_cursor=encode_cursor(start + len(chosen) - 1) if chosen else None,
        ),
        total_count=total,
    )


async def _group(context: Context, group_id: str) -> VictimGroup:
    kept = await VictimGroupStore(context.graph).group(group_id)
    if kept is None:
        raise NotFound("no such victim group")
    (group,) = await _groups_of(context, [kept])
    return group


def _members(group: VictimGroup) -> list[Member]:
    """Every case with a victim in the group, whether or not the caller may see it."""
    cases = {(m.force, m.case_ref) for m in group.kept.members}
    return [Member(force, case_ref) for force, case_ref in sorted(cases)]


@strawberry.input
class VictimRef:
    force: str
    case_ref: str
    ref: str


@strawberry.input(description="Whom a victim group is handed to.")
class HandOverTo:
    force: str
    officer: str | None = strawberry.field(
        default=None, description="the officer's subject, as their tokens carry it"
    )


def _victim_of(group: VictimGroup, victim: VictimRef) -> GroupMember:
    key = f"{case_key(victim.force, victim.case_ref)}:{victim.ref}"
    for member in group.kept.members:
        if member.key == key:
            return member
    raise BadInput("victim: not a member of this group")


async def claim(info: Info, group_id: str) -> VictimGroup:
    context = info.context
    acting_force(context.principal)
    await _group(context, group_id)
    await _work(context).claim(context.principal, group_id, context.now_ms)
    return await _group(context, group_id)


async def hand_over(
    info: Info,
    group_id: str,
    to: HandOverTo | None = None,
    note: str | None = None,
) -> VictimGroup:
    context = info.context
    acting_force(context.principal)
    if to is not None and to.force not in context.protection.clients.forces:
        raise BadInput("to.force: not a force of the region")
    group = await _group(context, group_id)
    try:
        await _work(context).hand_over(
            context.principal, group_id, context.now_ms, _members(group),
            to_force=to.force if to else None, to_officer=to.officer if to else None, note=note,
        )  # fmt: skip
    except ValueError as error:
        raise BadInput(str(error)) from None
    return await _group(context, group_id)


async def identify(info: Info, group_id: str, victim: VictimRef) -> VictimGroup:
    context = info.context
    acting_force(context.principal)
    group = await _group(context, group_id)
    member = _victim_of(group, victim)
    await _work(context).identify(
        context.principal, group_id, Member(victim.force, victim.case_ref), member.key,
        context.now_ms, _members(group), already_in_record=member.identified,
    )  # fmt: skip
    return await _group(context, group_id)


async def refer(
    info: Info,
    group_id: str,
    victim: VictimRef,
    referred_to: SafeguardingAgency,
    outcome: SafeguardingOutcome,
) -> VictimGroup:
    context = info.context
    acting_force(context.principal)
    group = await _group(context, group_id)
    member = _victim_of(group, victim)
    await _work(context).refer(
        context.principal, group_id, Member(victim.force, victim.case_ref), member.key,
        context.now_ms, _members(group), agency=referred_to.value, outcome=outcome.value,
    )  # fmt: skip
    return await _group(context, group_id)


async def update_referral(
    info: Info, referral_id: str, outcome: SafeguardingOutcome
) -> VictimGroup:
    context = info.context
    acting_force(context.principal)
    work = _work(context)
    found = await work.referral(referral_id)
    if found is None:
        raise NotFound("no such safeguarding referral")
    group_id, victim_key = found
    owner_force, _, rest = victim_key.partition(":")  # `force:caseRef:ref`, as `case_key` makes
    owner = Member(owner_force, rest.rpartition(":")[0])
    await work.update_referral(context.principal, referral_id, outcome.value, context.now_ms, owner)
    return await _group(context, group_id)
