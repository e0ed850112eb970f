"""FalkorDB adapter: the port over RESP with the `falkordb` asyncio client."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.exceptions as redis_errors
from falkordb.asyncio import FalkorDB

from graph.migrations import READ_VERSION, RECORD_VERSION, Step, pending
from graph.port import (
    ConstraintViolation,
    Engine,
    GraphError,
    GraphUnavailable,
    Params,
    Record,
)
from graph.retry import RetryPolicy
from graph.slow_queries import SlowQueryLog

TRANSIENT = (
    redis_errors.ConnectionError,
    redis_errors.TimeoutError,
    redis_errors.BusyLoadingError,
    ConnectionError,
    OSError,
)

# Bidirectional breadth-first search bounds: past these a path query is refused, not slow.
MAX_FRONTIER = 20_000

NEIGHBOURS = (
    "UNWIND $ids AS i MATCH (n)--(m) WHERE id(n) = i RETURN DISTINCT i AS id, id(m) AS next"
)
KEYED_NODES = (
    "UNWIND $ids AS i MATCH (n) WHERE id(n) = i RETURN i AS id, labels(n)[0] AS label, n.key AS key"
)


def _transient(error: BaseException) -> bool:
    # redis-py's AuthenticationError is a ConnectionError, but a wrong password stays wrong.
    return isinstance(error, TRANSIENT) and not isinstance(error, redis_errors.AuthenticationError)


def _safe_message(error: Exception) -> str:
    """FalkorDB echoes the query (with its parameter header) in errors: keep only the reason."""
    text = str(error)
    for marker in (" errCtx", " line:", "CYPHER "):
        text = text.split(marker, 1)[0]
    return text.strip()[:200]


class FalkorDBStore:
    def __init__(
        self,
        host: str,
        port: int,
        *,
        graph_name: str = "crossforce",
        password: str | None = None,
        query_timeout: float = 10.0,
        retry_for: float = 5.0,
        slow_query_seconds: float | None = None,
    ) -> None:
        self._connect = dict(
            host=host,
            port=port,
            password=password,
            socket_timeout=query_timeout,
            socket_connect_timeout=2.0,
            max_connections=64,
        )
        self._graph_name = graph_name
        self._db: FalkorDB | None = None
        self._query_timeout = query_timeout
        self._retry = RetryPolicy(retry_for=retry_for)
        self._slow = SlowQueryLog("falkordb", slow_query_seconds)

    @property
    def engine(self) -> Engine:
        return "falkordb"

    async def _client(self) -> FalkorDB:
        # The client talks to the server as it is built, so build it only once the server answers.
        if self._db is None:
            self._db = await asyncio.to_thread(FalkorDB, **self._connect)
        return self._db

    async def _graph(self) -> Any:
        return (await self._client()).select_graph(self._graph_name)

    async def read(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._run(query, params, timeout, read_only=True)

    async def write(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._run(query, params, timeout, read_only=False)

    async def _run(
        self, query: str, params: Params | None, timeout: float | None, *, read_only: bool
    ) -> list[Record]:
        limit_ms = int((timeout or self._query_timeout) * 1000)
        started = time.perf_counter()
        try:
            async for attempt in self._retry.attempts(_transient):
                with attempt:
                    graph = await self._graph()
                    run = graph.ro_query if read_only else graph.query
                    result = await run(query, dict(params or {}), timeout=limit_ms)
        except redis_errors.AuthenticationError:
            # Not transient: a wrong or missing password stays wrong on every retry.
            raise GraphError("the graph server refused the password") from None
        except TRANSIENT as error:
            raise GraphUnavailable("graph engine unreachable") from error
        except redis_errors.ResponseError as error:
            if read_only and "empty key" in str(error):
                return []  # the graph has no data yet: FalkorDB creates it on first write
            raise _classify(error) from None
        finally:
            self._slow.observe(
                query, time.perf_counter() - started, call="read" if read_only else "write"
            )
        names = [column[1] for column in result.header]
        return [dict(zip(names, row, strict=True)) for row in result.result_set]

    async def shortest_path(
        self, start: tuple[str, str], end: tuple[str, str], max_hops: int
    ) -> list[Record] | None:
        # FalkorDB's shortestPath follows one direction only; links run both ways, so search
        # from both ends at once, one round trip per level.
        ends = await self.read(
            f"MATCH (a:{start[0]} {{key: $a}}), (b:{end[0]} {{key: $b}}) "
            "RETURN id(a) AS a, id(b) AS b",
            {"a": start[1], "b": end[1]},
        )
        if not ends:
            return None
        ids = _BidirectionalSearch(ends[0]["a"], ends[0]["b"])
        path = await self._search(ids, max_hops)
        if path is None:
            return None
        rows = {row["id"]: row for row in await self.read(KEYED_NODES, {"ids": path})}
        return [{"label": rows[i]["label"], "key": rows[i]["key"]} for i in path]

    async def _search(self, search: _BidirectionalSearch, max_hops: int) -> list[int] | None:
        for _ in range(max_hops):
            if search.done:
                break
            frontier = search.next_frontier()
            if not frontier or len(frontier) > MAX_FRONTIER:
                return None
            rows = await self.read(NEIGHBOURS, {"ids": frontier})
            search.expand([(row["id"], row["next"]) for row in rows])
        return search.path()

    async def migrate(self) -> list[int]:
        rows = await self.read(READ_VERSION)
        current = rows[0]["version"] if rows else 0
        applied = []
        for migration in pending(current):
            for step in migration.steps:
                await self._apply(step)
            if migration.then is not None:
                await self.write(migration.then)
            await self.write(RECORD_VERSION, {"version": migration.version})
            applied.append(migration.version)
        return applied

    async def _apply(self, step: Step) -> None:
        graph = await self._graph()
        try:
            await graph.create_node_range_index(step.label, step.prop)
        except redis_errors.ResponseError as error:
            if "already indexed" not in str(error):
                raise GraphError(_safe_message(error)) from None
        if step.kind == "unique":
            await self._ensure_unique(step)

    async def _ensure_unique(self, step: Step) -> None:
        graph = await self._graph()
        existing = await graph.list_constraints()
        if any(
            c["type"] == "UNIQUE" and c["label"] == step.label and c["properties"] == [step.prop]
            for c in existing
        ):
            return
        try:
            await graph.create_node_unique_constraint(step.label, step.prop)
        except redis_errors.ResponseError as error:
            # Another replica (or worker) starting at the same time created it first.
            if "already exists" not in str(error):
                raise GraphError(_safe_message(error)) from None
        # Constraints build in the background; wait so later writes are checked.
        for _ in range(200):
            states = await graph.list_constraints()
            if any(c["label"] == step.label and c["status"] == "OPERATIONAL" for c in states):
                return
            await asyncio.sleep(0.05)
        raise GraphError(f"constraint on {step.label}.{step.prop} did not become operational")

    async def ping(self) -> None:
        try:
            client = await self._client()
            await asyncio.wait_for(client.connection.ping(), timeout=2.0)
        except (TimeoutError, *TRANSIENT) as error:
            raise GraphUnavailable("graph engine unreachable") from error
        except redis_errors.ResponseError as error:
            # The server refuses even PING when it cannot persist (MISCONF).
            raise GraphUnavailable(
                "graph refuses writes (disk or memory full)"
                if _refuses_writes(error)
                else "graph engine answered PING with an error"
            ) from None

    async def close(self) -> None:
        if self._db is not None:
            await self._db.aclose()


# How the server says it refuses writes for want of disk or memory: a snapshot or the append-only
# file could not be written (a full disk), memory is at `maxmemory`, or it is a read-only replica.
# Nothing was written and the same statement will succeed once that is fixed: a 503, not a
# rejected record.
# redis-py gives OOM and READONLY classes of their own (and strips the code from the message).
_WRITES_REFUSED = ("MISCONF", "No space left")
_WRITES_REFUSED_ERRORS = (redis_errors.OutOfMemoryError, redis_errors.ReadOnlyError)


def _refuses_writes(error: redis_errors.ResponseError) -> bool:
    if isinstance(error, _WRITES_REFUSED_ERRORS):
        return True
    message = str(error)
    return any(sign in message for sign in _WRITES_REFUSED)


def _classify(error: redis_errors.ResponseError) -> GraphError:
    message = _safe_message(error)
    if _refuses_writes(error):
        return GraphUnavailable("graph refuses writes (disk or memory full)")
    if "unique constraint violation" in message:
        return ConstraintViolation(message)
    if "timed out" in message.lower():
        return GraphUnavailable("graph query timed out")
    return GraphError(message)


class _BidirectionalSearch:
    """Meets in the middle: expands the smaller side each level, remembering parents."""

    def __init__(self, start: int, end: int) -> None:
        self._parents: tuple[dict[int, int | None], dict[int, int | None]] = (
            {start: None},
            {end: None},
        )
        self._frontiers: tuple[list[int], list[int]] = ([start], [end])
        self._side = 0
        self._meeting: int | None = start if start == end else None

    @property
    def done(self) -> bool:
        return self._meeting is not None

    def next_frontier(self) -> list[int]:
        self._side = 0 if len(self._frontiers[0]) <= len(self._frontiers[1]) else 1
        return self._frontiers[self._side]

    def expand(self, edges: list[tuple[int, int]]) -> None:
        mine, theirs = self._parents[self._side], self._parents[1 - self._side]
        frontier: list[int] = []
        for node, neighbour in edges:
            if neighbour in mine:
                continue
            mine[neighbour] = node
            frontier.append(neighbour)
            if neighbour in theirs and self._meeting is None:
                self._meeting = neighbour
        frontiers = list(self._frontiers)
        frontiers[self._side] = frontier
        self._frontiers = (frontiers[0], frontiers[1])

    def path(self) -> list[int] | None:
        if self._meeting is None:
            return None
        return (
            _walk(self._parents[0], self._meeting)[::-1]
            + _walk(self._parents[1], self._meeting)[1:]
        )


def _walk(parents: dict[int, int | None], node: int) -> list[int]:
    chain = [node]
    while (parent := parents[chain[-1]]) is not None:
        chain.append(parent)
    return chain
