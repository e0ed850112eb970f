"""GraphQL over HTTP for the connector, mountable in any framework.

`Endpoint.handle` is the whole protocol, framework-free and synchronous (Graphene resolves
synchronously and the force's storage usually is): a `POST` with a JSON body
`{"query", "variables", "operationName"}` and the hub's bearer token. `asgi_app` and `wsgi_app`
wrap it for ASGI servers (uvicorn, Starlette's `Mount`, Django's ASGI router) and WSGI ones
(Flask, Django, `wsgiref`); a Django view or Flask route can also call `handle` directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import graphene  # type: ignore[import-untyped]

from crossforce_connector.auth import (
    Forbidden,
    HubTokenVerifier,
    IssuerUnavailable,
    Unauthorized,
)

log = logging.getLogger("crossforce.force_connector")

MAX_BODY_BYTES = 64 * 1024

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, document: Any, headers: dict[str, str] | None = None) -> Reply:
        content = json.dumps(document, separators=(",", ":")).encode()
        return cls(status, content, {"content-type": "application/json", **(headers or {})})


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply.json(status, {"errors": [{"message": message}]}, headers)


def _request(body: bytes) -> tuple[str, dict[str, Any] | None, str | None]:
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ValueError("body must be JSON") from None
    if not isinstance(document, dict) or not isinstance(document.get("query"), str):
        raise ValueError("body must be a JSON object with a query string")
    variables = document.get("variables")
    operation = document.get("operationName")
    if variables is not None and not isinstance(variables, dict):
        raise ValueError("variables must be a JSON object")
    if operation is not None and not isinstance(operation, str):
        raise ValueError("operationName must be a string")
    return document["query"], variables, operation


@dataclass
class Endpoint:
    schema: graphene.Schema
    verifier: HubTokenVerifier

    def handle(
        self, method: str, authorization: str | None, content_type: str | None, body: bytes
    ) -> Reply:
        if method != "POST":
            return _error(405, "use POST", {"allow": "POST"})
        try:
            self.verifier.verify(authorization)
        except Forbidden as error:
            return _error(403, error.reason)
        except IssuerUnavailable as error:
            return _error(503, error.reason, {"retry-after": "30"})
        except Unauthorized as error:
            bearer = 'Bearer error="invalid_token"'
            return _error(401, error.reason, {"www-authenticate": bearer})
        if (content_type or "").split(";")[0].strip().lower() != "application/json":
            return _error(415, "content-type must be application/json")
        if len(body) > MAX_BODY_BYTES:
            return _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            query, variables, operation = _request(body)
        except ValueError as error:
            return _error(400, str(error))
        result = self.schema.execute(query, variable_values=variables, operation_name=operation)
        document: dict[str, Any] = {"data": result.data}
        if result.errors:
            document["errors"] = [error.formatted for error in result.errors]
        return Reply.json(200, document)


class _TooLarge(Exception):
    pass


async def _asgi_body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return body
        body += bytes(message.get("body", b""))
        if len(body) > MAX_BODY_BYTES:
            raise _TooLarge
        if not message.get("more_body", False):
            return body


async def _lifespan(receive: Receive, send: Send) -> None:
    """Nothing to start or stop; answered so the app also runs on its own under uvicorn."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def asgi_app(endpoint: Endpoint) -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """An ASGI application answering every path with the connector (mount it where wanted)."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            body = await _asgi_body(receive)
        except _TooLarge:
            reply = _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        else:
            # In a worker thread: token checks and the force's query may block.
            reply = await asyncio.to_thread(
                endpoint.handle,
                scope["method"],
                headers.get("authorization"),
                headers.get("content-type"),
                body,
            )
        await send(
            {
                "type": "http.response.start",
                "status": reply.status,
                "headers": [(k.encode(), v.encode()) for k, v in reply.headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": reply.body})

    return app


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    503: "Service Unavailable",
}


def wsgi_app(endpoint: Endpoint) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """A WSGI application answering every path with the connector."""

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0:
            reply = _error(411, "a valid content-length is required")
        elif length > MAX_BODY_BYTES:
            reply = _error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        else:
            reply = endpoint.handle(
                environ.get("REQUEST_METHOD", "GET"),
                environ.get("HTTP_AUTHORIZATION"),
                environ.get("CONTENT_TYPE"),
                environ["wsgi.input"].read(length) if length else b"",
            )
        status = f"{reply.status} {_REASONS.get(reply.status, 'Error')}"
        headers = [*reply.headers.items(), ("content-length", str(len(reply.body)))]
        start_response(status, headers)
        return [reply.body]

    return app
