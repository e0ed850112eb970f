"""Hostile tokens against every route: each is refused with 401 (or 403 for a real token that
lacks the scope), never served, and the refusal names nothing of the token."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import shutil
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import websockets
from joserfc import jwt
from joserfc.jwk import RSAKey

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import load_signing_key
from tests.federation.conftest import Hub

pytestmark = pytest.mark.security

ROUTES = [
    ("POST", "/federation/v1/cases"),
    ("GET", "/federation/v1/changes"),
    ("POST", "/graphql"),
    ("GET", "/graphql"),
]
QUERY = "{ priorityQueue(first: 1) { caseRef } }"
PROTOCOL = "graphql-transport-ws"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(hub: Hub, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    body = {
        "iss": hub.settings.public_url, "aud": hub.settings.audience, "sub": "force-AS",
        "client_id": "force-AS", "scope": "sync:write cases:read", "iat": now, "nbf": now,
        "exp": now + 300, "jti": "hostile",
    }  # fmt: skip
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def signed(key: RSAKey, body: dict[str, Any], **header: Any) -> str:
    return jwt.encode({"alg": "RS256", "kid": key.kid, **header}, body, key, algorithms=["RS256"])


def alg_none(hub: Hub, key: RSAKey) -> str:
    header = b64(json.dumps({"alg": "none", "kid": key.kid}).encode())
    return f"{header}.{b64(json.dumps(claims(hub)).encode())}."


def hs_confusion(hub: Hub, key: RSAKey) -> str:
    public = key.as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "kid": key.kid}).encode())
    payload = b64(json.dumps(claims(hub)).encode())
    mac = hmac.new(public, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(mac)}"


ROGUE = RSAKey.generate_key(2048, {"kid": "../../../../dev/null' OR '1'='1"}, private=True)

HOSTILE: dict[str, Callable[[Hub, RSAKey], str]] = {
    "alg none": alg_none,
    "HS256 with the public key": hs_confusion,
    "kid injection, rogue key": lambda hub, key: signed(ROGUE, claims(hub)),
    "jku header": lambda hub, key: signed(key, claims(hub), jku="https://attacker.example/k"),
    "x5u header": lambda hub, key: signed(key, claims(hub), x5u="https://attacker.example/c"),
    "expired": lambda hub, key: signed(key, claims(hub, exp=int(time.time()) - 600)),
    "not yet valid": lambda hub, key: signed(key, claims(hub, nbf=int(time.time()) + 600)),
    "wrong issuer": lambda hub, key: signed(key, claims(hub, iss="http://127.0.0.1:1")),
    "wrong audience": lambda hub, key: signed(key, claims(hub, aud="someone-else")),
    "tampered scope": lambda hub, key: tampered(signed(key, claims(hub, scope="sync:write"))),
}


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["scope"] = "sync:write cases:read admin"
    return f"{header}.{b64(json.dumps(body).encode())}.{signature}"


async def call(hub: Hub, method: str, path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    if path == "/graphql":
        if method == "GET":
            return await hub.http.get(path, params={"query": QUERY}, headers=headers)
        return await hub.http.post(path, json={"query": QUERY}, headers=headers)
    if method == "POST":
        headers["Content-Type"] = "application/x-ndjson"
        return await hub.http.post(path, content=b"{}\n", headers=headers)
    return await hub.http.get(path, headers=headers)


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_hostile_token_is_refused_on_every_route(
    hub: Hub, method: str, path: str
) -> None:
    key = load_signing_key(hub.settings.data_dir)
    tried = {"no token": None} | {name: make(hub, key) for name, make in HOSTILE.items()}
    for name, token in tried.items():
        response = await call(hub, method, path, token)
        assert response.status_code == 401, (name, method, path, response.text)
        assert token is None or token not in response.text
    honest = signed(key, claims(hub))
    assert (await call(hub, method, path, honest)).status_code != 401  # the same key, fair claims


@pytest.mark.parametrize(
    ("client", "method", "path"),
    [
        ("coordinator", "POST", "/federation/v1/cases"),
        ("analyst-AS", "GET", "/federation/v1/changes"),
        ("admin", "POST", "/graphql"),
    ],
)
async def test_a_real_token_without_the_scope_is_forbidden(
    hub: Hub, client: str, method: str, path: str
) -> None:
    response = await call(hub, method, path, hub.token(client))
    if path == "/graphql":
        assert response.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    else:
        assert response.status_code == 403


async def test_every_hostile_token_is_refused_on_the_websocket(hub: Hub) -> None:
    key = load_signing_key(hub.settings.data_dir)
    url = hub.url.replace("http://", "ws://") + "/graphql"
    for name, make in HOSTILE.items():
        token = make(hub, key)
        async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:  # type: ignore[list-item]
            payload = {"Authorization": f"Bearer {token}"}
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(socket.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403, name


@pytest.fixture(scope="module")
def revoking_hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """A hub whose clients.yaml revokes force-AS: every token issued before tomorrow."""
    policies = tmp_path_factory.mktemp("revoking")
    shutil.copytree(DEFAULT_POLICY_DIR, policies, dirs_exist_ok=True)
    entry = "force-AS: {scopes: [sync:write], force: AS"
    tomorrow = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 86400))
    text = (policies / "clients.yaml").read_text()
    (policies / "clients.yaml").write_text(
        text.replace(entry, f"{entry}, revoked_before: '{tomorrow}'")
    )
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/revoking",
        data_dir=tmp_path_factory.mktemp("revoking-hub"),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=policies,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_a_revoked_clients_tokens_are_refused_on_every_route(
    revoking_hub: Settings, method: str, path: str
) -> None:
    settings = revoking_hub
    async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=30) as http:
        hub = Hub(settings.public_url or "", settings, None, http)  # type: ignore[arg-type]
        replayed = await call(hub, method, path, hub.token("force-AS"))
        assert replayed.status_code == 401, replayed.text
        assert "revoked" in replayed.text
        other = await call(hub, method, path, hub.token("force-GL"))
        assert other.status_code != 401
