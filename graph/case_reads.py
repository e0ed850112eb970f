"""What people read of cases, as typed values: the case, its parts, victims, links and images.

The read side of `graph/cases.py`, for the GraphQL loaders. Each method is one round trip for a
batch of case keys, whatever the query's shape. Sealed fields stay sealed: a case's `sealed` maps
each field's pointer to its ciphertext, and opening one is the caller's decision (the sharing
guard's), never this module's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from graph.case_seals import CaseSeal
from graph.port import GraphStore, Record
from graph.queries import links as lq
from graph.queries import reading as q

T = TypeVar("T")


@dataclass(frozen=True)
class StoredDevice:
    """A device of a case as its force described it: nothing personal (identifiers are sealed)."""

    index: int  # its position in the case summary's `devices`
    ref: str | None = None
    type: str | None = None
    make: str | None = None
    seized_at: int | None = None  # epoch milliseconds
    examined_at: int | None = None


@dataclass(frozen=True)
class StoredCase:
    """One case as the graph holds it."""

    key: str  # `force:caseRef`
    force: str
    case_ref: str
    version: int
    risk_level: str
    status: str
    referral_source: str | None
    received_at: int | None  # epoch milliseconds, as every instant here
    opened_at: int | None
    enforcement_at: int | None
    last_activity_at: int | None
    closed_at: int | None
    offences: tuple[str, ...]
    has_officer: bool
    suspect_count: int
    device_count: int
    # Every device in record order; None for a case last synced before the hub kept the list,
    # whose devices are known only where one links through an identifier (`CaseParts.devices`).
    device_items: tuple[StoredDevice, ...] | None
    sealed: Mapping[str, str]  # pointer (`/officer/name`, `/suspects/0/pncId`) -> ciphertext


@dataclass(frozen=True)
class CaseParts:
    """What a case's links to shared entities say of its own records."""

    suspect_refs: Mapping[int, str | None]  # the force's reference of each suspect, by index
    devices: Mapping[int, StoredDevice]  # the devices linked through an identifier, by index


@dataclass(frozen=True)
class StoredVictim:
    """A child victim as the case's force recorded them: identity sealed on the case."""

    key: str  # `force:caseRef:ref`
    index: int  # its position in the case summary's `victims`
    ref: str | None
    identified: bool
    age_band: str | None
    safeguarding_to: tuple[str, ...]  # whom safeguarding referrals went to


@dataclass(frozen=True)
class LinkedCase:
    """Another case sharing an entity of one label with a case (one per case and label)."""

    case: str  # the key of the case the link is read from
    case_force: str | None
    label: str  # the shared entity's label (`graph.queries.links.ENTITY_KINDS`)
    other: CaseSeal
    held: frozenset[str]  # forces whose link events the intake ceiling holds, at this read


@dataclass(frozen=True)
class MediaGrades:
    """A media item of a case: its grade there, and the grades other cases gave the image."""

    item: int  # its position in the case summary's `media`
    category: str | None
    elsewhere: tuple[str, ...]


class CaseReads:
    """Reads of cases by key over one graph store (a request's counted view, for GraphQL)."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def cases(self, keys: Sequence[str]) -> dict[str, StoredCase]:
        """The cases found, by key; a removed or unknown key is absent."""
        rows = await self._store.read(q.CASES, {"keys": list(keys)})
        found = (_case(row["case"]) for row in rows)
        return {case.key: case for case in found}

    async def parts(self, keys: Sequence[str]) -> dict[str, CaseParts]:
        """Each case's suspects' references and identified devices, for every key asked."""
        rows = await self._store.read(q.CASE_PARTS, {"keys": list(keys)})
        grouped = _by_case(rows, keys, lambda row: row)
        return {key: _parts(group) for key, group in grouped.items()}

    async def victims(self, keys: Sequence[str]) -> dict[str, list[StoredVictim]]:
        """Each case's victims in record order, for every key asked."""
        rows = await self._store.read(q.CASE_VICTIMS, {"keys": list(keys)})
        return _by_case(rows, keys, lambda row: _victim(row["victim"]))

    async def links(self, keys: Sequence[str]) -> dict[str, list[LinkedCase]]:
        """Each case's links to other cases, by force, caseRef and label, for every key asked."""
        rows = await self._store.read(lq.CASE_LINKS_WITH_HOLDS, {"keys": list(keys)})
        held = frozenset(rows[0]["held"] or ()) if rows else frozenset()
        return _by_case(rows, keys, lambda row: _link(row, held))

    async def held_forces(self) -> frozenset[str]:
        """The forces whose link events the intake ceiling holds now."""
        return frozenset(str(row["force"]) for row in await self._store.read(lq.HELD_FORCES))

    async def media_graded_elsewhere(self, keys: Sequence[str]) -> dict[str, list[MediaGrades]]:
        """Each case's media items with the grades other cases (any force) gave the same image;
        an item kept under several hashes comes once per hash."""
        rows = await self._store.read(q.MEDIA_GRADED_ELSEWHERE, {"keys": list(keys)})
        return _by_case(rows, keys, _grades)


def _by_case(
    rows: Iterable[Record], keys: Sequence[str], make: Callable[[Record], T]
) -> dict[str, list[T]]:
    grouped: dict[str, list[T]] = {key: [] for key in keys}
    for row in rows:
        grouped[row["case"]].append(make(row))
    return grouped


def _millis(value: Any) -> int | None:
    return None if value is None else int(value)


def _case(node: Mapping[str, Any]) -> StoredCase:
    listed = node.get("deviceItems")
    items = None
    if listed is not None:
        items = tuple(_device(i, props) for i, props in enumerate(json.loads(listed)))
    return StoredCase(
        key=str(node["key"]),
        force=str(node["force"]),
        case_ref=str(node["caseRef"]),
        version=int(node["version"]),
        risk_level=str(node["riskLevel"]),
        status=str(node["status"]),
        referral_source=node.get("referralSource"),
        received_at=_millis(node.get("receivedAt")),
        opened_at=_millis(node.get("openedAt")),
        enforcement_at=_millis(node.get("enforcementAt")),
        last_activity_at=_millis(node.get("lastActivityAt")),
        closed_at=_millis(node.get("closedAt")),
        offences=tuple(node.get("offences") or ()),
        has_officer=bool(node.get("hasOfficer")),
        suspect_count=int(node.get("suspectCount") or 0),
        device_count=int(node.get("deviceCount") or 0),
        device_items=items,
        sealed=json.loads(node.get("sealed") or "{}"),
    )


def _device(index: int, props: Mapping[str, Any]) -> StoredDevice:
    return StoredDevice(
        index=index,
        ref=props.get("ref"),
        type=props.get("type"),
        make=props.get("make"),
        seized_at=_millis(props.get("seizedAt")),
        examined_at=_millis(props.get("examinedAt")),
    )


def _parts(rows: list[Record]) -> CaseParts:
    """A suspect links once per identifier, and a device too: each index is kept once. A
    relationship without an index (an email account kept as a person) names no suspect."""
    suspects: dict[int, str | None] = {}
    devices: dict[int, StoredDevice] = {}
    for row in rows:
        props, index = row["props"], row["props"].get("idx")
        if index is None:
            continue
        if row["rel"] == "SUSPECT":
            suspects[int(index)] = props.get("ref")
        elif row["rel"] == "USES_DEVICE":
            devices[int(index)] = _device(int(index), props)
    return CaseParts(suspect_refs=suspects, devices=devices)


def _victim(props: Mapping[str, Any]) -> StoredVictim:
    return StoredVictim(
        key=str(props["key"]),
        index=int(props.get("idx") or 0),
        ref=props.get("ref"),
        identified=bool(props.get("identified")),
        age_band=props.get("ageBand"),
        safeguarding_to=tuple(props.get("safeguardingTo") or ()),
    )


def _link(row: Record, held: frozenset[str]) -> LinkedCase:
    other = CaseSeal(
        key=str(row["other"]), force=str(row["force"]), case_ref=str(row["caseRef"]),
        sealed=row["sealed"],
    )  # fmt: skip
    return LinkedCase(
        case=str(row["case"]), case_force=row["caseForce"], label=str(row["label"]), other=other,
        held=held,
    )  # fmt: skip


def _grades(row: Record) -> MediaGrades:
    return MediaGrades(
        item=int(row["item"]), category=row["category"], elsewhere=tuple(row["elsewhere"] or ())
    )
