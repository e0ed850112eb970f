"""Graph logs an operator acts on: one line per slow statement, by name and time and never with
its parameters, on both engines; and none of Neo4j's notifications about nulls an `OPTIONAL
MATCH` left for an aggregate to skip."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import AsyncIterator, Iterator

import neo4j
import pytest

from gateway.config import Settings
from gateway.observability import configure_logging
from graph.cases import upsert_cases
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from graph.port import GraphStore
from graph.queries import cases as q
from tests.conftest import CLEAR, ENGINES
from tests.graph.builders import case_row

# Values a statement's parameters carry, which no log line may.
PHONE = "phone-07700900123"
CASE_REF = "AS-SECRET-4471"
CONFIGURED = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The process's logging as `serve` configures it (structlog, JSON lines), into a buffer."""
    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in CONFIGURED]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    configure_logging(Settings(log_format="json"), stream)
    yield stream
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


def neo4j_credentials() -> dict[str, str | None]:
    return {
        "user": os.environ.get("CROSSFORCE_TEST_NEO4J_USER"),
        "password": os.environ.get("CROSSFORCE_TEST_NEO4J_PASSWORD"),
    }


async def store_logging_over(
    request: pytest.FixtureRequest, engine: str, threshold: float
) -> GraphStore:
    if engine == "falkordb":
        server: EmbeddedFalkorDB = request.getfixturevalue("falkordb_server")
        return FalkorDBStore(
            server.host, server.port, graph_name="contract", slow_query_seconds=threshold
        )
    uri: str = request.getfixturevalue("neo4j_uri")
    return Neo4jStore(uri, slow_query_seconds=threshold, **neo4j_credentials())


@pytest.fixture(params=ENGINES)
async def logging_every_statement(
    request: pytest.FixtureRequest,
) -> AsyncIterator[GraphStore]:
    """A store on each engine whose slow-statement threshold is 0: every statement is slow."""
    store = await store_logging_over(request, request.param, 0.0)
    await store.migrate()
    await store.write(CLEAR)
    yield store
    await store.write(CLEAR)  # the engines are shared with the rest of the session
    await store.close()


@pytest.fixture(params=ENGINES)
async def logging_none(request: pytest.FixtureRequest) -> AsyncIterator[GraphStore]:
    store = await store_logging_over(request, request.param, 60.0)
    await store.migrate()
    await store.write(CLEAR)
    yield store
    await store.write(CLEAR)  # the engines are shared with the rest of the session
    await store.close()


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_a_slow_statement_is_one_line_with_its_name_and_time_and_no_parameters(
    logging_every_statement: GraphStore, captured_logs: io.StringIO
) -> None:
    store = logging_every_statement
    written = await upsert_cases(store, [case_row("AS", CASE_REF, persons=(PHONE,))])
    assert len(written) == 1

    slow = [line for line in lines(captured_logs) if line["event"] == "slow graph statement"]
    upserts = [line for line in slow if line["statement"] == "queries.cases.UPSERT"]
    assert len(upserts) == 1
    (upsert,) = upserts
    assert upsert["engine"] == store.engine
    assert upsert["call"] == "write"
    assert isinstance(upsert["seconds"], float) and upsert["seconds"] >= 0
    assert upsert["level"] == "warning"
    output = captured_logs.getvalue()
    for value in (PHONE, CASE_REF, "AS:" + CASE_REF, "UNWIND"):
        assert value not in output


async def test_a_statement_under_the_threshold_is_not_logged(
    logging_none: GraphStore, captured_logs: io.StringIO
) -> None:
    await upsert_cases(logging_none, [case_row("AS", CASE_REF, persons=(PHONE,))])
    assert "slow graph statement" not in captured_logs.getvalue()


@pytest.fixture
async def neo4j_cleared(neo4j_store: Neo4jStore) -> AsyncIterator[Neo4jStore]:
    await neo4j_store.write(CLEAR)
    yield neo4j_store
    await neo4j_store.write(CLEAR)


@pytest.mark.neo4j
async def test_neo4j_does_not_log_nulls_an_aggregate_skipped(
    neo4j_uri: str, neo4j_cleared: Neo4jStore, caplog: pytest.LogCaptureFixture
) -> None:
    neo4j_store = neo4j_cleared
    credentials = neo4j_credentials()
    auth = (credentials["user"], credentials["password"] or "") if credentials["user"] else None
    # Unfiltered, a first write of a case makes Neo4j send the notification...
    row = case_row("AS", "AS-NULLS-1", persons=(PHONE,))
    async with neo4j.AsyncGraphDatabase.driver(neo4j_uri, auth=auth) as driver:
        await driver.execute_query(q.UPSERT, {"cases": [row]})
    unfiltered = caplog.text
    assert "null value eliminated in set function" in unfiltered
    caplog.clear()

    # ...through the hub's store it does not reach the log, while a warning an operator acts on
    # (a hint naming an index that does not exist) still does.
    with caplog.at_level(logging.INFO, logger="neo4j"):
        await upsert_cases(neo4j_store, [case_row("AS", "AS-NULLS-2", persons=(PHONE,))])
        assert "null value eliminated" not in caplog.text
        assert "01G11" not in caplog.text
        await neo4j_store.read(
            "MATCH (c:Case) USING INDEX c:Case(nope) WHERE c.nope = 1 RETURN c.key AS key"
        )
    assert "hinted index does not exist" in caplog.text
    assert "property key does not exist" not in caplog.text
