"""Request ids, HTTP and GraphQL metrics, `/metrics`, and the log redaction, on small apps."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import strawberry
import structlog
from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.config import Settings
from gateway.observability import (
    MAX_OPERATION_NAMES,
    GraphQLMetrics,
    ObservabilityMiddleware,
    OperationNames,
    configure_logging,
    install,
    observe_graphql,
)


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def item(request: Request) -> PlainTextResponse:
    return PlainTextResponse(f"item {request.path_params['ref']}")


async def broken(_: Request) -> PlainTextResponse:
    raise RuntimeError("boom")


def small_app() -> Starlette:
    app = Starlette(routes=[Route("/items/{ref}", item), Route("/broken", broken)])
    install(app, Settings())
    return app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(small_app(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_a_sane_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/items/a", headers={"X-Request-Id": "req-0001-abcd"})
    assert response.headers["x-request-id"] == "req-0001-abcd"


@pytest.mark.parametrize(
    "offered", ["", "short", "has space in it", "x" * 65, "name=Jane Doe;dob=2001-02-03"]
)
def test_an_unusable_request_id_is_replaced(client: TestClient, offered: str) -> None:
    returned = client.get("/items/a", headers={"X-Request-Id": offered}).headers["x-request-id"]
    assert returned != offered
    assert len(returned) == 32 and int(returned, 16) >= 0


def test_requests_are_counted_by_route_template_not_path(client: TestClient) -> None:
    before = sample(
        "crossforce_http_requests_total", method="GET", route="/items/{ref}", status="200"
    )
    for ref in ("07700900123", "jane@example.org", "x"):
        assert client.get(f"/items/{ref}?name=Jane").status_code == 200
    after = sample(
        "crossforce_http_requests_total", method="GET", route="/items/{ref}", status="200"
    )
    assert after - before == 3
    exposition = client.get("/metrics").text
    assert "07700900123" not in exposition and "jane@example.org" not in exposition
    assert 'route="/items/{ref}"' in exposition


def test_unmatched_paths_share_one_label(client: TestClient) -> None:
    before = sample(
        "crossforce_http_requests_total", method="GET", route="<unmatched>", status="404"
    )
    for path in ("/nothing", "/admin/secret", "/.env"):
        assert client.get(path).status_code == 404
    after = sample(
        "crossforce_http_requests_total", method="GET", route="<unmatched>", status="404"
    )
    assert after - before == 3


def test_a_failing_handler_counts_as_500(client: TestClient) -> None:
    before = sample("crossforce_http_requests_total", method="GET", route="/broken", status="500")
    response = client.get("/broken")
    assert response.status_code == 500
    assert (
        sample("crossforce_http_requests_total", method="GET", route="/broken", status="500")
        == before + 1
    )
    latency = sample(
        "crossforce_http_request_duration_seconds_count", method="GET", route="/broken"
    )
    assert latency >= 1


def test_metrics_are_served_in_prometheus_text_format(client: TestClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    for family in (
        "crossforce_http_requests_total",
        "crossforce_http_request_duration_seconds_bucket",
        "crossforce_graphql_operations_total",
        "crossforce_sync_records_total",
        "crossforce_graph_query_duration_seconds",
        "crossforce_audit_entries_total",
        "crossforce_data_key_version",
    ):
        assert f"# TYPE {family.removesuffix('_total').removesuffix('_bucket')}" in response.text


@pytest.mark.parametrize(
    "header", [("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9")]
)
def test_metrics_are_not_served_through_a_proxy_without_a_token(
    client: TestClient, header: tuple[str, str]
) -> None:
    response = client.get("/metrics", headers=[header])
    assert response.status_code == 401
    assert "crossforce_" not in response.text


def test_install_twice_adds_one_middleware_and_one_route() -> None:
    app = small_app()
    install(app, Settings())
    assert sum(m.cls is ObservabilityMiddleware for m in app.user_middleware) == 1
    assert sum(getattr(r, "path", "") == "/metrics" for r in app.routes) == 1


def test_graphql_operations_are_counted_with_bounded_labels() -> None:
    before = sample("crossforce_graphql_operations_total", operation="PriorityQueue", outcome="ok")
    observe_graphql("PriorityQueue", 0.012, ok=True)
    observe_graphql("PriorityQueue", 0.020, ok=True)
    observe_graphql("PriorityQueue", 0.5, ok=False)
    assert (
        sample("crossforce_graphql_operations_total", operation="PriorityQueue", outcome="ok")
        == before + 2
    )
    assert (
        sample("crossforce_graphql_operations_total", operation="PriorityQueue", outcome="error")
        >= 1
    )
    names = OperationNames()
    assert names.label(None) == "anonymous"
    assert names.label("Jane Doe 07700900123") == "invalid"
    labels = [names.label(f"Op{n}") for n in range(MAX_OPERATION_NAMES + 5)]
    assert labels[MAX_OPERATION_NAMES - 1] == f"Op{MAX_OPERATION_NAMES - 1}"
    assert labels[MAX_OPERATION_NAMES:] == ["other"] * 5
    assert names.label("Op0") == "Op0"  # a name seen before keeps its label


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError("resolver failed")


async def test_the_schema_extension_counts_operations_and_their_errors() -> None:
    schema = strawberry.Schema(query=Query, extensions=[GraphQLMetrics])

    def count(operation: str, outcome: str) -> float:
        return sample("crossforce_graphql_operations_total", operation=operation, outcome=outcome)

    before = (count("Hello", "ok"), count("Broken", "error"), count("anonymous", "error"))
    assert (await schema.execute("query Hello { hello }")).errors is None
    assert (await schema.execute("query Broken { broken }")).errors
    assert (await schema.execute("{ nosuchfield }")).errors  # refused in validation
    assert (count("Hello", "ok"), count("Broken", "error"), count("anonymous", "error")) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 1,
    )
    assert sample("crossforce_graphql_operation_duration_seconds_count", operation="Hello") >= 1


CONFIGURED = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """The process's logging as `serve` configures it, into a buffer; restored afterwards."""
    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in CONFIGURED]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    configure_logging(Settings(log_format="json"), stream)
    yield stream
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
    structlog.reset_defaults()


def test_logs_are_json_lines_with_the_request_id_and_no_query_values(
    captured_logs: io.StringIO,
) -> None:
    with TestClient(small_app()) as client:
        client.get(
            "/items/07700900123?email=jane@example.org", headers={"X-Request-Id": "r-12345678"}
        )
    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    access = [line for line in lines if line.get("event") == "request"]
    assert access == [
        {
            "event": "request",
            "method": "GET",
            "route": "/items/{ref}",
            "status": 200,
            "duration_ms": access[0]["duration_ms"],
            "request_id": "r-12345678",
            "level": "info",
            "logger": "crossforce.access",
            "timestamp": access[0]["timestamp"],
        }
    ]
    text = captured_logs.getvalue()
    assert "07700900123" not in text and "jane@example.org" not in text


def test_uvicorns_websocket_lines_lose_their_query_strings(captured_logs: io.StringIO) -> None:
    handshake = '%s - "WebSocket %s" [accepted]'
    query = "/graphql?email=jane@example.org&name=Jane Doe"
    logging.getLogger("uvicorn.error").info(handshake, "127.0.0.1:50000", query)
    [line] = [json.loads(line) for line in captured_logs.getvalue().splitlines()]
    assert line["event"] == '127.0.0.1:50000 - "WebSocket /graphql" [accepted]'


def test_tokens_and_forbidden_keys_never_reach_the_log(captured_logs: io.StringIO) -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJmb3JjZS1BUyJ9.c2lnbmF0dXJlLWJ5dGVz"
    logging.getLogger("crossforce.test").warning("refused token %s", jwt)
    structlog.get_logger("crossforce.test").info(
        "event", token=jwt, body='{"familyName": "Doe"}', password="hunter2", kept="yes"
    )
    text = captured_logs.getvalue()
    assert jwt not in text and "Doe" not in text and "hunter2" not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["event"] == "refused token [token]"
    assert lines[1]["kept"] == "yes" and "token" not in lines[1]
