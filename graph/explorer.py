"""The graph explorer's reads, as typed values: cases and the entities they share, a level at a
time, and shortest paths.

Entities hold no personal data (their keys are blind indexes), and a case is read only as far
as its head (force, reference, risk level): what a drawing shows of it. Which of these the
caller may see is the gateway's decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph.port import GraphStore, Record
from graph.queries import explore as q


@dataclass(frozen=True)
class NodeKey:
    """A node of the graph by its label and key (`Case` and `force:caseRef`, or an entity's
    label and blind index)."""

    label: str
    key: str


@dataclass(frozen=True)
class CaseHead:
    """What a drawing shows of a case."""

    key: str
    force: str
    case_ref: str
    risk_level: str


@dataclass(frozen=True)
class CaseEntity:
    """An entity a case points at (victims are the force's own records, never among them)."""

    case: str  # the case's key
    relation: str  # the relationship's type: SUSPECT, USES_DEVICE, CONTAINS_MEDIA...
    entity: NodeKey


@dataclass(frozen=True)
class EntityCase:
    """A case holding an entity."""

    entity: NodeKey
    relation: str
    case: CaseHead


@dataclass(frozen=True)
class EntityForces:
    """Every force whose cases hold an entity."""

    entity: NodeKey
    forces: frozenset[str]


class Explorer:
    """The explorer's reads over one graph store (a request's counted view, for GraphQL)."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def entities_of(self, case_keys: Sequence[str]) -> list[CaseEntity]:
        """The entities each case points at."""
        rows = await self._store.read(q.ENTITIES_OF_CASES, {"keys": list(case_keys)})
        return [
            CaseEntity(row["case"], row["relation"], NodeKey(row["label"], row["entity"]))
            for row in rows
        ]

    async def cases_of(self, entity_keys: Sequence[str]) -> list[EntityCase]:
        """The cases holding each entity, whatever its label (a key names one entity only)."""
        rows = await self._store.read(q.CASES_OF_ENTITIES, {"keys": list(entity_keys)})
        return [
            EntityCase(NodeKey(row["label"], row["entity"]), row["relation"], _head(row))
            for row in rows
        ]

    async def heads(self, case_keys: Sequence[str]) -> dict[str, CaseHead]:
        """The cases found, by key."""
        rows = await self._store.read(q.CASE_HEADS, {"keys": list(case_keys)})
        return {row["case"]: _head(row) for row in rows}

    async def forces_of(self, entity_keys: Sequence[str]) -> list[EntityForces]:
        """The forces whose cases hold each entity found."""
        rows = await self._store.read(q.FORCES_OF_ENTITIES, {"keys": list(entity_keys)})
        return [
            EntityForces(NodeKey(row["label"], row["entity"]), frozenset(row["forces"] or ()))
            for row in rows
        ]

    async def shortest_path(
        self, start: NodeKey, end: NodeKey, max_hops: int
    ) -> list[NodeKey] | None:
        """The nodes of a shortest path of at most `max_hops` between two nodes; None if none."""
        hops = await self._store.shortest_path(
            (start.label, start.key), (end.label, end.key), max_hops
        )
        return None if hops is None else [NodeKey(hop["label"], hop["key"]) for hop in hops]


def _head(row: Record) -> CaseHead:
    return CaseHead(
        key=str(row["case"]), force=str(row["force"]), case_ref=str(row["caseRef"]),
        risk_level=str(row["riskLevel"]),
    )  # fmt: skip
