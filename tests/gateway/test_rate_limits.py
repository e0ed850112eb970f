"""Over its limit, a client gets 429 with Retry-After, on GraphQL and on the federation API."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import mint_token

TIGHT = """
version: 1
default: {rate: 0.2, burst: 2}
routes: {}
clients:
  analyst-GL: {"*": {rate: 100, burst: 100}}
"""


@pytest.fixture(scope="module")
def limited_hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    policies = tmp_path_factory.mktemp("policies")
    for name in ("clients.yaml", "sharing.yaml"):
        shutil.copy(DEFAULT_POLICY_DIR / name, policies / name)
    (policies / "limits.yaml").write_text(TIGHT)
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/limits",
        data_dir=tmp_path_factory.mktemp("hub"),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=Path(policies),
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


def bearer(settings: Settings, client: str) -> dict[str, str]:
    token = mint_token(settings.data_dir, settings.public_url or "", settings.audience, client)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("client", "method", "path"),
    [
        ("analyst-AS", "POST", "/graphql"),
        ("force-AS", "GET", "/federation/v1/changes"),
    ],
)
def test_a_client_over_its_limit_is_told_when_to_retry(
    limited_hub: Settings, client: str, method: str, path: str
) -> None:
    headers = bearer(limited_hub, client)
    body = {"query": "{ __typename }"} if method == "POST" else None
    with httpx.Client(base_url=limited_hub.public_url or "") as http:
        answers = [http.request(method, path, json=body, headers=headers) for _ in range(3)]
        other = http.post("/graphql", json={"query": "{ __typename }"},
                          headers=bearer(limited_hub, "analyst-GL"))  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1
    assert other.status_code == 200  # a generous client's own bucket


async def test_the_websocket_draws_on_the_same_graphql_bucket(limited_hub: Settings) -> None:
    headers = bearer(limited_hub, "analyst-WI")
    async with httpx.AsyncClient(base_url=limited_hub.public_url or "") as http:
        answers = [await http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
                   for _ in range(3)]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 429]
    url = (limited_hub.public_url or "").replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": headers["Authorization"]}}
        await socket.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        for n in range(20):
            query = {"query": "{ __typename }"}
            await socket.send(json.dumps({"id": str(n), "type": "subscribe", "payload": query}))
        answered = [json.loads(await asyncio.wait_for(socket.recv(), 10)) for _ in range(20)]
    refused = [m for m in answered if m["type"] == "error"]
    assert len(refused) == 20, answered  # not one ran: the bucket HTTP emptied is empty here too
    assert {m["payload"][0]["extensions"]["code"] for m in refused} == {"RATE_LIMITED"}
