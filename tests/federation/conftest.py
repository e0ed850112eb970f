"""A real hub (uvicorn on loopback) on each engine, with tokens from its development issuer."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.demo.server import BackgroundServer
from graph import GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from policies.devidp import Officer, mint_token
from tests.conftest import ENGINES

DATA = Path(__file__).parent / "data"
# Data keys survive between tests: the hub caches them, as a long-running hub would.
CLEAR = "MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:DataKey DETACH DELETE n"


def examples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "two-forces.jsonl").read_text().splitlines()]


@dataclass
class Hub:
    url: str
    settings: Settings
    store: GraphStore
    http: httpx.AsyncClient

    def token(
        self, client_id: str, scopes: str | None = None, *, officer: Officer | None = None
    ) -> str:
        return mint_token(
            self.settings.data_dir,
            self.settings.public_url or "",
            self.settings.audience,
            client_id,
            scopes,
            officer=officer,
        )

    async def sync(
        self, client_id: str, records: list[Any], *, gzipped: bool = True, ndjson: bool = True
    ) -> httpx.Response:
        if ndjson:
            body = b"".join(json.dumps(r).encode() + b"\n" for r in records)
        else:
            body = json.dumps(records).encode()
        headers = {"Authorization": f"Bearer {self.token(client_id)}"}
        if gzipped:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
        return await self.http.post("/federation/v1/cases", content=body, headers=headers)

    async def changes(self, client_id: str, since: str | None = None) -> httpx.Response:
        params = {"since": since} if since else {}
        headers = {"Authorization": f"Bearer {self.token(client_id)}"}
        return await self.http.get("/federation/v1/changes", params=params, headers=headers)


def _graph_uri(request: pytest.FixtureRequest) -> str:
    if request.param == "falkordb":
        server: EmbeddedFalkorDB = request.getfixturevalue("falkordb_server")
        return f"falkordb://127.0.0.1:{server.port}/e2e"
    uri: str = request.getfixturevalue("neo4j_uri")
    return uri


def _hub_data_dir(factory: pytest.TempPathFactory, engine: str) -> Path:
    path = factory.getbasetemp() / f"hub-{engine}"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="module", params=ENGINES)
def hub_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    port = free_port()
    settings = Settings(
        graph_uri=_graph_uri(request),
        # One data dir per engine for the whole session: its key-encryption key must keep
        # unwrapping the data keys that earlier modules' hubs left in the same graph.
        data_dir=_hub_data_dir(tmp_path_factory, request.param),
        public_url=f"http://127.0.0.1:{port}",
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


@pytest.fixture
async def hub(hub_server: Settings) -> AsyncIterator[Hub]:
    uri = hub_server.graph_uri or ""
    store: GraphStore
    if uri.startswith("falkordb://"):
        port = int(uri.rsplit(":", 1)[1].split("/")[0])
        store = FalkorDBStore("127.0.0.1", port, graph_name="e2e")
    else:
        store = Neo4jStore(uri)
    await store.write(CLEAR)
    async with httpx.AsyncClient(base_url=hub_server.public_url or "", timeout=30) as http:
        hub = Hub(hub_server.public_url or "", hub_server, store, http)
        yield hub
        # The hub feeds regrade alerts in the background: let it finish this test's before the
        # next test clears the graph (a read of the change feed waits for them).
        await hub.changes("force-AS")
    await store.close()
