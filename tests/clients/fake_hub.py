"""A small hub for the SDK's tests: Starlette on a real loopback socket, scriptable failures.

It implements what the SDK relies on from the contract, simply:
- `POST /oauth/token`: client credentials with client_secret_basic; JWT-shaped bearer tokens;
- `POST /federation/v1/cases`: gzip NDJSON (or a JSON array); one result per record, applied /
  stale by version per (force, caseRef), rejected at `/force`, `/caseRef` or `/risk/level`;
  422 when every record is rejected, 413 over `max_body_bytes` (decompressed);
- `GET /federation/v1/changes`: a fixed feed, two items a page, cursors `c<offset>`.

Tests script it through `FakeHub` attributes and read back what came over the wire.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import secrets
import socket
import threading
import time
from dataclasses import dataclass, field, fields
from typing import Any
from urllib.parse import parse_qsl, unquote

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

RISK_LEVELS = {"VERY_HIGH", "HIGH", "MEDIUM", "LOW"}
PAGE_SIZE = 2


@dataclass
class TokenCall:
    client_id: str | None
    grant_type: str | None
    granted: bool


@dataclass
class CasesCall:
    """One POST to /federation/v1/cases as it arrived, and the status it got."""

    content_type: str | None
    content_encoding: str | None
    token: str | None
    wire_bytes: int
    body: bytes  # decompressed
    records: list[dict[str, Any]]
    status: int = 0


@dataclass
class Failure:
    """A scripted answer for the next call, before any other processing."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeHub:
    clients: dict[str, str] = field(
        default_factory=lambda: {
            "force-AS": "secret-AS",
            "force-GL": "secret-GL",
            "coordinator": "c",
        }
    )
    token_lifetime: int = 3600
    max_body_bytes: int | None = None
    failures: list[Failure] = field(default_factory=list)  # consumed one per cases call
    stall_seconds: list[float] = field(default_factory=list)  # after applying, one per call
    change_feed: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, tuple[str, float]] = field(default_factory=dict)  # token -> client, expiry
    token_calls: list[TokenCall] = field(default_factory=list)
    cases_calls: list[CasesCall] = field(default_factory=list)
    changes_calls: list[str | None] = field(default_factory=list)
    versions: dict[tuple[str, str], int] = field(default_factory=dict)

    def reset(self) -> None:
        """Back to a fresh hub, keeping this object (the running app's routes are bound to it)."""
        fresh = FakeHub()
        for each in fields(self):
            setattr(self, each.name, getattr(fresh, each.name))

    # --- helpers for tests ----------------------------------------------------------------------

    @property
    def records_received(self) -> list[dict[str, Any]]:
        """Records of the calls the hub answered with results, in arrival order."""
        answered = [call for call in self.cases_calls if call.status in (200, 422)]
        return [record for call in answered for record in call.records]

    def batch_sizes(self) -> list[int]:
        return [len(call.records) for call in self.cases_calls]

    # --- endpoints ------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode()))
        client_id, secret = _basic_credentials(request.headers.get("authorization"))
        granted = (
            client_id is not None
            and self.clients.get(client_id) == secret
            and form.get("grant_type") == "client_credentials"
        )
        self.token_calls.append(TokenCall(client_id, form.get("grant_type"), granted))
        if not granted or client_id is None:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        token = _jwt_shaped(client_id, self.token_lifetime)
        self.tokens[token] = (client_id, time.time() + self.token_lifetime)
        return JSONResponse(
            {"access_token": token, "token_type": "Bearer", "expires_in": self.token_lifetime},
            headers={"Cache-Control": "no-store"},
        )

    def _caller(self, request: Request) -> str | None:
        """The calling client's id for a valid, unexpired bearer token."""
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        entry = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if entry is None or entry[1] < time.time():
            return None
        return entry[0]

    async def cases(self, request: Request) -> Response:
        wire = await request.body()
        encoding = request.headers.get("content-encoding")
        body = gzip.decompress(wire) if encoding == "gzip" else wire
        call = CasesCall(
            content_type=request.headers.get("content-type"),
            content_encoding=encoding,
            token=request.headers.get("authorization", "").partition(" ")[2] or None,
            wire_bytes=len(wire),
            body=body,
            records=[],
        )
        self.cases_calls.append(call)
        response = await self._cases(request, body, call)
        call.status = response.status_code
        return response

    async def _cases(self, request: Request, body: bytes, call: CasesCall) -> Response:
        if self.failures:
            failure = self.failures.pop(0)
            return JSONResponse(
                {"error": "scripted"}, status_code=failure.status, headers=failure.headers
            )
        caller = self._caller(request)
        if caller is None:
            return JSONResponse({"error": "invalid token"}, status_code=401)
        if not caller.startswith("force-"):
            return JSONResponse({"error": "token acts for no force"}, status_code=403)
        try:
            if call.content_type == "application/x-ndjson":
                records = [json.loads(line) for line in body.splitlines() if line.strip()]
            else:
                records = json.loads(body)
        except ValueError:
            return JSONResponse({"error": "malformed body"}, status_code=400)
        if not records:
            return JSONResponse({"error": "empty batch"}, status_code=400)
        call.records = records
        if self.max_body_bytes is not None and len(body) > self.max_body_bytes:
            return JSONResponse({"error": "body too large"}, status_code=413)
        results = [
            self._apply(index, record, caller.removeprefix("force-"))
            for index, record in enumerate(records)
        ]
        if self.stall_seconds:
            await asyncio.sleep(self.stall_seconds.pop(0))
        all_rejected = all(result["status"] == "rejected" for result in results)
        return JSONResponse({"results": results}, status_code=422 if all_rejected else 200)

    def _apply(self, index: int, record: dict[str, Any], force: str) -> dict[str, Any]:
        result: dict[str, Any] = {"index": index, "caseRef": record.get("caseRef")}
        errors = []
        if record.get("force") != force:
            errors.append({"path": "/force", "message": "not the caller's force"})
        if not isinstance(record.get("caseRef"), str):
            errors.append({"path": "/caseRef", "message": "is required"})
        if (record.get("risk") or {}).get("level") not in RISK_LEVELS:
            errors.append(
                {"path": "/risk/level", "message": "must be one of VERY_HIGH, HIGH, MEDIUM, LOW"}
            )
        if errors:
            return {**result, "status": "rejected", "errors": errors}
        key = (force, record["caseRef"])
        version = int(record.get("version", 1))
        if version <= self.versions.get(key, 0):
            return {**result, "status": "stale"}
        self.versions[key] = version
        return {**result, "status": "applied"}

    async def changes(self, request: Request) -> Response:
        since = request.query_params.get("since")
        self.changes_calls.append(since)
        if self._caller(request) is None:
            return JSONResponse({"error": "invalid token"}, status_code=401)
        if since is not None and not (since.startswith("c") and since[1:].isdigit()):
            return JSONResponse({"error": "since must be a cursor"}, status_code=400)
        offset = int(since[1:]) if since else 0
        page = self.change_feed[offset : offset + PAGE_SIZE]
        return JSONResponse({"changes": page, "next": f"c{offset + len(page)}"})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/token", self.token, methods=["POST"]),
                Route("/federation/v1/cases", self.cases, methods=["POST"]),
                Route("/federation/v1/changes", self.changes, methods=["GET"]),
            ]
        )


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return None, None
    client_id, _, secret = base64.b64decode(encoded).decode().partition(":")
    return unquote(client_id), unquote(secret)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _jwt_shaped(client_id: str, lifetime: int) -> str:
    """Looks like a JWT (header.payload.signature); the fake hub only looks it up."""
    header = {"alg": "RS256", "typ": "at+jwt"}
    now = int(time.time())
    claims = {
        "sub": client_id,
        "client_id": client_id,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(8),
    }
    return ".".join(
        [
            _b64url(json.dumps(header).encode()),
            _b64url(json.dumps(claims).encode()),
            _b64url(secrets.token_bytes(32)),
        ]
    )


class RunningHub:
    """Uvicorn serving a FakeHub in a daemon thread, on a socket bound before it starts."""

    def __init__(self, hub: FakeHub) -> None:
        self.hub = hub
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        config = uvicorn.Config(
            hub.app(), log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=5
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the fake hub did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
        self._socket.close()
