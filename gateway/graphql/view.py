"""GraphQL over HTTP, as its specification says: media types, status codes, and who is calling.

Strawberry's ASGI view does the protocol; this adds what the specification and the hub need:
- `application/graphql-response+json` and `application/json`, chosen from `Accept` (406 when
  neither is acceptable; `application/json` when no media type is named); with the former, a
  request that fails to parse or validate is a 400 with no `data`, as the specification requires;
- 415 for a body that is not JSON, 413 over `graphql_max_body_bytes`, 405 for a mutation by GET;
- a bearer token on every request (401 with `WWW-Authenticate` otherwise);
- errors with `extensions.code` and no internals (see `errors.py`);
- a `Crossforce-Bookmark` header from a sync's answer: the request reads the graph only once
  that sync's commit is visible (federation/routes.py); 400 `BAD_BOOKMARK` when malformed.
The token, rate limit, size limit, persisted-query rule and error format are `Controls`, which
WebSocket sessions (`sessions.py`) pass too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
import strawberry
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from federation.pull import PullState
from federation.routes import bookmarks_sent
from gateway.config import Settings
from gateway.graphql.context import NOBODY, Context, CountingStore
from gateway.graphql.controls import Controls
from gateway.graphql.persisted import PersistedQueries
from gateway.graphql.schema import introspection_allowed
from gateway.graphql.sessions import LimitedWebSocket, Session, connect
from gateway.protection import Protection
from gateway.region import RegionFacts
from graph import GraphStore
from graph.bookmarks import BadBookmark, causal_scope
from policies.bearer import bearer_token
from policies.limits import RateLimited
from policies.tokens import InvalidToken

GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
PRINCIPAL = "crossforce.principal"
CONTEXT = "crossforce.context"
AFTER = "crossforce.bookmarks"


def negotiate(accept: str) -> str | None:
    """The response media type for an `Accept` header; None when we can offer neither.

    A client that names no media type (no `Accept`, or only `*/*` or `application/*`) is a
    legacy client as the GraphQL-over-HTTP specification says: it gets `application/json`,
    whose status codes it understands. `application/graphql-response+json` is for clients that
    ask for it by name.
    """
    if not accept.strip():
        return JSON
    offered: list[tuple[float, str]] = []
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            offered.append((quality, media.lower()))
    for _, media in sorted(offered, key=lambda o: -o[0]):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "*/*", "application/*"):
            return JSON
    return None


def error_response(status: int, message: str, code: str, media_type: str = JSON) -> Response:
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    headers = {"WWW-Authenticate": 'Bearer realm="crossforce"'} if status == 401 else {}
    if status == 405:
        headers["Allow"] = "GET, POST"
    return Response(orjson.dumps(body), status, headers=headers, media_type=media_type)


async def _buffered(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The whole request body, or (partial, False) once it passes `limit`."""
    chunks, size = [], 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return b"", False
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), True


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


class GraphQLView(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = Session
    websocket_adapter_class = LimitedWebSocket

    def __init__(
        self,
        schema: strawberry.Schema,
        *,
        store: GraphStore,
        protection: Protection,
        settings: Settings,
        region: RegionFacts,
        pulls: Callable[[], Mapping[str, PullState]] = dict,
    ) -> None:
        # Only graphql-transport-ws: the legacy graphql-ws protocol would be a second door.
        super().__init__(
            schema,
            graphql_ide=None,
            multipart_uploads_enabled=False,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
        )
        self.store = store
        self.protection = protection
        self.settings = settings
        self.pulls = pulls
        self.region = region  # this replica's read model, which the app's lifespan runs
        self.controls = Controls(
            validator=protection.validator,
            limiter=protection.limiter,
            persisted=PersistedQueries.load(
                settings.graphql_persisted_queries, only=settings.graphql_persisted_only
            ),
            max_bytes=settings.graphql_max_body_bytes,
            suggestions=introspection_allowed(settings),
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        media_type = negotiate(request.headers.get("accept", ""))
        refusal, receive = await self._admit(request, media_type, receive)
        if refusal is None:
            try:
                with causal_scope(scope.get(AFTER, ())):
                    refusal = await self.run(Request(scope, receive))
            except HTTPException as error:
                code = getattr(error, "code", None) or (
                    "METHOD_NOT_ALLOWED" if error.status_code == 405 else "BAD_REQUEST"
                )
                refusal = error_response(error.status_code, error.reason, code, media_type or JSON)
        await refusal(scope, receive, send)

    async def _admit(
        self, request: Request, media_type: str | None, receive: Receive
    ) -> tuple[Response | None, Receive]:
        if request.method not in ("GET", "POST"):
            return error_response(405, "use GET or POST", "METHOD_NOT_ALLOWED"), receive
        if media_type is None:
            return error_response(
                406, f"accept {GRAPHQL_RESPONSE} or {JSON}", "NOT_ACCEPTABLE"
            ), receive
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if request.method == "POST" and content_type != JSON:
            return error_response(
                415, "send the request as application/json", "UNSUPPORTED_MEDIA_TYPE", media_type
            ), receive
        try:
            principal = await self.controls.admit(bearer_token(request))
        except InvalidToken as error:
            return error_response(401, str(error), "UNAUTHENTICATED", media_type), receive
        except RateLimited as error:
            refusal = error_response(429, str(error), "RATE_LIMITED", media_type)
            refusal.headers["Retry-After"] = error.retry_after_header
            return refusal, receive
        request.scope[PRINCIPAL] = principal
        try:
            request.scope[AFTER] = bookmarks_sent(request)
        except BadBookmark as error:
            return error_response(400, str(error), "BAD_BOOKMARK", media_type), receive
        limit = self.controls.max_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and self.controls.too_large(int(declared)):
            return error_response(
                413, f"request body over {limit} bytes", "PAYLOAD_TOO_LARGE", media_type
            ), receive
        body, complete = await _buffered(receive, limit)
        if not complete:
            return error_response(
                413, f"request body over {limit} bytes", "PAYLOAD_TOO_LARGE", media_type
            ), receive
        return None, _replay(body)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        context = Context(
            principal=request.scope.get(PRINCIPAL, NOBODY),
            graph=CountingStore(self.store),
            protection=self.protection,
            region=self.region,
            pulls=self.pulls,
            poll_seconds=self.settings.subscription_poll_seconds,
            response=response if isinstance(response, Response) else None,
        )
        request.scope[CONTEXT] = context
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A WebSocket presents its bearer token in `connection_init` (see `sessions.py`)."""
        await connect(self.controls, context)
        acknowledged: UnsetType = UNSET
        return acknowledged

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept", "")) or JSON
        return sub_response

    async def execute_single(self, *args: Any, **kwargs: Any) -> ExecutionResult:
        try:
            return await super().execute_single(*args, **kwargs)
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise HTTPException(405, "mutations need POST") from error
            raise

    async def process_result(
        self, request: Request | WebSocket, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            errors = [self.controls.error(e) for e in result.errors]
            response["errors"] = list[object](errors)
            if result.data is None and all(not e.path for e in result.errors):
                del response["data"]  # never executed: a request error, not a field error
        context: Context | None = request.scope.get(CONTEXT)
        if context is not None and self.settings.environment == "development":
            response["extensions"] = {"graphRoundTrips": context.graph.round_trips}
        return response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        media_type = sub_response.media_type or JSON
        status = sub_response.status_code or 200  # unless a resolver refused the request (429)
        single = response_data if isinstance(response_data, dict) else None
        if media_type == GRAPHQL_RESPONSE and single is not None and "data" not in single:
            status = 400
        response = Response(orjson.dumps(response_data), status, media_type=media_type)
        response.headers.raw.extend(
            (k, v) for k, v in sub_response.headers.raw if k.lower() != b"content-type"
        )
        return response

    async def parse_http_body(self, request: Any) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        if isinstance(data, list):
            raise HTTPException(400, "batched operations are not accepted")
        data.query = self.controls.document(data.query, data.extensions)
        return data
