"""Victim identification as team work: claims, hand-overs, identifications and safeguarding
referrals on a victim group, each a recorded step naming the force and officer who took it, and
told to the forces whose cases are in the group.

This is the write side of victim identification; the GraphQL resolvers only read and call here.
An officer's name and a hand-over note are sealed under the acting force's key, bound to the
group, and opened only for callers who see that force's records in full: the same decision as a
case's contact (`federation/contacts.py`).
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from federation.after_sync.feed import append_new
from graph import GraphStore
from graph.victim_groups import StepRecord, VictimGroupStore
from policies.case_facts import DAY_MS
from policies.crypto import DecryptionFailed, FieldCipher
from policies.keys import KeyringError
from policies.principal import Principal
from policies.scopes import VICTIM_ID_WRITE, Forbidden
from policies.sharing import PolicyHolder, RecordView

CLAIM_STALE_DAYS = 3  # a claim untouched this long is free again: one absent officer stalls no one
NOTE_LIMIT = 2000
OFFICER_NAME = "/officerName"
NOTE = "/note"

# What a step records; the first two are outcomes for a victim, the rest the group's work.
IDENTIFIED = "IDENTIFIED"
SAFEGUARDING_REFERRAL = "SAFEGUARDING_REFERRAL"
CLAIMED = "CLAIMED"
HANDED_OVER = "HANDED_OVER"
RETURNED = "RETURNED"  # handed back to the regional queue
REFERRAL_UPDATED = "REFERRAL_UPDATED"
OUTCOMES = (IDENTIFIED, SAFEGUARDING_REFERRAL)


class WorkRefused(Exception):
    """A step the group's state does not allow the caller, said plainly."""


class AlreadyRecorded(WorkRefused):
    """The step was taken already, by the force the message names: it is not taken twice."""


@dataclass(frozen=True)
class Member:
    """A case with a victim in the group: where the group's news goes."""

    force: str
    case_ref: str


@dataclass(frozen=True)
class Claim:
    group: str
    force: str
    officer: str | None
    officer_name: str | None
    at: int


@dataclass(frozen=True)
class Step:
    id: str
    group: str
    kind: str
    force: str
    officer: str | None
    officer_name: str | None
    at: int
    note: str | None = None
    victim: str | None = None  # the victim's key: `force:caseRef:ref`
    referred_to: str | None = None
    outcome: str | None = None
    to_force: str | None = None
    to_officer: str | None = None
    about: str | None = None  # the referral a REFERRAL_UPDATED step changed


def acting_force(principal: Principal) -> str:
    """The force a victim-identification step is recorded for; refused without the scope or a
    force (a regional role cannot act for a force)."""
    if not principal.has(VICTIM_ID_WRITE):
        raise Forbidden(f"this needs the {VICTIM_ID_WRITE} scope")
    if principal.force is None:
        raise Forbidden("recording for a victim group needs a token that acts for a force")
    return principal.force


def stale_before(now_ms: int) -> int:
    """Claims taken before this are free again."""
    return now_ms - CLAIM_STALE_DAYS * DAY_MS


class VictimWork:
    def __init__(self, store: GraphStore, cipher: FieldCipher, sharing: PolicyHolder) -> None:
        self._store = store
        self._groups = VictimGroupStore(store)
        self._cipher = cipher
        self._sharing = sharing

    # Reading ---------------------------------------------------------------------------------

    async def claims(self, reader: Principal, groups: Sequence[str]) -> dict[str, Claim]:
        claims = {}
        for kept in await self._groups.claims(groups):
            opened = await self._opened(reader, kept.force, kept.group, kept.sealed)
            claims[kept.group] = Claim(
                group=kept.group, force=kept.force, officer=kept.officer,
                officer_name=opened.get(OFFICER_NAME), at=kept.at,
            )  # fmt: skip
        return claims

    async def steps(self, reader: Principal, groups: Sequence[str]) -> dict[str, list[Step]]:
        """Each group's recorded steps, oldest first, with names and notes as the reader may
        see them."""
        steps: dict[str, list[Step]] = defaultdict(list)
        for kept in await self._groups.steps(groups):
            opened = await self._opened(reader, kept.force, kept.group, kept.sealed)
            steps[kept.group].append(
                Step(
                    id=kept.id, group=kept.group, kind=kept.kind, force=kept.force,
                    officer=kept.officer, officer_name=opened.get(OFFICER_NAME), at=kept.at,
                    note=opened.get(NOTE), victim=kept.victim, referred_to=kept.referred_to,
                    outcome=kept.outcome, to_force=kept.to_force, to_officer=kept.to_officer,
                    about=kept.about,
                )
            )  # fmt: skip
        return steps

    async def identified(self, victims: Iterable[str]) -> set[str]:
        """Which of these victims were identified through the hub."""
        return await self._groups.identified(victims)

    # Writing ---------------------------------------------------------------------------------

    async def claim(self, actor: Principal, group: str, now_ms: int) -> None:
        force = acting_force(actor)
        sealed = await self._sealed(force, group, {OFFICER_NAME: actor.name})
        if not await self._groups.take_claim(
            group, force, actor.officer, sealed, now_ms, stale_before(now_ms)
        ):
            raise WorkRefused(
                "another force is working on this group; ask them or wait for a hand-over"
            )
        await self._record(actor, group, CLAIMED, now_ms)

    async def hand_over(
        self,
        actor: Principal,
        group: str,
        now_ms: int,
        members: Sequence[Member],
        *,
        to_force: str | None = None,
        to_officer: str | None = None,
        note: str | None = None,
    ) -> None:
        """Back to the regional queue, or on to a named force (and officer) with a note."""
        force = acting_force(actor)
        if note is not None and len(note) > NOTE_LIMIT:
            raise ValueError(f"note: at most {NOTE_LIMIT} characters")
        if to_force is None:
            if to_officer is not None:
                raise ValueError("to.officer: name the officer's force too")
            done = await self._groups.release_claim(group, force, stale_before(now_ms))
        else:
            done = await self._groups.hand_claim(
                group, force, to_force, to_officer, now_ms, stale_before(now_ms)
            )
        if not done:
            raise WorkRefused("only the force working on this group can hand it over")
        kind = RETURNED if to_force is None else HANDED_OVER
        await self._record(
            actor, group, kind, now_ms, note=note, to_force=to_force, to_officer=to_officer
        )
        if to_force is not None:
            whom = f"{to_officer} of {to_force}" if to_officer else to_force
            reason = f"{force} handed the victim group to {whom}"
            told = [(m, reason) for m in members if m.force == to_force]
            await self._tell(group, f"VICTIM_{HANDED_OVER}", force, now_ms, told)

    async def identify(
        self, actor: Principal, group: str, victim: Member, victim_key: str, now_ms: int,
        members: Sequence[Member], *, already_in_record: bool,
    ) -> None:  # fmt: skip
        """Once per victim across the region: a second force is told who recorded it first."""
        force = acting_force(actor)
        step = StepRecord(
            id=_step_id(), group=group, kind=IDENTIFIED, force=force, at=now_ms,
            client=actor.client_id, officer=actor.officer, victim=victim_key,
            sealed=await self._sealed(force, group, {OFFICER_NAME: actor.name}),
        )  # fmt: skip
        if not await self._groups.identify(step):
            by = await self._groups.identified_by(victim_key) or "another force"
            raise AlreadyRecorded(f"this victim's identification is already recorded by {by}")
        if not already_in_record:
            await self._groups.count_identified(group)
        await self._tell_members(group, IDENTIFIED, force, now_ms, members, victim)

    async def refer(
        self, actor: Principal, group: str, victim: Member, victim_key: str, now_ms: int,
        members: Sequence[Member], *, agency: str, outcome: str,
    ) -> str:  # fmt: skip
        force = acting_force(actor)
        step = await self._record(
            actor, group, SAFEGUARDING_REFERRAL, now_ms, victim=victim_key,
            referred_to=agency, outcome=outcome,
        )  # fmt: skip
        await self._tell_members(group, SAFEGUARDING_REFERRAL, force, now_ms, members, victim)
        return step

    async def update_referral(
        self, actor: Principal, referral: str, outcome: str, now_ms: int,
        owner: Member,
    ) -> str:  # fmt: skip
        """A referral's new outcome, by the force that made it, told to the victim's force."""
        force = acting_force(actor)
        if not await self._groups.mark_referral_updated(referral, force, now_ms):
            raise WorkRefused("only the force that made this referral can update its outcome")
        made = await self._groups.referral(referral)
        assert made is not None  # just marked
        group = made.group
        await self._record(
            actor, group, REFERRAL_UPDATED, now_ms, victim=made.victim,
            referred_to=made.referred_to, outcome=outcome, about=referral,
        )  # fmt: skip
        reason = (
            f"{force} updated a safeguarding referral for a victim of {owner.force} case "
            f"{owner.case_ref}: {outcome}"
        )
        await self._tell(group, "VICTIM_SAFEGUARDING_OUTCOME", force, now_ms, [(owner, reason)])
        return group

    async def referral(self, referral: str) -> tuple[str, str] | None:
        """The group and victim key of a safeguarding referral, if there is one."""
        made = await self._groups.referral(referral)
        return None if made is None else (made.group, made.victim)

    # ------------------------------------------------------------------------------------------

    async def _record(
        self,
        actor: Principal,
        group: str,
        kind: str,
        now_ms: int,
        *,
        note: str | None = None,
        victim: str | None = None,
        referred_to: str | None = None,
        outcome: str | None = None,
        to_force: str | None = None,
        to_officer: str | None = None,
        about: str | None = None,
    ) -> str:
        force = acting_force(actor)
        step = StepRecord(
            id=_step_id(), group=group, kind=kind, force=force, at=now_ms,
            client=actor.client_id, officer=actor.officer,
            sealed=await self._sealed(force, group, {OFFICER_NAME: actor.name, NOTE: note}),
            victim=victim, referred_to=referred_to, outcome=outcome, to_force=to_force,
            to_officer=to_officer, about=about,
        )  # fmt: skip
        await self._groups.record(step)
        return step.id

    async def _sealed(self, force: str, group: str, values: dict[str, str | None]) -> str | None:
        present = [(pointer, value) for pointer, value in values.items() if value]
        if not present:
            return None
        _, sealed = await self._cipher.seal_record(force, _sealed_for(group), present)
        return json.dumps(sealed, sort_keys=True)

    async def _opened(
        self, reader: Principal, force: str, group: str, sealed: str | None
    ) -> dict[str, str]:
        if not sealed or self._sharing.record_view(reader, force) != RecordView.FULL:
            return {}
        opened = {}
        for pointer, value in json.loads(sealed).items():
            try:
                opened[pointer] = await self._cipher.open(force, _sealed_for(group), pointer, value)
            except (DecryptionFailed, KeyringError):
                continue  # shredded or damaged: the name or note is simply not there
        return opened

    async def _tell_members(
        self, group: str, kind: str, force: str, now_ms: int, members: Sequence[Member],
        victim: Member,
    ) -> None:  # fmt: skip
        what = "an identification" if kind == IDENTIFIED else "a safeguarding referral"
        # The victim's case is named to its own force only: the reason is plain text, which the
        # record-level decision (`told`) cannot filter for the other member forces.
        own = f"{force} recorded {what} for a victim of {victim.force} case {victim.case_ref}"
        other = f"{force} recorded {what} for a victim in the group"
        told = [(m, own if m.force == victim.force else other) for m in members]
        await self._tell(group, f"VICTIM_{kind}", force, now_ms, told)

    async def _tell(
        self, group: str, kind: str, force: str, now_ms: int,
        told: Sequence[tuple[Member, str]],
    ) -> None:  # fmt: skip
        events = {}
        for member, reason in told:
            dedupe = f"VICTIM|{group}|{kind}|{now_ms}|{member.force}|{member.case_ref}"
            events[dedupe] = {
                "dedupe": dedupe, "kind": kind, "force": member.force,
                "caseRef": member.case_ref, "otherForce": force, "via": "VICTIM_GROUP",
                "group": group, "reasons": [reason], "at": now_ms,
            }  # fmt: skip
        if events:
            await append_new(self._store, events)


def _step_id() -> str:
    return uuid.uuid4().hex


def _sealed_for(group: str) -> str:
    """What a sealed name or note is bound to in place of a case reference."""
    return f"victim-group:{group}"
