"""Graph query latency for Prometheus: `MeasuredGraphStore` wraps any `GraphStore`.

Queries are known by engine, kind of call (read, write, shortest_path, migrate, ping) and
outcome, never by their text or parameters, which carry blind indexes and sealed values.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from prometheus_client import Histogram

from graph.port import Engine, GraphStore, GraphUnavailable, Params, Record

GRAPH_QUERY_LATENCY = Histogram(
    "crossforce_graph_query_duration_seconds",
    "Time a graph call took, by engine, call (read, write, shortest_path, migrate, ping) and "
    "outcome (ok, unavailable, error)",
    ["engine", "call", "outcome"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)

T = TypeVar("T")


class MeasuredGraphStore:
    """A `GraphStore` that times every call of the store it wraps."""

    def __init__(self, store: GraphStore) -> None:
        self.inner = store
        # Label lookups cost as much as the observation itself: keep each series' child.
        self._series: dict[tuple[str, str], Any] = {}

    @property
    def engine(self) -> Engine:
        return self.inner.engine

    async def _timed(self, call: str, run: Callable[[], Awaitable[T]]) -> T:
        outcome = "error"
        started = time.perf_counter()
        try:
            result = await run()
            outcome = "ok"
            return result
        except GraphUnavailable:
            outcome = "unavailable"
            raise
        finally:
            self._series_of(call, outcome).observe(time.perf_counter() - started)

    def _series_of(self, call: str, outcome: str) -> Any:
        series = self._series.get((call, outcome))
        if series is None:
            series = GRAPH_QUERY_LATENCY.labels(self.inner.engine, call, outcome)
            self._series[(call, outcome)] = series
        return series

    async def read(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._timed("read", lambda: self.inner.read(query, params, timeout=timeout))

    async def write(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._timed("write", lambda: self.inner.write(query, params, timeout=timeout))

    async def shortest_path(
        self, start: tuple[str, str], end: tuple[str, str], max_hops: int
    ) -> list[Record] | None:
        return await self._timed(
            "shortest_path", lambda: self.inner.shortest_path(start, end, max_hops)
        )

    async def migrate(self) -> list[int]:
        return await self._timed("migrate", self.inner.migrate)

    async def ping(self) -> None:
        await self._timed("ping", self.inner.ping)

    async def close(self) -> None:
        await self.inner.close()
