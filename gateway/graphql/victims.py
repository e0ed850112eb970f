"""Victim identification across forces: groups, a shared work queue, and recorded actions.

Victims depicted by the same image (one `Media` node, however each force wrote its hash) or
whose cases hold the same series form a group. Any analyst with `victim-id:write` may claim a
group from the regional queue, hand it over, or record an identification or a safeguarding
referral; a claim left untouched for `CLAIM_STALE_DAYS` is free again, so one absent officer does
not stall a child's identification. Every recorded action reaches the change feed of each force
whose case is in the group.
"""

from __future__ import annotations

import enum
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import strawberry

from federation.changes import append_new
from gateway.facts import DAY_MS
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput, NotFound
from gateway.graphql.explore import PageInfo, decode_cursor, encode_cursor
from gateway.graphql.sharing import Owned, governed, sees_record
from gateway.graphql.types import instant
from graph.cases import case_key
from graph.queries import victims as q
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


@dataclass
class _Group:
    id: str
    victims: dict[str, dict[str, Any]] = field(default_factory=dict)
    everyone: dict[str, dict[str, Any]] = field(default_factory=dict)  # before visibility
    links: set[str] = field(default_factory=set)  # images and series that join two victims
    categories: set[str] = field(default_factory=set)


@strawberry.type(description="Victim records of one or more forces that may be the same child.")
class VictimGroup:
    id: strawberry.ID
    group: strawberry.Private[_Group]
    claim: GroupClaim | None
    actions: list[VictimAction]

    @strawberry.field
    def forces(self) -> list[str]:
        return sorted({v["force"] for v in self.group.victims.values()})

    @strawberry.field
    def victims(self) -> list[GroupVictim]:
        return [
            GroupVictim(owner=v["force"], case_ref=v["caseRef"], props=v)
            for _, v in sorted(self.group.victims.items())
        ]

    @strawberry.field(description="victim records not yet identified by their force")
    def unidentified(self) -> int:
        return sum(1 for v in self.group.victims.values() if not v.get("identified"))

    @strawberry.field(description="grades given to the shared images")
    def categories(self) -> list[str]:
        return sorted(self.group.categories)

    @strawberry.field
    def shared_images(self) -> int:
        return sum(1 for link in self.group.links if link.startswith("Media:"))

    @strawberry.field
    def shared_series(self) -> int:
        return sum(1 for link in self.group.links if link.startswith("Series:"))


@strawberry.type
class VictimGroupEdge:
    node: VictimGroup
    cursor: str


@strawberry.type(description="The regional identification queue: unclaimed groups first.")
class VictimGroupConnection:
    edges: list[VictimGroupEdge]
    page_info: PageInfo
    total_count: int


def group_rows(rows: list[dict[str, Any]]) -> list[_Group]:
    """Connected victims: joined wherever two share an image or a series."""
    by_link: dict[str, set[str]] = defaultdict(set)
    by_victim: dict[str, set[str]] = defaultdict(set)
    records: dict[str, dict[str, Any]] = {}
    categories: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_link[row["link"]].add(row["victim"])
        by_victim[row["victim"]].add(row["link"])
        records[row["victim"]] = row
        if row.get("category"):
            categories[row["link"]].add(row["category"])
    groups, seen = [], set()
    for start in sorted(by_victim):
        if start in seen:
            continue
        group_links: set[str] = set()
        members, stack = set(), [start]
        while stack:
            victim = stack.pop()
            if victim in members:
                continue
            members.add(victim)
            for link in by_victim[victim]:
                group_links.add(link)
                stack.extend(by_link[link] - members)
        seen |= members
        anchor = hashlib.sha256(min(group_links).encode()).hexdigest()[:20]
        group = _Group(f"vg-{anchor}", {v: records[v] for v in members}, links=group_links)
        group.categories = {c for link in group_links for c in categories[link]}
        group.links = {link for link in group_links if len(by_link[link]) > 1}
        groups.append(group)
    return groups


def _worth_a_look(group: _Group) -> bool:
    unidentified = any(not v.get("identified") for v in group.victims.values())
    cases = {(v["force"], v["caseRef"]) for v in group.victims.values()}
    return unidentified and len(cases) > 1


async def visible_groups(context: Context) -> list[_Group]:
    groups = group_rows(await context.graph.read(q.VICTIM_LINKS))
    for group in groups:
        group.everyone = dict(group.victims)
        group.victims = {k: v for k, v in group.victims.items() if sees_record(context, v["force"])}
    return [g for g in groups if _worth_a_look(g)]


async def _claims_and_actions(
    context: Context, ids: list[str]
) -> tuple[dict[str, GroupClaim], dict[str, list[VictimAction]]]:
    stale_before = context.now_ms - CLAIM_STALE_DAYS * DAY_MS
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


def _queue_order(group: VictimGroup) -> tuple[int, int, str]:
    waiting = group.claim is None or group.claim.stale
    return (0 if waiting else 1, -group.unidentified(), str(group.id))


async def victim_groups(info: Info, first: int, after: str | None) -> VictimGroupConnection:
    context = info.context
    context.require(CASES_READ)
    groups = await visible_groups(context)
    claims, actions = await _claims_and_actions(context, [g.id for g in groups])
    nodes = [
        VictimGroup(id=strawberry.ID(g.id), group=g, claim=claims.get(g.id), actions=actions[g.id])
        for g in groups
    ]
    nodes.sort(key=_queue_order)
    start = decode_cursor(after)
    chosen = nodes[start : start + first]
    return VictimGroupConnection(
        edges=[
            VictimGroupEdge(node=n, cursor=encode_cursor(start + i)) for i, n in enumerate(chosen)
        ],
        page_info=PageInfo(
            has_next_page=start + first < len(nodes),
            end_cursor=encode_cursor(start + len(chosen) - 1) if chosen else None,
        ),
        total_count=len(nodes),
    )


async def _group(context: Context, group_id: str) -> VictimGroup:
    for group in await visible_groups(context):
        if group.id == group_id:
            claims, actions = await _claims_and_actions(context, [group.id])
            return VictimGroup(
                id=strawberry.ID(group.id),
                group=group,
                claim=claims.get(group.id),
                actions=actions[group.id],
            )
    raise NotFound("no such victim group")


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
        "now": context.now_ms, "staleBefore": context.now_ms - CLAIM_STALE_DAYS * DAY_MS,
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
        "staleBefore": context.now_ms - CLAIM_STALE_DAYS * DAY_MS,
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
    if victim_key not in group.group.victims:
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
    await _notify(context, group.group, kind, force, victim)
    return await _group(context, group_id)


async def _notify(
    context: Context, group: _Group, kind: VictimActionKind, force: str, victim: VictimRef
) -> None:
    what = "an identification" if kind == VictimActionKind.IDENTIFIED else "a safeguarding referral"
    reason = f"{force} recorded {what} for a victim of {victim.force} case {victim.case_ref}"
    events = {}
    for member in group.everyone.values():
        dedupe = (
            f"VICTIM|{group.id}|{kind.value}|{context.now_ms}|{member['force']}|{member['caseRef']}"
        )
        events[dedupe] = {
            "dedupe": dedupe, "kind": f"VICTIM_{kind.value}", "force": member["force"],
            "caseRef": member["caseRef"], "otherForce": force, "via": "VICTIM_GROUP",
            "group": group.id, "reasons": [reason], "at": context.now_ms,
        }  # fmt: skip
    await append_new(context.graph, events)
