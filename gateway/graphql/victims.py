"""Victim identification across forces: groups, a shared work queue, and recorded actions.

Victims depicted by the same image (one `Media` node, however each force wrote its hash) or
whose cases hold the same series form a group, kept by the after-sync step
(federation/after_sync/victim_groups.py); a request reads one page of them. Any analyst with
`victim-id:write` may claim a group from the regional queue, hand it over, or record an
identification or a safeguarding referral; a claim left untouched for `CLAIM_STALE_DAYS` is free
again, so one absent officer does not stall a child's identification. Every recorded action
reaches the change feed of each force whose case is in the group.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from datetime import datetime
from typing import Any

import strawberry

from federation.after_sync.feed import append_new
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput, NotFound
from gateway.graphql.explore import PageInfo, decode_cursor, encode_cursor
from gateway.graphql.sharing import Owned, governed
from gateway.graphql.types import instant
from graph.cases import case_key
from graph.queries import victims as q
from policies.case_facts import DAY_MS
from policies.scopes import CASES_READ, VICTIM_ID_WRITE, Forbidden

CLAIM_STALE_DAYS = 3


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


@strawberry.type(description="One force's record of a victim in the group.")
class GroupVictim(Owned):
    owner: strawberry.Private[str]
    case_ref: strawberry.Private[str]
    props: strawberry.Private[dict[str, Any]]

    @strawberry.field(metadata=governed("case", "force"))
    def force(self) -> str:
        return self.owner

    @strawberry.field(name="caseRef", metadata=governed("case", "caseRef"))
    def victim_case_ref(self) -> str:
        return self.case_ref

    @strawberry.field(metadata=governed("victim", "ref"))
    def ref(self) -> str | None:
        return self.props.get("ref")

    @strawberry.field(metadata=governed("victim", "ageBand"))
    def age_band(self) -> str | None:
        return self.props.get("ageBand")

    @strawberry.field(metadata=governed("victim", "identified"))
    def identified(self) -> bool | None:
        return bool(self.props.get("identified"))


@strawberry.type
class GroupClaim:
    force: str
    since: datetime
    stale: bool


@strawberry.type
class VictimAction:
    kind: VictimActionKind
    force: str = strawberry.field(description="the force that recorded it")
    at: datetime
    referred_to: SafeguardingAgency | None = None
    outcome: SafeguardingOutcome | None = None


@strawberry.type(description="Victim records of one or more forces that may be the same child.")
class VictimGroup:
    id: strawberry.ID
    kept: strawberry.Private[dict[str, Any]]  # a `GROUP_PAGE` row: the group as the step kept it
    seen: strawberry.Private[list[dict[str, Any]]]  # its victims the caller may see
    claim: GroupClaim | None
    actions: list[VictimAction]

    @strawberry.field
    def forces(self) -> list[str]:
        return sorted({v["force"] for v in self.seen})

    @strawberry.field
    def victims(self) -> list[GroupVictim]:
        return [GroupVictim(owner=v["force"], case_ref=v["caseRef"], props=v) for v in self.seen]

    @strawberry.field(description="victim records not yet identified by their force")
    def unidentified(self) -> int:
        return sum(1 for v in self.seen if not v.get("identified"))

    @strawberry.field(description="grades given to the shared images")
    def categories(self) -> list[str]:
        return list(self.kept["categories"] or [])

    @strawberry.field
    def shared_images(self) -> int:
        return int(self.kept["sharedImages"])

    @strawberry.field
    def shared_series(self) -> int:
        return int(self.kept["sharedSeries"])


@strawberry.type
class VictimGroupEdge:
    node: VictimGroup
    cursor: str


@strawberry.type(description="The regional identification queue: unclaimed groups first.")
class VictimGroupConnection:
    edges: list[VictimGroupEdge]
    page_info: PageInfo
    total_count: int


def _stale_before(context: Context) -> int:
    """Claims taken before this are free again."""
    return context.now_ms - CLAIM_STALE_DAYS * DAY_MS


async def _claims_and_actions(
    context: Context, ids: list[str]
) -> tuple[dict[str, GroupClaim], dict[str, list[VictimAction]]]:
    stale_before = _stale_before(context)
    claims = {
        row["group"]: GroupClaim(
            force=row["force"],
            since=instant(row["at"]) or context.now,
            stale=row["at"] < stale_before,
        )
        for row in await context.graph.read(q.CLAIMS, {"groups": ids})
    }
    actions: dict[str, list[VictimAction]] = defaultdict(list)
    for row in await context.graph.read(q.ACTIONS, {"groups": ids}):
        actions[row["group"]].append(
            VictimAction(
                kind=VictimActionKind(row["kind"]),
                force=row["force"],
                at=instant(row["at"]) or context.now,
                referred_to=SafeguardingAgency(row["referredTo"]) if row["referredTo"] else None,
                outcome=SafeguardingOutcome(row["outcome"]) if row["outcome"] else None,
            )
        )
    return claims, actions


def _group_of(
    context: Context,
    row: dict[str, Any],
    claims: dict[str, GroupClaim],
    actions: dict[str, list[VictimAction]],
) -> VictimGroup:
    seen = sorted(
        (v for v in row["victims"] if context.knows_case(v["force"])), key=lambda v: v["key"]
    )
    return VictimGroup(
        id=strawberry.ID(row["id"]), kept=row, seen=seen, claim=claims.get(row["id"]),
        actions=actions[row["id"]],
    )  # fmt: skip


async def victim_groups(info: Info, first: int, after: str | None) -> VictimGroupConnection:
    """The regional queue: groups no force holds first, then by victims not yet identified."""
    context = info.context
    context.require(CASES_READ)
    params = {"staleBefore": _stale_before(context)}
    held = [row["group"] for row in await context.graph.read(q.HELD_CLAIMS, params)]
    start = decode_cursor(after)
    page = {"held": held, "skip": start, "first": first}
    rows = await context.graph.read(q.GROUP_PAGE, page)
    total = (await context.graph.read(q.GROUP_COUNT))[0]["n"]
    claims, actions = await _claims_and_actions(context, [row["id"] for row in rows])
    chosen = [_group_of(context, row, claims, actions) for row in rows]
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
    rows = await context.graph.read(q.GROUP_BY_ID, {"id": group_id})
    if not rows:
        raise NotFound("no such victim group")
    claims, actions = await _claims_and_actions(context, [group_id])
    return _group_of(context, rows[0], claims, actions)


def _acting_force(context: Context) -> str:
    context.require(VICTIM_ID_WRITE)
    if context.principal.force is None:
        raise Forbidden("recording for a victim group needs a token that acts for a force")
    return context.principal.force


@strawberry.input
class VictimRef:
    force: str
    case_ref: str
    ref: str


async def claim(info: Info, group_id: str) -> VictimGroup:
    context = info.context
    force = _acting_force(context)
    await _group(context, group_id)
    params = {
        "group": group_id, "force": force, "client": context.principal.client_id,
        "now": context.now_ms, "staleBefore": _stale_before(context),
    }  # fmt: skip
    if not await context.graph.write(q.CLAIM, params):
        raise Forbidden("another force is working on this group; ask them or wait for a hand-over")
    return await _group(context, group_id)


async def hand_over(info: Info, group_id: str) -> VictimGroup:
    context = info.context
    force = _acting_force(context)
    await _group(context, group_id)
    params = {
        "group": group_id, "force": force,
        "staleBefore": _stale_before(context),
    }  # fmt: skip
    rows = await context.graph.write(q.RELEASE, params)
    if not rows or not rows[0]["released"]:
        raise Forbidden("only the force working on this group can hand it over")
    return await _group(context, group_id)


async def record(
    info: Info,
    group_id: str,
    victim: VictimRef,
    kind: VictimActionKind,
    referred_to: SafeguardingAgency | None = None,
    outcome: SafeguardingOutcome | None = None,
) -> VictimGroup:
    context = info.context
    force = _acting_force(context)
    group = await _group(context, group_id)
    victim_key = f"{case_key(victim.force, victim.case_ref)}:{victim.ref}"
    if victim_key not in {v["key"] for v in group.seen}:
        raise BadInput("victim: not a member of this group")
    await context.graph.write(
        q.RECORD_ACTION,
        {
            "group": group_id, "kind": kind.value, "force": force,
            "client": context.principal.client_id, "at": context.now_ms, "victim": victim_key,
            "referredTo": referred_to.value if referred_to else None,
            "outcome": outcome.value if outcome else None,
        },
    )  # fmt: skip
    await _notify(context, group, kind, force, victim)
    return await _group(context, group_id)


async def _notify(
    context: Context, group: VictimGroup, kind: VictimActionKind, force: str, victim: VictimRef
) -> None:
    what = "an identification" if kind == VictimActionKind.IDENTIFIED else "a safeguarding referral"
    # The victim's case is named to its own force only: the reason is plain text, which the
    # record-level decision (`told`) cannot filter for the other member forces.
    own = f"{force} recorded {what} for a victim of {victim.force} case {victim.case_ref}"
    other = f"{force} recorded {what} for a victim in the group"
    events = {}
    for member in group.kept["victims"]:
        reason = own if member["force"] == victim.force else other
        dedupe = (
            f"VICTIM|{group.id}|{kind.value}|{context.now_ms}|{member['force']}|{member['caseRef']}"
        )
        events[dedupe] = {
            "dedupe": dedupe, "kind": f"VICTIM_{kind.value}", "force": member["force"],
            "caseRef": member["caseRef"], "otherForce": force, "via": "VICTIM_GROUP",
            "group": group.id, "reasons": [reason], "at": context.now_ms,
        }  # fmt: skip
    await append_new(context.graph, events)
