"""The graph store port: the only way the rest of Crossforce talks to a graph engine.

Both adapters (Neo4j, FalkorDB) implement `GraphStore`. Queries are portable openCypher kept in
`graph/queries/`; they return plain values (numbers, strings, lists, maps), never engine node
objects, so results look the same whichever engine answered.

The unit of atomicity is one statement: `write` runs one statement as one transaction, which both
engines commit whole or not at all. Work that must be atomic is written as one statement
(`UNWIND`, `FOREACH`, `CALL {}`), which is also the fast way to batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, Protocol, runtime_checkable

Record = dict[str, Any]
Params = Mapping[str, Any]
Engine = Literal["neo4j", "falkordb"]


class GraphError(Exception):
    """A query failed for a reason retrying will not fix (syntax, constraint, type)."""


class ConstraintViolation(GraphError):
    """A uniqueness constraint refused the write."""


class GraphUnavailable(GraphError):
    """The engine could not be reached or did not answer in time; nothing was acknowledged."""


@runtime_checkable
class GraphStore(Protocol):
    """A connected graph engine."""

    @property
    def engine(self) -> Engine: ...

    async def read(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        """Run a read-only statement and return its rows."""

    async def write(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        """Run one statement as one transaction, retried on transient errors."""

    async def shortest_path(
        self, start: tuple[str, str], end: tuple[str, str], max_hops: int
    ) -> list[Record] | None:
        """Nodes of a shortest path between two keyed nodes, each `{label, key}`; None if none."""

    async def migrate(self) -> list[int]:
        """Apply pending schema migrations; return the versions applied now."""

    async def ping(self) -> None:
        """Raise `GraphUnavailable` unless the engine answers a trivial query."""

    async def close(self) -> None: ...
