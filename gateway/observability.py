"""Operations: Prometheus metrics at `/metrics`, request ids, and structured JSON logs.

Nothing here ever sees a body, a query string or a token: requests are known by method, route
template (`/federation/v1/cases`, never the raw path) and status, so neither metrics nor logs
can carry personal data, and label values stay few whatever clients send.

Wiring (in `create_app`): `install(app, settings)` adds the middleware and the `/metrics` route;
`configure_logging(settings)` (the CLI's `serve` calls it, then runs uvicorn with
`log_config=None`) sends every log line, uvicorn's included, through structlog as one JSON
object a line. GraphQL reports each operation through the `GraphQLMetrics` schema extension
(or `observe_graphql` directly).
"""

from __future__ import annotations

import hmac
import logging
import logging.config
import re
import sys
import time
import uuid
from collections.abc import Iterator, MutableMapping
from typing import Any, TextIO

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from federation.metrics import SYNC_BATCHES, SYNC_RECORDS
from gateway.config import Settings
from gateway.region import REGION_RELOADS, REGION_RELOADS_STARTED
from graph.metrics import GRAPH_QUERY_LATENCY
from policies.audit import AUDIT_ENTRIES
from policies.bearer import bearer_token
from policies.keys import DATA_KEY_VERSION
from policies.scopes import ADMIN
from policies.tokens import InvalidToken, TokenValidator

REQUEST_ID_HEADER = "x-request-id"
# A caller's id is kept only when it is short and plain; anything else gets a fresh one, so a
# header cannot smuggle text (or personal data) into the logs.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
UNMATCHED = "<unmatched>"

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

HTTP_REQUESTS = Counter(
    "crossforce_http_requests",
    "HTTP requests answered, by method, route template and status code",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "crossforce_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
GRAPHQL_OPERATIONS = Counter(
    "crossforce_graphql_operations",
    "GraphQL operations, by operation name and outcome (ok or error)",
    ["operation", "outcome"],
)
GRAPHQL_LATENCY = Histogram(
    "crossforce_graphql_operation_duration_seconds",
    "Time to execute a GraphQL operation, by operation name",
    ["operation"],
    buckets=_LATENCY_BUCKETS,
)

# Families defined next to what they measure; named here so `/metrics` lists them all from the
# first scrape, before anything was counted.
HUB_METRICS = (
    SYNC_RECORDS,
    SYNC_BATCHES,
    GRAPH_QUERY_LATENCY,
    AUDIT_ENTRIES,
    DATA_KEY_VERSION,
    REGION_RELOADS,
    REGION_RELOADS_STARTED,
)

# A standard-library logger: its level check is cheap, and `configure_logging` renders its
# records, extras and the bound request id included, as JSON.
access_log = logging.getLogger("crossforce.access")


# --- GraphQL ---------------------------------------------------------------------------------

_OPERATION_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Operation names are chosen by clients: past this many distinct ones, the rest share one label.
MAX_OPERATION_NAMES = 200


class OperationNames:
    """Turns client-chosen operation names into a bounded set of safe labels."""

    def __init__(self, limit: int = MAX_OPERATION_NAMES) -> None:
        self.limit = limit
        self.seen: set[str] = set()

    def label(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if not _OPERATION_NAME.match(name):
            return "invalid"
        if name not in self.seen:
            if len(self.seen) >= self.limit:
                return "other"
            self.seen.add(name)
        return name


_operation_names = OperationNames()


def observe_graphql(operation_name: str | None, seconds: float, ok: bool) -> None:
    """Count one executed GraphQL operation and its latency (called by the GraphQL layer)."""
    label = _operation_names.label(operation_name)
    GRAPHQL_OPERATIONS.labels(label, "ok" if ok else "error").inc()
    GRAPHQL_LATENCY.labels(label).observe(seconds)


class GraphQLMetrics(SchemaExtension):
    """Strawberry extension: times each operation, parsing and validation included, and counts
    it as an error when it produced any error (add to the schema's `extensions`)."""

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        failed = bool(context.pre_execution_errors) or bool(
            context.result is not None and context.result.errors
        )
        observe_graphql(context.operation_name, time.perf_counter() - started, not failed)


# --- HTTP middleware -------------------------------------------------------------------------


def request_id_of(scope: Scope) -> str:
    """The caller's `X-Request-Id` when sane, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            offered: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(offered):
                return offered
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's template; one label for every path no route matched."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class ObservabilityMiddleware:
    """Pure ASGI: request id in and out, one access log line and the HTTP metrics per request.
    Pure ASGI (not `BaseHTTPMiddleware`) so streamed request and response bodies stay streamed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500  # what the client gets if the app fails before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            finally:
                self._observe(scope, status, time.perf_counter() - started)

    @staticmethod
    def _observe(scope: Scope, status: int, seconds: float) -> None:
        method = scope["method"] if scope["method"] in _METHODS else "OTHER"
        route = route_template(scope)
        _series(HTTP_REQUESTS, method, route, str(status)).inc()
        _series(HTTP_LATENCY, method, route).observe(seconds)
        # The template, never the path or query string: paths and queries may carry values.
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Children of labelled metrics by label values: a lookup here is cheaper than `.labels()`, and
# label values are bounded (methods, route templates, status codes), so this stays small.
_children: dict[tuple[object, ...], Any] = {}


def _series(metric: Counter | Histogram, *labels: str) -> Any:
    key = (metric, *labels)
    child = _children.get(key)
    if child is None:
        child = _children[key] = metric.labels(*labels)
    return child


# --- /metrics --------------------------------------------------------------------------------


# Headers every reverse proxy and ingress controller adds: their presence means the request came
# from outside the cluster.
_PROXY_HEADERS = ("forwarded", "x-forwarded-for")


async def may_read_metrics(request: Request, settings: Settings) -> bool:
    """Whether this request may read `/metrics`: it brings the configured metrics token
    (`CROSSFORCE_METRICS_TOKEN`, what Prometheus sends) or an access token with the `admin`
    scope. Only a development hub with no metrics token configured serves them without one, and
    then not through a proxy. Metrics hold no personal data, but they show every force's
    volumes and the hub's health, which are not for the public."""
    try:
        presented = bearer_token(request)
    except InvalidToken:
        if settings.metrics_token is not None or settings.environment == "production":
            return False
        return not any(name in request.headers for name in _PROXY_HEADERS)
    expected = settings.metrics_token
    if expected is not None and hmac.compare_digest(
        presented.encode(), expected.get_secret_value().encode()
    ):
        return True
    protection = getattr(request.app.state, "protection", None)
    if protection is None:
        return False
    validator: TokenValidator = protection.validator
    try:
        principal = await validator.validate(presented)
    except InvalidToken:
        return False
    return principal.has(ADMIN)


def metrics_endpoint(
    settings: Settings | None = None, registry: CollectorRegistry = REGISTRY
) -> Route:
    """`/metrics` for Prometheus, behind a bearer token (see `may_read_metrics`)."""
    settings = settings or Settings()

    async def metrics(request: Request) -> Response:
        if not await may_read_metrics(request, settings):
            return Response(
                "metrics need a bearer token: the metrics token or an admin access token",
                status_code=401,
                media_type="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", metrics, methods=["GET"])


def install(app: Starlette, settings: Settings | None = None) -> None:
    """Add the middleware (outermost, so it times and counts everything) and `/metrics`.
    Call before the app serves; a second call changes nothing."""
    if getattr(app.state, "observability", False):
        return
    app.state.observability = True
    app.add_middleware(ObservabilityMiddleware)
    app.router.routes.append(metrics_endpoint(settings))


# --- Logs ------------------------------------------------------------------------------------

# Keys that could hold secrets or personal data: dropped from every event, whoever logs them.
_FORBIDDEN_KEYS = frozenset(
    {
        "authorization",
        "body",
        "client_secret",
        "content",
        "cookie",
        "headers",
        "password",
        "query_string",
        "secret",
        "token",
        "variables",
    }
)
# uvicorn's ANSI-coloured copy of its message: noise in a JSON line.
_NOISE_KEYS = frozenset({"color_message"})
_BEARER = re.compile(r"\beyJ[\w-]{5,}\.[\w-]{5,}\.[\w-]*")


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Last line of defence: drop forbidden keys and anything shaped like a JWT."""
    for key in [k for k in event if k.lower() in _FORBIDDEN_KEYS or k in _NOISE_KEYS]:
        del event[key]
    for key, value in event.items():
        if isinstance(value, str) and "eyJ" in value:
            event[key] = _BEARER.sub("[token]", value)
    return event


def _shared_processors() -> list[Any]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact,
    ]


def _renderer(settings: Settings) -> Any:
    if settings.log_format == "console":
        return structlog.dev.ConsoleRenderer(colors=False)
    return structlog.processors.JSONRenderer()


_PATH_WITH_QUERY = re.compile(r"^(/[^?\s]*)\?.*$", re.DOTALL)


class DropQueryStrings(logging.Filter):
    """Cuts the query string off any path a log record is formatted with. uvicorn logs each
    WebSocket handshake ("WebSocket /graphql?..." [accepted]) through its error logger, which
    the access-log switch does not silence, and a query string may carry personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                _PATH_WITH_QUERY.sub(r"\1", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def logging_config(settings: Settings, stream: TextIO | None = None) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: every standard-library logger, uvicorn's included,
    rendered by structlog, paths without their query strings."""
    handler: dict[str, Any] = {
        "class": "logging.StreamHandler",
        "formatter": "structlog",
        "filters": ["query_strings"],
    }
    if stream is not None:
        handler["stream"] = stream
    level = settings.log_level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info,
                    _renderer(settings),
                ],
                "foreign_pre_chain": _shared_processors(),
            }
        },
        "filters": {"query_strings": {"()": DropQueryStrings}},
        "handlers": {"default": handler},
        "root": {"handlers": ["default"], "level": level},
        "loggers": {
            # uvicorn's own handlers would print plain text: send its records to the root.
            "uvicorn": {"handlers": [], "level": level, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": level, "propagate": True},
            # Its access log prints raw paths with query strings: the middleware logs instead.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            # HTTPX logs every URL it calls, query string included.
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
    }


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    """Structured logs for the whole process (run uvicorn with `log_config=None` after this, so
    it keeps them)."""
    logging.config.dictConfig(logging_config(settings, stream or sys.stderr))
    structlog.configure(
        processors=[
            # Drop filtered events before any work is done on them.
            structlog.stdlib.filter_by_level,
            *_shared_processors(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
