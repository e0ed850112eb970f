"""The victim groups' repository: the regional queue as the after-sync step keeps it, and the
claims, steps and identifications recorded on it, as typed values.

A group is kept as a `VictimGroup` node; claims (`VictimGroupClaim`), recorded steps
(`VictimAction`) and identifications (`VictimIdentification`) hang off its id. Officer names
and notes arrive sealed and leave sealed: opening them is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from graph.port import GraphStore
from graph.queries import victims as q


@dataclass(frozen=True)
class GroupMember:
    """One force's record of a victim in a group."""

    key: str  # `force:caseRef:ref`
    force: str
    case_ref: str
    ref: str | None
    age_band: str | None
    identified: bool  # by its force's own record


@dataclass(frozen=True)
class KeptGroup:
    """A group as the after-sync step kept it, with its members."""

    id: str
    unidentified: int
    shared_images: int
    shared_series: int
    categories: tuple[str, ...]
    members: tuple[GroupMember, ...]


@dataclass(frozen=True)
class Join:
    """A victim joined to others by an image (`Media:<key>`) or a series (`Series:<key>`)."""

    victim: str
    force: str
    case_ref: str
    identified: bool  # by its force's record, or through the hub
    link: str
    category: str | None = None  # the grade its case gave the image


@dataclass(frozen=True)
class GroupFigures:
    """What the after-sync step keeps of a group, compared before a group is written again."""

    unidentified: int
    shared_images: int
    shared_series: int
    categories: tuple[str, ...]
    victims: tuple[str, ...]  # victim keys, sorted


@dataclass(frozen=True)
class ClaimRecord:
    group: str
    force: str
    officer: str | None
    sealed: str | None
    at: int


@dataclass(frozen=True)
class StepRecord:
    """A recorded step: a claim, hand-over, identification, referral or referral update."""

    id: str
    group: str
    kind: str
    force: str
    at: int
    client: str | None = None
    officer: str | None = None
    sealed: str | None = None
    victim: str | None = None
    referred_to: str | None = None
    outcome: str | None = None
    to_force: str | None = None
    to_officer: str | None = None
    about: str | None = None


@dataclass(frozen=True)
class Referral:
    id: str
    group: str
    force: str
    victim: str
    referred_to: str | None


class VictimGroupStore:
    """Reads and writes of the victim-identification queue over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    # The queue -------------------------------------------------------------------------------

    async def page(self, held: Sequence[str], skip: int, first: int) -> list[KeptGroup]:
        """Groups not in `held` first, then by victims not yet identified, then by id."""
        params = {"held": list(held), "skip": skip, "first": first}
        return [_group(row) for row in await self._store.read(q.GROUP_PAGE, params)]

    async def count(self) -> int:
        rows = await self._store.read(q.GROUP_COUNT)
        return int(rows[0]["n"]) if rows else 0

    async def group(self, group_id: str) -> KeptGroup | None:
        rows = await self._store.read(q.GROUP_BY_ID, {"id": group_id})
        return _group(rows[0]) if rows else None

    async def held(self, stale_before: int) -> list[str]:
        """The groups a force holds by a claim taken at or after `stale_before`."""
        rows = await self._store.read(q.HELD_CLAIMS, {"staleBefore": stale_before})
        return [str(row["group"]) for row in rows]

    # Kept by the after-sync step -------------------------------------------------------------

    async def joins_around(self, case_keys: Iterable[str]) -> list[Join]:
        """The joins of these cases' victims, followed out until no new victim turns up."""
        rows = await self._store.read(q.VICTIMS_OF_CASES, {"keys": sorted(case_keys)})
        frontier = {str(row["victim"]) for row in rows}
        seen: set[str] = set()
        found: list[Mapping[str, Any]] = []
        while frontier:
            seen |= frontier
            params = {"victims": sorted(frontier)}
            batch = await self._store.read(q.MEDIA_JOINS, params)
            batch += await self._store.read(q.SERIES_JOINS, params)
            found += batch
            frontier = {str(row["victim"]) for row in batch} - seen
        # Identified through the hub counts as identified before the force's record says so.
        here = await self.identified(seen)
        return [
            Join(victim=row["victim"], force=row["force"], case_ref=row["caseRef"],
                 identified=bool(row["identified"]) or row["victim"] in here, link=row["link"],
                 category=row["category"] or None)
            for row in found
        ]  # fmt: skip

    async def figures_of_cases(self, case_keys: Iterable[str]) -> dict[str, GroupFigures]:
        """The groups kept for these cases, by id."""
        rows = await self._store.read(q.GROUPS_OF, {"keys": sorted(case_keys)})
        return {
            str(row["id"]): GroupFigures(
                unidentified=int(row["unidentified"] or 0),
                shared_images=int(row["sharedImages"] or 0),
                shared_series=int(row["sharedSeries"] or 0),
                categories=tuple(row["categories"] or ()), victims=tuple(row["victims"] or ()),
            )
            for row in rows
        }  # fmt: skip

    async def replace_groups(
        self, dropped: Sequence[str], written: Mapping[str, tuple[GroupFigures, Sequence[str]]],
        synced: Iterable[str],
    ) -> None:  # fmt: skip
        """Drop the `dropped` groups, and groups left with no case once a `synced` case was
        removed; then write each of `written` (id: figures and the keys of its cases)."""
        if dropped:
            await self._store.write(q.DROP_GROUPS, {"ids": list(dropped)})
        if await self._store.read(q.REMOVED, {"keys": sorted(synced)}):
            await self._store.write(q.DROP_CASELESS_GROUPS)
        if written:
            groups = [
                {"id": group_id, "props": _figure_props(figures), "cases": sorted(cases)}
                for group_id, (figures, cases) in written.items()
            ]
            await self._store.write(q.WRITE_GROUPS, {"groups": groups})

    # Claims ----------------------------------------------------------------------------------

    async def claims(self, groups: Sequence[str]) -> list[ClaimRecord]:
        rows = await self._store.read(q.CLAIMS, {"groups": list(groups)})
        return [
            ClaimRecord(group=row["group"], force=row["force"], officer=row["officer"] or None,
                        sealed=row["sealed"] or None, at=int(row["at"]))
            for row in rows
        ]  # fmt: skip

    async def take_claim(
        self, group: str, force: str, officer: str | None, sealed: str | None, now_ms: int,
        stale_before: int,
    ) -> bool:  # fmt: skip
        """Claim the group when free, already the force's, or left stale; whether it was."""
        params = {"group": group, "force": force, "officer": officer, "sealed": sealed,
                  "now": now_ms, "staleBefore": stale_before}  # fmt: skip
        return bool(await self._store.write(q.CLAIM, params))

    async def release_claim(self, group: str, force: str, stale_before: int) -> bool:
        """Back to the regional queue, by the force holding it (or anyone, once stale)."""
        params = {"group": group, "force": force, "staleBefore": stale_before}
        rows = await self._store.write(q.RELEASE, params)
        return bool(rows and rows[0]["released"])

    async def hand_claim(
        self, group: str, force: str, to_force: str, to_officer: str | None, now_ms: int,
        stale_before: int,
    ) -> bool:  # fmt: skip
        """The claim moves to a named force (and officer), fresh; whether the caller held it."""
        params = {"group": group, "force": force, "toForce": to_force, "toOfficer": to_officer,
                  "now": now_ms, "staleBefore": stale_before}  # fmt: skip
        return bool(await self._store.write(q.HAND_TO, params))

    # Steps -----------------------------------------------------------------------------------

    async def steps(self, groups: Sequence[str]) -> list[StepRecord]:
        """Every recorded step of these groups, oldest first."""
        rows = await self._store.read(q.ACTIONS, {"groups": list(groups)})
        return [_step(row) for row in rows]

    async def record(self, step: StepRecord) -> None:
        await self._store.write(q.RECORD_ACTION, _step_params(step))

    async def identify(self, step: StepRecord) -> bool:
        """Record the step's victim as identified, once across the region: False when a force
        recorded it first (then nothing is written)."""
        return bool(await self._store.write(q.IDENTIFY, _step_params(step)))

    async def identified_by(self, victim: str) -> str | None:
        """The force that recorded the victim's identification, if one did."""
        rows = await self._store.read(q.IDENTIFIED_BY, {"victim": victim})
        return str(rows[0]["force"]) if rows else None

    async def identified(self, victims: Iterable[str]) -> set[str]:
        """Which of these victims were identified through the hub."""
        rows = await self._store.read(q.IDENTIFIED_OF, {"victims": sorted(set(victims))})
        return {str(row["victim"]) for row in rows}

    async def count_identified(self, group: str) -> None:
        """One fewer victim of the group left to identify, at once rather than at the next sync."""
        await self._store.write(q.COUNT_IDENTIFIED, {"group": group})

    async def referral(self, referral: str) -> Referral | None:
        rows = await self._store.read(q.REFERRAL, {"id": referral})
        if not rows:
            return None
        row = rows[0]
        return Referral(id=referral, group=row["group"], force=row["force"],
                        victim=row["victim"], referred_to=row["referredTo"])  # fmt: skip

    async def mark_referral_updated(self, referral: str, force: str, now_ms: int) -> bool:
        """Whether the referral is the force's (only the force that made it may update it)."""
        params = {"id": referral, "force": force, "at": now_ms}
        return bool(await self._store.write(q.UPDATE_REFERRAL, params))


def _group(row: Mapping[str, Any]) -> KeptGroup:
    members = tuple(
        GroupMember(key=v["key"], force=v["force"], case_ref=v["caseRef"], ref=v.get("ref"),
                    age_band=v.get("ageBand"), identified=bool(v.get("identified")))
        for v in row["victims"]
    )  # fmt: skip
    return KeptGroup(
        id=str(row["id"]), unidentified=int(row["unidentified"] or 0),
        shared_images=int(row["sharedImages"] or 0), shared_series=int(row["sharedSeries"] or 0),
        categories=tuple(row["categories"] or ()), members=members,
    )  # fmt: skip


def _figure_props(figures: GroupFigures) -> dict[str, Any]:
    return {
        "unidentified": figures.unidentified, "sharedImages": figures.shared_images,
        "sharedSeries": figures.shared_series, "categories": list(figures.categories),
        "victims": list(figures.victims),
    }  # fmt: skip


def _step(row: Mapping[str, Any]) -> StepRecord:
    return StepRecord(
        id=row["id"] or f"{row['group']}:{row['at']}", group=row["group"], kind=row["kind"],
        force=row["force"], at=int(row["at"]), officer=row["officer"], sealed=row["sealed"],
        victim=row["victim"], referred_to=row["referredTo"], outcome=row["outcome"],
        to_force=row["toForce"], to_officer=row["toOfficer"], about=row["about"],
    )  # fmt: skip


def _step_params(step: StepRecord) -> dict[str, Any]:
    return {
        "id": step.id, "group": step.group, "kind": step.kind, "force": step.force,
        "client": step.client, "officer": step.officer, "at": step.at, "sealed": step.sealed,
        "victim": step.victim, "referredTo": step.referred_to, "outcome": step.outcome,
        "toForce": step.to_force, "toOfficer": step.to_officer, "about": step.about,
    }  # fmt: skip
