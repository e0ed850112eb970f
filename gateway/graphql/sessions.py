"""WebSocket sessions (graphql-transport-ws): as long as their token, and under HTTP's controls.

A socket presents its bearer token once, in `connection_init`; the session then lasts as long as
the hub would take that token over HTTP, and no longer:
- each `subscribe` passes the same `Controls` as an HTTP request: the token again (expired or
  revoked ends the session), the client's `/graphql` rate limit (the same bucket as HTTP), the
  persisted-query rule, and errors shown as HTTP shows them;
- a timer wakes at the token's expiry, and every `RECHECK_SECONDS` before it (a client revoked
  in clients.yaml), and asks the validator again; on the first refusal the running operations
  are cancelled and the socket is closed with 4401 ("Unauthorized" in graphql-transport-ws);
- a message over the body limit is not read: the socket is closed with 4413;
- each operation is a request of its own: a fresh `Context` (its "now", loaders and sharing
  decisions), so a socket open for an hour neither serves cached rows nor keeps decisions an
  agreement reload has since changed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncGenerator
from contextlib import suppress
from datetime import UTC, datetime
from json import JSONDecodeError
from typing import Any, cast

from graphql import GraphQLError
from joserfc import jws
from joserfc.errors import JoseError
from starlette.websockets import WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
    _OperationStreamClosed,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    NextMessagePayload,
    SubscribeMessage,
    SubscribeMessagePayload,
)
from strawberry.types import ExecutionResult
from strawberry.utils.aio import aclosing

from gateway.graphql.context import Context
from gateway.graphql.controls import Controls
from gateway.graphql.persisted import PersistedQueryError
from policies.limits import RateLimited
from policies.tokens import InvalidToken

UNAUTHORIZED = 4401  # graphql-transport-ws: the socket's credentials no longer hold
TOO_LARGE = 4413  # as HTTP's 413: a message over CROSSFORCE_GRAPHQL_MAX_BODY_BYTES
RECHECK_SECONDS = 5.0  # how late a revocation may be noticed on an idle socket
MIN_RECHECK_SECONDS = 0.5  # past `exp`, within the validator's leeway for clock skew


def session_token(context: Context) -> str:
    """The bearer token of `connection_init`: `{"Authorization": "Bearer <token>"}` (browsers
    cannot set headers on a WebSocket)."""
    params = context.connection_params or {}
    scheme, _, token = str(params.get("Authorization", "")).partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("missing bearer token")
    return token.strip()


def _expires_at(token: str) -> float | None:
    """The `exp` of a token the validator has already accepted (so it is read, not checked)."""
    try:
        claims = json.loads(jws.extract_compact(token.encode("ascii")).payload)
    except (JoseError, ValueError, UnicodeError, TypeError):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def _controls(handler: BaseGraphQLTransportWSHandler[Context, None]) -> Controls:
    controls: Controls = getattr(handler.view, "controls")  # noqa: B009 (the hub's view)
    return controls


class LimitedWebSocket(ASGIWebSocketAdapter):
    """Strawberry's ASGI adapter, refusing a message over the body limit before parsing it."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        limit = cast(Controls, getattr(self.view, "controls")).max_bytes  # noqa: B009
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED:
                text = await self.ws.receive_text()
                if len(text) > limit or len(text.encode()) > limit:
                    await self.close(TOO_LARGE, f"message over {limit} bytes")
                    return
                try:
                    yield self.view.decode_json(text)
                except JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass


class HubOperation(Operation[Context, None]):
    """An operation with a context of its own, whose errors are shown as HTTP shows them."""

    __slots__ = ("context",)

    def __init__(
        self,
        handler: Session,
        operation_id: str,
        query: str,
        payload: SubscribeMessagePayload,
    ) -> None:
        super().__init__(
            handler, operation_id, query, payload.get("variables"), payload.get("operationName")
        )
        session = handler.context
        self.context = dataclasses.replace(
            session, now=datetime.now(UTC), loaders={}, seals={}, decided={}
        )

    async def send_initial_errors(self, errors: list[GraphQLError]) -> None:
        payload = [_controls(self.handler).error(error) for error in errors]
        await self.send_operation_message(
            cast(Message, {"id": self.id, "type": "error", "payload": payload})
        )

    async def send_next(self, execution_result: ExecutionResult) -> None:
        payload: NextMessagePayload = {"data": execution_result.data}
        if execution_result.errors:
            shown = [_controls(self.handler).error(e) for e in execution_result.errors]
            payload["errors"] = cast(Any, shown)
        await self.send_operation_message({"id": self.id, "type": "next", "payload": payload})


class Session(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, with the hub's controls on every operation and a token timer."""

    expiry: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged and self.expiry is None:
            self.expiry = asyncio.create_task(self._end_with_token())

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged:
            await self.websocket.close(code=UNAUTHORIZED, reason="Unauthorized")
            return
        operation_id = message["id"]
        if operation_id in self.operations:
            reason = f"Subscriber for {operation_id} already exists"
            await self.websocket.close(code=4409, reason=reason)
            return
        limit = self.max_subscriptions_per_connection
        if limit is not None and len(self.operations) >= limit:
            await self._refuse(operation_id, "too many operations at once", "TOO_MANY_OPERATIONS")
            return
        controls = _controls(self)
        payload = message["payload"]
        try:
            self.context.principal = await controls.admit(session_token(self.context))
            query = controls.document(payload.get("query"), payload.get("extensions"))
        except InvalidToken as error:
            await self.end(error.reason)
            return
        except RateLimited as error:
            await self._refuse(operation_id, str(error), "RATE_LIMITED")
            return
        except PersistedQueryError as error:
            await self._refuse(operation_id, error.reason, error.code)
            return
        if not query:
            await self._refuse(operation_id, "no query", "BAD_REQUEST")
            return
        operation = HubOperation(self, operation_id, query, payload)
        operation.task = asyncio.create_task(self.run_operation(operation))
        operation.task.add_done_callback(self._task_done)
        self.operations[operation_id] = operation

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Strawberry's, but with the operation's own context."""
        context = operation.context if isinstance(operation, HubOperation) else self.context
        try:
            result_source = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(result_source):
                await self._send_result_stream(operation, result_source)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except _OperationStreamClosed:
            return
        except Exception as error:
            await self.handle_task_exception(error)
            with suppress(Exception):
                await operation.send_operation_message({"id": operation.id, "type": "complete"})
            self.operations.pop(operation.id, None)
            raise

    async def _refuse(self, operation_id: str, message: str, code: str) -> None:
        error = {"message": message, "extensions": {"code": code}}
        await self.send_message(
            cast(Message, {"id": operation_id, "type": "error", "payload": [error]})
        )

    async def _end_with_token(self) -> None:
        """Sleeps to the token's expiry (or a recheck) and ends the session once it is refused."""
        controls = _controls(self)
        token = session_token(self.context)
        expires_at = _expires_at(token)
        while True:
            remaining = (expires_at - time.time()) if expires_at is not None else RECHECK_SECONDS
            await asyncio.sleep(min(max(remaining, MIN_RECHECK_SECONDS), RECHECK_SECONDS))
            try:
                self.context.principal = await controls.bearer(token)
            except InvalidToken as error:
                await self.end(error.reason)
                return

    async def end(self, reason: str) -> None:
        """Stops every operation of the socket, then closes it with 4401."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with suppress(RuntimeError):  # the socket closed meanwhile
            await self.websocket.close(code=UNAUTHORIZED, reason=f"Unauthorized: {reason}")

    async def shutdown(self) -> None:
        if self.expiry is not None and self.expiry is not asyncio.current_task():
            self.expiry.cancel()
            with suppress(asyncio.CancelledError):
                await self.expiry
        await super().shutdown()


async def connect(controls: Controls, context: Context) -> None:
    """`connection_init`: the token must be good now, or the socket is closed with 4403."""
    try:
        context.principal = await controls.bearer(session_token(context))
    except InvalidToken as error:
        raise ConnectionRejectionError({"reason": error.reason}) from error
