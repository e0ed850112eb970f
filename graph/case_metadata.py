"""Case metadata: the personal-data-free properties of a case that figures, alerts and priorities
are computed from, as one typed record per case (`CaseMetadata`).

The record is what `policies.case_facts.facts_of` turns into facts under the case rules; the
graph cannot build those itself (it imports no policy), so it hands over the record as read, an
absent property as None.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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
