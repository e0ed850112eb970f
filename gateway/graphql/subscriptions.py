"""Subscriptions over graphql-transport-ws: what a force hears of, and what is about to be late.

Both read state the graph already keeps (the change feed; case facts), polling at
`subscription_poll_seconds`, so any gateway replica can serve any subscriber and a reconnecting
client resumes from its last `seq` without missing an event.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator
from datetime import datetime
from typing import Self

import strawberry

from federation import changes
from federation.contacts import officer_contacts
from gateway.graphql.context import Context, Info
from gateway.graphql.errors import BadInput
from gateway.graphql.queries import region_facts
from gateway.graphql.sharing import NamesCase, known
from gateway.graphql.types import RiskLevel, instant
from gateway.oversight import DUE_SOON_MS
from policies.scopes import CASES_READ, OVERSIGHT_READ, SYNC_WRITE, Forbidden
from policies.sharing import RecordView


@strawberry.type(description="Something the hub learned that concerns the caller's force.")
class ForceEvent(NamesCase):
    seq: str = strawberry.field(description="resume after this with `since`")
    kind: str = strawberry.field(description="LINK, REGRADE, VICTIM_IDENTIFIED, ...")
    case_ref: str
    at: datetime | None
    other_force: str | None = None
    other_case_ref: str | None = None
    via: str | None = None
    contact: str | None = None
    group: str | None = None
    reasons: list[str] = strawberry.field(default_factory=list)

    def named_force(self) -> str | None:
        return self.other_force if self.other_case_ref is not None else None

    def within(self, view: RecordView) -> Self | None:
        """The event concerns the caller's own case: it stays, without what names the other."""
        if view == RecordView.FULL:
            return self
        other = self.other_force if view == RecordView.EXISTENCE else None
        return dataclasses.replace(self, other_force=other, other_case_ref=None, contact=None)


@strawberry.type(description="An open case whose enforcement target passes within 48 hours.")
class CaseDueSoon(NamesCase):
    force: str
    case_ref: str
    risk_level: RiskLevel
    due_at: datetime

    def named_force(self) -> str | None:
        return self.force


async def _events(context: Context, since: int) -> tuple[list[ForceEvent], int]:
    page = await changes.page(context.graph, context.principal.force or "", since)
    protection = context.protection
    # As the HTTP feed tells them (docs/policies.md, "Records"): the same changes, the same text.
    shown = changes.told(page.changes, protection.sharing, context.principal)
    others = [c.other_key for c in shown if c.other_key]
    contacts = await officer_contacts(
        context.graph, protection.cipher, protection.sharing, context.principal, others
    )
    events = [  # the guard does not see a subscription's events: they pass the record rule here
        known(event, context)
        for event in (
            ForceEvent(
                seq=str(c.seq),
                kind=c.kind,
                case_ref=c.case_ref,
                at=instant(c.at),
                other_force=c.other_force,
                other_case_ref=c.other_case_ref,
                via=c.via,
                contact=contacts.get(c.other_key or ""),
                group=c.group,
                reasons=list(c.reasons),
            )
            for c in shown
        )
    ]
    return events, int(page.next)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="Cross-force links, regrade alerts and victim actions for the caller's force"
    )
    async def force_events(
        self, info: Info, since: str | None = None
    ) -> AsyncGenerator[ForceEvent, None]:
        context = info.context
        context.require(CASES_READ, SYNC_WRITE)
        if context.principal.force is None:
            raise Forbidden("force events need a token that acts for a force")
        try:
            cursor = changes.parse_cursor(since)
        except ValueError as error:
            raise BadInput(f"since: {error}") from error
        while True:
            events, cursor = await _events(context, cursor)
            for event in events:
                yield event
            if not events:
                await asyncio.sleep(context.poll_seconds)

    @strawberry.subscription(description="Open cases about to pass their target, for coordinators")
    async def cases_due_soon(self, info: Info) -> AsyncGenerator[CaseDueSoon, None]:
        context = info.context
        context.require(OVERSIGHT_READ)
        announced: set[str] = set()
        while True:
            now = context.refresh_now()
            for fact in await region_facts(context):
                due = fact.due_at
                soon = fact.awaiting_enforcement() and now <= due <= now + DUE_SOON_MS
                if soon and fact.key not in announced and context.knows_case(fact.force):
                    announced.add(fact.key)
                    yield CaseDueSoon(
                        force=fact.force,
                        case_ref=fact.case_ref,
                        risk_level=RiskLevel(fact.risk_level),
                        due_at=instant(due) or context.now,
                    )
            await asyncio.sleep(context.poll_seconds)
