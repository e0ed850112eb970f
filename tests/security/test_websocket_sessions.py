"""WebSocket sessions: a socket lives no longer than its token, and every operation on it passes
the controls an HTTP request passes (persisted queries, error masking, limits, size)."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from joserfc import jwt
from websockets.asyncio.client import ClientConnection

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from gateway.graphql.persisted import sha256_of
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import load_signing_key, mint_token
from tests.federation.conftest import Hub

pytestmark = pytest.mark.security

PROTOCOL = "graphql-transport-ws"
# The hub takes a token this long past its `exp`, for clock skew between issuer and hub (as the
# HTTP side does); a token whose `exp` is this far back has `LEFT` seconds to live.
CLOCK_SKEW = 30
LEFT = 2
REVEAL = 'mutation { reveal(force: "AS", caseRef: "AS-1", field: "/summary", purpose: "a b c") }'
EVENTS = "subscription { forceEvents { kind caseRef } }"

TYPENAME = "{ __typename }"
TYPO = "{ priorityQueu { caseRef } }"
COSTLY = "{ priorityQueue(first: 100000) { caseRef } }"
ALIASES = "{" + " ".join(f"a{n}: __typename" for n in range(100)) + "}"
WITH_VARIABLE = "query Q($note: String) { __typename }"
PERSISTED = [TYPENAME, TYPO, COSTLY, ALIASES, WITH_VARIABLE]


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/graphql"


@asynccontextmanager
async def session(base: str, token: str) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(ws_url(base), subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
        payload = {"Authorization": f"Bearer {token}"}
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(socket.recv(), 10))
        assert ack["type"] == "connection_ack"
        yield socket


async def subscribe(socket: ClientConnection, operation_id: str, payload: dict[str, Any]) -> None:
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": payload}))


async def answer(socket: ClientConnection, operation_id: str) -> dict[str, Any]:
    """The first `next` or `error` message for the operation."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), 10))
        if message.get("id") == operation_id and message["type"] in ("next", "error"):
            return message


def codes(message: dict[str, Any]) -> list[str]:
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    return [e["extensions"]["code"] for e in errors]


async def closed_with(socket: ClientConnection, timeout: float = 10) -> int:
    """The code the hub closed the socket with, reading (and dropping) anything before it."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await asyncio.wait_for(socket.recv(), timeout)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


def short_lived(hub: Hub, client_id: str, scope: str) -> str:
    """A real token, signed by the development issuer, that the hub takes for `LEFT` seconds."""
    key = load_signing_key(hub.settings.data_dir)
    now = int(time.time())
    claims = {
        "iss": hub.settings.public_url, "aud": hub.settings.audience, "sub": client_id,
        "client_id": client_id, "scope": scope, "iat": now - 60, "exp": now - CLOCK_SKEW + LEFT,
        "jti": f"short-{now}",
    }  # fmt: skip
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key, algorithms=["RS256"])


async def http_status(hub: Hub, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    response = await hub.http.post("/graphql", json={"query": TYPENAME}, headers=headers)
    return response.status_code


async def test_a_socket_is_closed_when_its_token_expires_and_its_subscription_stops(
    hub: Hub,
) -> None:
    token = short_lived(hub, "analyst-AS", "cases:read sensitive:reveal")
    assert await http_status(hub, token) == 200
    async with session(hub.url, token) as socket:
        await subscribe(socket, "events", {"query": EVENTS})
        assert await closed_with(socket, timeout=LEFT + 10) == 4401
    assert await http_status(hub, token) == 401


async def test_an_operation_after_the_token_expired_is_not_run(hub: Hub) -> None:
    token = short_lived(hub, "analyst-AS", "cases:read sensitive:reveal")
    async with session(hub.url, token) as socket:
        await asyncio.sleep(LEFT + 1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await subscribe(socket, "reveal", {"query": REVEAL})
            message = json.loads(await asyncio.wait_for(socket.recv(), 10))
            pytest.fail(f"the hub answered an expired socket: {message}")
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_the_legacy_graphql_ws_protocol_is_not_offered(hub: Hub) -> None:
    async with websockets.connect(ws_url(hub.url), subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
        assert await closed_with(socket) == 4406


@pytest.fixture(scope="module")
def strict_hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A hub as production runs it: persisted queries only, no introspection."""
    manifest = tmp_path_factory.mktemp("manifest") / "persisted-queries.json"
    manifest.write_text(json.dumps({sha256_of(d): d for d in PERSISTED}))
    policies = tmp_path_factory.mktemp("strict-policies")
    shutil.copytree(DEFAULT_POLICY_DIR, policies, dirs_exist_ok=True)
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/strict",
        data_dir=tmp_path_factory.mktemp("strict-hub"),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=Path(policies),
        graphql_persisted_queries=manifest,
        graphql_persisted_only=True,
        graphql_introspection=False,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


def token_for(settings: Settings, client_id: str) -> str:
    return mint_token(settings.data_dir, settings.public_url or "", settings.audience, client_id)


def by_hash(document: str, **rest: Any) -> dict[str, Any]:
    persisted = {"version": 1, "sha256Hash": sha256_of(document)}
    return {"extensions": {"persistedQuery": persisted}} | rest


async def test_a_document_that_is_not_persisted_is_refused_over_the_websocket(
    strict_hub: Settings,
) -> None:
    async with session(strict_hub.public_url or "", token_for(strict_hub, "analyst-GL")) as socket:
        await subscribe(socket, "adhoc", {"query": "{ priorityQueue(first: 1) { caseRef } }"})
        refused = await answer(socket, "adhoc")
        await subscribe(socket, "persisted", by_hash(TYPENAME))
        ran = await answer(socket, "persisted")
    assert refused["type"] == "error" and codes(refused) == ["PERSISTED_QUERY_REQUIRED"]
    assert ran["type"] == "next" and ran["payload"]["data"] == {"__typename": "Query"}


async def test_neither_door_suggests_field_names_without_introspection(
    strict_hub: Settings,
) -> None:
    token = token_for(strict_hub, "analyst-GL")
    async with httpx.AsyncClient(base_url=strict_hub.public_url or "") as http:
        response = await http.post(
            "/graphql", json=by_hash(TYPO), headers={"Authorization": f"Bearer {token}"}
        )
    async with session(strict_hub.public_url or "", token) as socket:
        await subscribe(socket, "typo", by_hash(TYPO))
        message = await answer(socket, "typo")
    for errors in (response.json()["errors"], message["payload"]):
        assert [e["extensions"]["code"] for e in errors] == ["GRAPHQL_VALIDATION_FAILED"]
        assert all("priorityQueue" not in e["message"] for e in errors), errors


@pytest.mark.parametrize(
    ("document", "code"),
    [
        pytest.param(COSTLY, "QUERY_TOO_COSTLY", id="cost"),
        pytest.param(ALIASES, "GRAPHQL_VALIDATION_FAILED", id="aliases"),
    ],
)
async def test_query_limits_apply_over_the_websocket(
    strict_hub: Settings, document: str, code: str
) -> None:
    async with session(strict_hub.public_url or "", token_for(strict_hub, "analyst-GL")) as socket:
        await subscribe(socket, "bomb", by_hash(document))
        message = await answer(socket, "bomb")
    assert message["type"] == "error" and codes(message) == [code]


async def test_a_message_over_the_body_limit_closes_the_socket(strict_hub: Settings) -> None:
    note = "x" * (strict_hub.graphql_max_body_bytes + 1)
    async with session(strict_hub.public_url or "", token_for(strict_hub, "analyst-GL")) as socket:
        await subscribe(socket, "big", by_hash(WITH_VARIABLE, variables={"note": note}))
        assert await closed_with(socket) == 4413
