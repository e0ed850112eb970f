"""Neo4j adapter: the port over Bolt with the official async driver.

`execute_query` runs each statement in a managed transaction function, which the driver retries on
transient errors and lost leaders; routing sends reads to followers in a cluster (`neo4j://`).

The server is asked for warnings only, and none of two kinds an operator cannot act on. The
statements are fixed and tested, so an "unrecognized" label or property just means a graph with
no such data yet, and an aggregate skipping the null of an `OPTIONAL MATCH` that found nothing
(`cases.UPSERT` writing a case for the first time) is the statement working as written. A
"deprecation" in them is for the developers, who meet it in the tests when Neo4j is upgraded;
in production it would repeat with every write. Hints, performance, schema and security warnings
still reach the log (the driver's `neo4j.notifications` logger).

Inside a request's causal scope (graph/bookmarks.py) each statement starts after the scope's
bookmarks and records its own, besides the driver's default chaining of this process's calls.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import Any

import neo4j
from neo4j import (
    AsyncGraphDatabase,
    NotificationDisabledClassification,
    NotificationMinimumSeverity,
    RoutingControl,
)
from neo4j import exceptions as neo4j_errors
from neo4j.api import AsyncBookmarkManager

from graph.bookmarks import BadBookmark, CausalScope, current_scope
from graph.migrations import READ_VERSION, RECORD_VERSION, Step, pending
from graph.port import (
    ConstraintViolation,
    Engine,
    GraphError,
    GraphUnavailable,
    Params,
    Record,
)
from graph.slow_queries import SlowQueryLog

UNAVAILABLE = (
    neo4j_errors.ServiceUnavailable,
    neo4j_errors.SessionExpired,
    neo4j_errors.TransientError,
    neo4j_errors.ConnectionAcquisitionTimeoutError,
    OSError,
    TimeoutError,
)

NOTIFICATIONS_MIN_SEVERITY = NotificationMinimumSeverity.WARNING
NOTIFICATIONS_DISABLED = [
    NotificationDisabledClassification.UNRECOGNIZED,
    NotificationDisabledClassification.DEPRECATION,
]


class Neo4jStore:
    def __init__(
        self,
        uri: str,
        *,
        user: str | None = None,
        password: str | None = None,
        database: str | None = None,
        query_timeout: float = 10.0,
        retry_for: float = 5.0,
        slow_query_seconds: float | None = None,
    ) -> None:
        auth = (user, password or "") if user else None
        self._driver = AsyncGraphDatabase.driver(
            uri,
            auth=auth,
            max_connection_pool_size=64,
            connection_acquisition_timeout=query_timeout,
            connection_timeout=2.0,
            max_transaction_retry_time=retry_for,
            notifications_min_severity=NOTIFICATIONS_MIN_SEVERITY,
            notifications_disabled_classifications=NOTIFICATIONS_DISABLED,
        )
        self._database = database
        self._query_timeout = query_timeout
        self._slow = SlowQueryLog("neo4j", slow_query_seconds)

    @property
    def engine(self) -> Engine:
        return "neo4j"

    async def read(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._run(query, params, timeout, RoutingControl.READ)

    async def write(
        self, query: str, params: Params | None = None, *, timeout: float | None = None
    ) -> list[Record]:
        return await self._run(query, params, timeout, RoutingControl.WRITE)

    async def _run(
        self, query: str, params: Params | None, timeout: float | None, routing: RoutingControl
    ) -> list[Record]:
        statement = neo4j.Query(query, timeout=timeout or self._query_timeout)
        started = time.perf_counter()
        scope = current_scope()
        chain = self._driver.execute_query_bookmark_manager
        manager = chain if scope is None else _ScopedBookmarks(scope, chain)
        try:
            result = await self._driver.execute_query(
                statement,
                dict(params or {}),
                routing_=routing,
                database_=self._database,
                bookmark_manager_=manager,
            )
        except UNAVAILABLE as error:
            raise GraphUnavailable("graph engine unreachable") from error
        except neo4j_errors.ConstraintError:
            raise ConstraintViolation("unique constraint violation") from None
        except neo4j_errors.ClientError as error:
            if "InvalidBookmark" in (error.code or ""):
                raise BadBookmark("bookmark is not one this graph made") from None
            if "Timeout" in (error.code or ""):
                raise GraphUnavailable("graph query timed out") from None
            raise GraphError(error.message or error.code or "query failed") from None
        except neo4j_errors.Neo4jError as error:
            raise GraphError(error.code or "query failed") from None
        finally:
            call = "read" if routing is RoutingControl.READ else "write"
            self._slow.observe(query, time.perf_counter() - started, call=call)
        return [_plain(record.data()) for record in result.records]

    async def shortest_path(
        self, start: tuple[str, str], end: tuple[str, str], max_hops: int
    ) -> list[Record] | None:
        rows = await self.read(
            f"MATCH (a:{start[0]} {{key: $a}}), (b:{end[0]} {{key: $b}}) "
            f"MATCH p = shortestPath((a)-[*..{int(max_hops)}]-(b)) "
            "RETURN [n IN nodes(p) | {label: labels(n)[0], key: n.key}] AS nodes",
            {"a": start[1], "b": end[1]},
        )
        return list(rows[0]["nodes"]) if rows else None

    async def migrate(self) -> list[int]:
        rows = await self.read(READ_VERSION)
        current = rows[0]["version"] if rows else 0
        applied = []
        for migration in pending(current):
            for step in migration.steps:
                await self.write(_ddl(step))
            await self.write("CALL db.awaitIndexes(300)")
            if migration.then is not None:
                await self.write(migration.then)
            await self.write(RECORD_VERSION, {"version": migration.version})
            applied.append(migration.version)
        return applied

    async def ping(self) -> None:
        try:
            await self._driver.verify_connectivity()
        except (*UNAVAILABLE, neo4j_errors.DriverError) as error:
            raise GraphUnavailable("graph engine unreachable") from error

    async def close(self) -> None:
        await self._driver.close()


class _ScopedBookmarks(AsyncBookmarkManager):
    """A request's scope chained onto the driver's own: a statement starts after both, and
    what it commits is recorded in both."""

    def __init__(self, scope: CausalScope, chain: AsyncBookmarkManager) -> None:
        self._scope = scope
        self._chain = chain

    async def update_bookmarks(
        self, previous_bookmarks: Collection[str], new_bookmarks: Collection[str]
    ) -> None:
        self._scope.update(previous_bookmarks, new_bookmarks)
        await self._chain.update_bookmarks(previous_bookmarks, new_bookmarks)

    async def get_bookmarks(self) -> Collection[str]:
        return self._scope.bookmarks() | frozenset(await self._chain.get_bookmarks())


def _ddl(step: Step) -> str:
    if step.kind == "unique":
        return (
            f"CREATE CONSTRAINT {step.name} IF NOT EXISTS "
            f"FOR (n:{step.label}) REQUIRE n.{step.prop} IS UNIQUE"
        )
    return f"CREATE INDEX {step.name} IF NOT EXISTS FOR (n:{step.label}) ON (n.{step.prop})"


def _plain(value: Any) -> Any:
    """Driver-specific values (Neo4j temporal types) become plain Python ones."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if hasattr(value, "to_native"):
        return value.to_native()
    return value
