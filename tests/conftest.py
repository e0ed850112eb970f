"""Real engines, started once per session: embedded FalkorDB always, Neo4j where a JVM is."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from graph import GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from tests.neo4j_server.server import Neo4jServer, java_available

ENGINES = ["falkordb", pytest.param("neo4j", marks=pytest.mark.neo4j)]
CLEAR = "MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n"
DROP_DATA_KEYS = "MATCH (k:DataKey) DETACH DELETE k"


@pytest.fixture(scope="session")
def falkordb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedFalkorDB]:
    # No password: tests across the suite reach this throwaway server by host and port alone.
    server = EmbeddedFalkorDB(tmp_path_factory.mktemp("falkordb"), authenticate=False)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    external = os.environ.get("CROSSFORCE_TEST_NEO4J_URI")
    if external:
        yield external
        return
    if not java_available():
        pytest.skip("Neo4j tests need Java 17+ and Maven, or CROSSFORCE_TEST_NEO4J_URI")
    server = Neo4jServer()
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
async def falkordb_store(falkordb_server: EmbeddedFalkorDB) -> AsyncIterator[FalkorDBStore]:
    store = FalkorDBStore(falkordb_server.host, falkordb_server.port, graph_name="contract")
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture(scope="session")
async def neo4j_store(neo4j_uri: str) -> AsyncIterator[Neo4jStore]:
    store = Neo4jStore(
        neo4j_uri,
        user=os.environ.get("CROSSFORCE_TEST_NEO4J_USER"),
        password=os.environ.get("CROSSFORCE_TEST_NEO4J_PASSWORD"),
    )
    await store.migrate()
    yield store
    await store.close()


@pytest.fixture(params=ENGINES)
def engine_store(request: pytest.FixtureRequest) -> GraphStore:
    """The session's store of each engine, in whatever state earlier tests left it."""
    store: GraphStore = request.getfixturevalue(f"{request.param}_store")
    return store


@pytest.fixture
async def graph_store(engine_store: GraphStore) -> AsyncIterator[GraphStore]:
    """A migrated, empty graph on each engine, emptied again after the test: on Neo4j every test
    shares one database, and a hub started later must not meet what a test left (cases written
    without every property a hub writes, data keys wrapped with that test's own key-encryption
    key, which no later hub holds)."""
    await engine_store.write(CLEAR)
    yield engine_store
    await engine_store.write(CLEAR)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def graph(tmp_path: Path) -> Iterator[EmbeddedFalkorDB]:
    """A FalkorDB of the test's own, on a fixed port, for tests that stop, kill or share it."""
    server = EmbeddedFalkorDB(tmp_path / "graph", port=free_port(), authenticate=False)
    server.start()
    yield server
    server.stop()
