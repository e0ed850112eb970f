"""Liveness and readiness of the gateway, on a real embedded graph."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from starlette.testclient import TestClient

from gateway.app import create_app
from gateway.config import Settings
from graph.connect import open_graph
from graph.embedded import EmbeddedFalkorDB, free_port


def wait_ready(client: TestClient, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    status = 0
    while time.monotonic() < deadline:
        status = client.get("/readyz").status_code
        if status == 200:
            break
        time.sleep(0.1)
    return status


def test_ready_when_the_graph_answers_and_not_after_it_stops(tmp_path: Path) -> None:
    server = EmbeddedFalkorDB(tmp_path, authenticate=False)
    server.start()
    settings = Settings(graph_uri=f"falkordb://127.0.0.1:{server.port}", graph_retry_for=0.2)
    try:
        with TestClient(create_app(settings)) as client:
            assert wait_ready(client) == 200
            assert client.get("/readyz").json() == {"status": "ready", "graph": "falkordb"}
            server.kill()
            assert client.get("/readyz").status_code == 503
            assert client.get("/healthz").status_code == 200
    finally:
        server.stop()


def test_not_ready_while_the_graph_is_unreachable(tmp_path: Path) -> None:
    settings = Settings(graph_uri=f"falkordb://127.0.0.1:{free_port()}", graph_retry_for=0.1)
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["graph"] == "unreachable"
        assert client.get("/healthz").json() == {"status": "ok"}


def test_embedded_graph_is_used_when_no_uri_is_set(tmp_path: Path) -> None:
    settings = Settings(graph_uri=None, data_dir=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        assert wait_ready(client) == 200
        pidfile = tmp_path / "data" / "graph" / "server.json"
        assert pidfile.exists()
    assert not pidfile.exists()  # stopped cleanly with the app


def write(uri: str, data_dir: Path, statement: str) -> None:
    """One statement through a connection of the test's own, closed after."""

    async def run() -> None:
        connection = open_graph(uri, data_dir=data_dir)
        try:
            await connection.store.write(statement)
        finally:
            await connection.close()

    asyncio.run(run())


def test_not_ready_until_the_case_facts_have_loaded(tmp_path: Path) -> None:
    """A replica whose read model has not loaded would answer the region's figures from an
    empty index: a case whose facts cannot be read keeps the first load failing, and the
    replica out of service, until it is mended."""
    server = EmbeddedFalkorDB(tmp_path, authenticate=False)
    server.start()
    uri = f"falkordb://127.0.0.1:{server.port}"
    try:
        write(uri, tmp_path, "CREATE (:Case {key: 'AS:unreadable'})")  # no force, level or dates
        with TestClient(create_app(Settings(graph_uri=uri))) as client:
            deadline = time.monotonic() + 30
            while client.get("/readyz").json().get("graph") != "falkordb":
                assert time.monotonic() < deadline  # migrated: the graph answers
                time.sleep(0.1)
            time.sleep(1.0)  # the first load has failed at least once
            response = client.get("/readyz")
            assert response.status_code == 503
            assert response.json() == {
                "status": "starting",
                "graph": "falkordb",
                "caseFacts": "loading",
            }
            write(uri, tmp_path, "MATCH (c:Case {key: 'AS:unreadable'}) DETACH DELETE c")
            assert wait_ready(client) == 200
            assert client.get("/readyz").json() == {"status": "ready", "graph": "falkordb"}
    finally:
        server.stop()
