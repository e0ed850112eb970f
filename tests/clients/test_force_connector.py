"""The force connector: its feed, its Graphene schema, and its HTTP endpoint under ASGI (uvicorn)
and WSGI (wsgiref), readable only with the hub's token from a real development issuer."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import httpx
import pytest
from crossforce_connector import (
    Endpoint,
    IterableFeed,
    QueryFeed,
    asgi_app,
    build_schema,
    connector,
    wsgi_app,
)
from crossforce_connector.feed import FeedPage
from joserfc import jws, jwt
from joserfc.jwk import OctKey, RSAKey
from starlette.applications import Starlette

from graph.embedded import free_port
from policies.devidp import DEFAULT_POLICY_DIR, DevIdentityProvider
from policies.scopes import load_clients
from tests.federation.pull_fixtures import ThreadServer, pulled_cases

QUERY = """query Pull($since: String, $first: Int) {
  caseSummaries(since: $since, first: $first) {
    edges { cursor node } pageInfo { endCursor hasNextPage } } }"""


def provider(data_dir: Path, issuer: str, audience: str = "crossforce") -> DevIdentityProvider:
    clients = load_clients(DEFAULT_POLICY_DIR / "clients.yaml")
    return DevIdentityProvider(data_dir, issuer=issuer, audience=audience, clients=clients)


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevIdentityProvider]:
    """The hub's development identity provider, serving discovery and its JWKS on loopback."""
    port = free_port()
    idp = provider(tmp_path_factory.mktemp("idp"), f"http://127.0.0.1:{port}")
    server = ThreadServer(Starlette(routes=idp.routes()), port=port).start()
    yield idp
    server.stop()


def versions(page: FeedPage) -> list[tuple[str, int]]:
    return [(e.summary["caseRef"], e.summary["version"]) for e in page.entries]


def test_iterable_feed_pages_newest_versions_in_change_order_with_tombstones() -> None:
    one, two, three = pulled_cases("WI", 3)
    tombstone = {"force": "WI", "caseRef": one["caseRef"], "version": 2, "deleted": True}
    rows = [(1, one), (2, two), (3, three), (4, tombstone), (5, two | {"version": 3})]
    positions = {id(s): p for p, s in rows}
    feed = IterableFeed([s for _, s in rows], position=lambda s: positions[id(s)])

    first = feed.page(None, 2)
    assert versions(first) == [("WI-PULL-00002", 1), ("WI-PULL-00000", 2)]
    assert first.has_next_page and first.end_cursor == first.entries[-1].cursor
    assert first.entries[1].summary["deleted"] is True
    second = feed.page(first.end_cursor, 2)
    assert versions(second) == [("WI-PULL-00001", 3)] and not second.has_next_page
    idle = feed.page(second.end_cursor, 2)
    assert idle.entries == [] and idle.end_cursor == second.end_cursor  # keeps its place
    # The same feed from (position, summary) pairs, as a force's rows would give them.
    pairs = IterableFeed(lambda: iter(rows))
    assert [pairs.page(None, 2), pairs.page(first.end_cursor, 2)] == [first, second]


def test_query_feed_reads_the_forces_own_database() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, summary TEXT)")
    cases = pulled_cases("WI", 5)
    db.executemany("INSERT INTO outbox (summary) VALUES (?)", [(json.dumps(c),) for c in cases])
    db.execute("INSERT INTO outbox (summary) VALUES (?)", (json.dumps(cases[4] | {"version": 2}),))

    def query(after: int | str | None, limit: int) -> list[tuple[int, dict[str, Any]]]:
        rows = db.execute(
            "SELECT seq, summary FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after or 0, limit),
        )
        return [(seq, json.loads(text)) for seq, text in rows]

    feed = QueryFeed(query)
    first = feed.page(None, 4)
    assert [e.summary["caseRef"] for e in first.entries] == [c["caseRef"] for c in cases[:4]]
    second = feed.page(first.end_cursor, 4)
    # The table holds two versions of the fifth case; the page carries the newest only.
    assert versions(second) == [("WI-PULL-00004", 2)] and not second.has_next_page


def test_schema_exposes_case_summaries() -> None:
    schema = build_schema(IterableFeed([], position=lambda s: 0)).graphql_schema
    field = schema.query_type.fields["caseSummaries"]
    assert str(field.type) == "CaseSummaryConnection!"
    assert {name: str(arg.type) for name, arg in field.args.items()} == {
        "since": "String",
        "first": "Int",
    }
    assert field.args["first"].default_value == 100
    assert str(schema.get_type("CaseSummaryEdge").fields["node"].type) == "CaseSummary!"


@pytest.fixture
def asgi_connector(issuer: DevIdentityProvider) -> Iterator[str]:
    cases = pulled_cases("WI", 3)
    feed = IterableFeed(cases, position=lambda s: str(s["caseRef"]))
    server = ThreadServer(asgi_app(connector(feed, issuer=issuer.issuer))).start()
    yield server.url
    server.stop()


def _post(url: str, token: str | None, variables: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": QUERY, "variables": variables or {}}
    return httpx.post(url, json=body, headers=headers, timeout=10)


def test_asgi_connector_serves_the_hub_and_nobody_else(
    asgi_connector: str, issuer: DevIdentityProvider, tmp_path: Path
) -> None:
    answer = _post(asgi_connector, issuer.mint("hub"), {"first": 2})
    assert answer.status_code == 200, answer.text
    feed = answer.json()["data"]["caseSummaries"]
    assert [e["node"]["caseRef"] for e in feed["edges"]] == ["WI-PULL-00000", "WI-PULL-00001"]
    assert feed["pageInfo"]["hasNextPage"] is True
    rest = _post(asgi_connector, issuer.mint("hub"), {"since": feed["pageInfo"]["endCursor"]})
    assert [e["node"]["caseRef"] for e in rest.json()["data"]["caseSummaries"]["edges"]] == [
        "WI-PULL-00002"
    ]

    missing = _post(asgi_connector, None)
    assert missing.status_code == 401 and "www-authenticate" in missing.headers
    coordinator = _post(asgi_connector, issuer.mint("coordinator"))
    assert (coordinator.status_code, coordinator.json()["errors"][0]["message"]) == (
        403,
        "requires scope pull:read",
    )
    # Same issuer name, another signing key: not the hub's provider.
    impostor = provider(tmp_path / "impostor", issuer.issuer)
    forged = _post(asgi_connector, impostor.mint("hub"))
    assert (forged.status_code, forged.json()["errors"][0]["message"]) == (
        401,
        "unknown signing key",
    )
    # The hub's own key, but a token meant for another audience.
    elsewhere = provider(issuer._data_dir, issuer.issuer, audience="elsewhere")
    assert _post(asgi_connector, elsewhere.mint("hub")).status_code == 401
    assert httpx.get(asgi_connector, timeout=10).status_code == 405


def test_tokens_the_hubs_provider_did_not_sign_are_refused(
    asgi_connector: str, issuer: DevIdentityProvider
) -> None:
    kid = jws.extract_compact(issuer.mint("hub").encode()).headers()["kid"]
    now = int(time.time())
    claims = {"iss": issuer.issuer, "aud": "crossforce", "exp": now + 300, "iat": now,
              "scope": "pull:read", "client_id": "hub"}  # fmt: skip
    stranger = RSAKey.generate_key(2048)
    refusals = {
        "algorithm not allowed": jwt.encode(
            {"alg": "HS256", "kid": kid},
            claims,
            OctKey.generate_key(256),
            algorithms=["HS256"],
        ),
        "bad signature": jwt.encode({"alg": "RS256", "kid": kid}, claims, stranger),
        "token names its own key": jwt.encode(
            {"alg": "RS256", "kid": kid, "jku": "https://attacker.example/jwks"}, claims, stranger
        ),
        "malformed token": "not.a.token",
    }
    for reason, token in refusals.items():
        answer = _post(asgi_connector, token)
        assert (answer.status_code, answer.json()["errors"][0]["message"]) == (401, reason)


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """wsgiref logs every request to stderr; the tests do not need it."""


def test_wsgi_connector_answers_as_the_asgi_one(issuer: DevIdentityProvider) -> None:
    cases = pulled_cases("WI", 3)
    feed = IterableFeed(cases, position=lambda s: str(s["caseRef"]))
    server = make_server("127.0.0.1", 0, wsgi_app(connector(feed, issuer=issuer.issuer)))
    server.RequestHandlerClass = _Quiet
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/crossforce/graphql"
    try:
        answer = _post(url, issuer.mint("hub"))
        assert answer.status_code == 200
        edges = answer.json()["data"]["caseSummaries"]["edges"]
        assert [e["node"] for e in edges] == cases
        assert _post(url, issuer.mint("analyst-WI")).status_code == 403
        assert _post(url, "not-a-jwt").status_code == 401
    finally:
        server.shutdown()
        server.server_close()


class _Broken:
    def page(self, since: str | None, first: int) -> FeedPage:
        raise RuntimeError("database password is hunter2")


def test_bad_arguments_and_a_failing_feed_answer_safe_graphql_errors(
    issuer: DevIdentityProvider,
) -> None:
    token = f"Bearer {issuer.mint('hub')}"
    feed = IterableFeed(pulled_cases("WI", 1), position=lambda s: 1)
    endpoint = connector(feed, issuer=issuer.issuer)

    def ask(variables: dict[str, Any], to: Endpoint = endpoint) -> dict[str, Any]:
        body = json.dumps({"query": QUERY, "variables": variables}).encode()
        reply = to.handle("POST", token, "application/json", body)
        assert reply.status == 200
        answer: dict[str, Any] = json.loads(reply.body)
        return answer

    assert ask({"since": "garbage"})["errors"][0]["message"] == (
        "since must be a cursor returned by an earlier page"
    )
    assert ask({"first": 0})["errors"][0]["message"] == "first must be between 1 and 500"
    broken = Endpoint(build_schema(_Broken()), endpoint.verifier)
    failure = ask({}, broken)
    assert failure["errors"][0]["message"] == "the case feed is unavailable; retry later"
    assert "hunter2" not in json.dumps(failure)
    for content_type, body, status in (
        ("text/plain", b"{}", 415),
        ("application/json", b"[1]", 400),
        ("application/json", b"{not json", 400),
    ):
        assert endpoint.handle("POST", token, content_type, body).status == status
