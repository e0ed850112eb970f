"""Case metadata: the personal-data-free properties of a case that figures, alerts and priorities
are computed from, as one typed record per case (`CaseMetadata`).

The record is what `policies.case_facts.facts_of` turns into facts under the case rules; the
graph cannot build those itself (it imports no policy), so it hands over the record as read, an
absent property as None.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from typing import TypedDict, cast

from graph.port import GraphStore
from graph.queries import reading
from graph.queries import regrade as q


class CaseMetadata(TypedDict):
    """The columns of `graph/queries/reading.py`'s case metadata reads."""

    key: str
    force: str
    caseRef: str
    riskLevel: str
    riskAssessedAt: int | None
    status: str
    open: bool
    source: str
    receivedAt: int
    enforcementAt: int | None
    lastActivityAt: int | None
    openedAt: int | None
    closedAt: int | None
    accessToChildren: bool | None
    mediaA: int | None
    mediaB: int | None
    mediaC: int | None
    victimsIdentified: int | None
    victimsUnidentified: int | None
    victimInContact: bool | None
    groomingIndicated: bool | None
    contactAbuseIndicated: bool | None
    registeredSexOffender: bool | None
    selfGeneratedImagery: bool
    devicesUnexamined: int | None
    oldestUnexaminedSeizedAt: int | None
    firstSafeguardingAt: int | None
    syncedAt: int | None
    seq: int | None
    linkedCases: int | None
    linkedHigh: list[str] | None
    viewsAvoided: int | None
    enforcementTimes: list[int] | None
    enforcementMethods: list[str] | None
    outcomeKind: str | None
    outcomeAt: int | None
    resolvedAt: int | None
    team: str | None


@dataclass(frozen=True)
class Removal:
    """A case removed (its tombstone), with the number its removal was given."""

    key: str
    seq: int


@dataclass(frozen=True)
class Numbering:
    """Where the graph's write numbering stands: the newest number given to a write of cases
    (0 before the first; every write numbered so far has committed) and its epoch, and the same
    of the kept history days. An epoch changes when numbering begins again (a cleared graph)."""

    seq: int
    epoch: str | None
    days: int
    days_epoch: str | None


@dataclass(frozen=True)
class CaseMetadataStore:
    """Reads of case metadata by key, over one graph store."""

    store: GraphStore

    async def of(self, keys: Collection[str]) -> list[CaseMetadata]:
        """The metadata of those of the cases the graph holds."""
        rows = await self.store.read(reading.CASE_METADATA_BY_KEY, {"keys": list(keys)})
        return cast(list[CaseMetadata], rows)

    async def regradable(self, keys: Collection[str], levels: Sequence[str]) -> list[CaseMetadata]:
        """The metadata of those of the cases that are open and of one of the `levels` (those
        the case rules let a regrade alert be raised for)."""
        params = {"keys": list(keys), "levels": list(levels)}
        return cast(list[CaseMetadata], await self.store.read(q.REGRADABLE_METADATA_BY_KEY, params))

    async def numbering(self) -> Numbering:
        """The write numbering of cases and of kept days, in one look."""
        row = (await self.store.read(reading.CASES_SEQ))[0]
        return Numbering(
            int(row["seq"] or 0), row["epoch"], int(row["days"] or 0), row["daysEpoch"]
        )

    async def written_between(self, after: int, upto: int) -> list[CaseMetadata]:
        """The cases whose last write was numbered above `after`, up to `upto`."""
        params = {"after": after, "upto": upto}
        return cast(list[CaseMetadata], await self.store.read(reading.CASE_METADATA_AFTER, params))

    async def removed_between(self, after: int, upto: int) -> list[Removal]:
        """The cases removed with a number above `after`, up to `upto`."""
        rows = await self.store.read(reading.REMOVED_AFTER, {"after": after, "upto": upto})
        return [Removal(str(row["key"]), int(row["seq"])) for row in rows]

    async def pages(self, size: int) -> AsyncIterator[list[CaseMetadata]]:
        """Every case's metadata, `size` node ids a page (a page may hold fewer cases, or none)."""
        top = (await self.store.read(reading.CASE_ID_CEILING))[0]["top"]
        for low in range(0, -1 if top is None else int(top) + 1, size):
            params = {"low": low, "high": low + size}
            yield cast(
                list[CaseMetadata], await self.store.read(reading.CASE_METADATA_BY_ID, params)
            )
