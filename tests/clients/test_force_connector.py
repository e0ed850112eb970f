"""The force connector's HTTP endpoint, readable only with the hub's token from a real development
issuer: the connector runs as the demo and the pull tests run it, a process of its own from its
own environment (`python -m crossforce_connector.serve`). Its feeds, schema and ASGI wrapper are
tested in that environment (connector/tests)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jws, jwt
from joserfc.jwk import OctKey, RSAKey
from starlette.applications import Starlette

from gateway.demo.connector import ConnectorProcess, write_feed
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


@pytest.fixture(scope="module")
def served(
    issuer: DevIdentityProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """The connector's URL over three case summaries, and the summaries."""
    cases = pulled_cases("WI", 3)
    feed = tmp_path_factory.mktemp("force") / "cases.jsonl"
    write_feed(feed, cases)
    process = ConnectorProcess(feed, issuer.issuer).start()
    yield process.url, cases
    process.stop()


@pytest.fixture
def connector_url(served: tuple[str, list[dict[str, Any]]]) -> str:
    return served[0]


def _post(url: str, token: str | None, variables: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"query": QUERY, "variables": variables or {}}
    return httpx.post(url, json=body, headers=headers, timeout=10)


def test_the_connector_serves_the_hub_and_nobody_else(
    connector_url: str, issuer: DevIdentityProvider, tmp_path: Path
) -> None:
    answer = _post(connector_url, issuer.mint("hub"), {"first": 2})
    assert answer.status_code == 200, answer.text
    feed = answer.json()["data"]["caseSummaries"]
    assert [e["node"]["caseRef"] for e in feed["edges"]] == ["WI-PULL-00000", "WI-PULL-00001"]
    assert feed["pageInfo"]["hasNextPage"] is True
    rest = _post(connector_url, issuer.mint("hub"), {"since": feed["pageInfo"]["endCursor"]})
    assert [e["node"]["caseRef"] for e in rest.json()["data"]["caseSummaries"]["edges"]] == [
        "WI-PULL-00002"
    ]

    missing = _post(connector_url, None)
    assert missing.status_code == 401 and "www-authenticate" in missing.headers
    coordinator = _post(connector_url, issuer.mint("coordinator"))
    assert (coordinator.status_code, coordinator.json()["errors"][0]["message"]) == (
        403,
        "requires scope pull:read",
    )
    # Same issuer name, another signing key: not the hub's provider.
    impostor = provider(tmp_path / "impostor", issuer.issuer)
    forged = _post(connector_url, impostor.mint("hub"))
    assert (forged.status_code, forged.json()["errors"][0]["message"]) == (
        401,
        "unknown signing key",
    )
    # The hub's own key, but a token meant for another audience.
    elsewhere = provider(issuer._data_dir, issuer.issuer, audience="elsewhere")
    assert _post(connector_url, elsewhere.mint("hub")).status_code == 401
    assert httpx.get(connector_url, timeout=10).status_code == 405


def test_tokens_the_hubs_provider_did_not_sign_are_refused(
    connector_url: str, issuer: DevIdentityProvider
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
        answer = _post(connector_url, token)
        assert (answer.status_code, answer.json()["errors"][0]["message"]) == (401, reason)


def test_the_connector_serves_each_summary_whole_to_the_hub_only(
    served: tuple[str, list[dict[str, Any]]], issuer: DevIdentityProvider
) -> None:
    url, cases = served
    answer = _post(url, issuer.mint("hub"))
    assert answer.status_code == 200
    edges = answer.json()["data"]["caseSummaries"]["edges"]
    assert [e["node"] for e in edges] == cases
    assert _post(url, issuer.mint("analyst-WI")).status_code == 403
    assert _post(url, "not-a-jwt").status_code == 401


def _raw(url: str, token: str, content_type: str, body: bytes) -> int:
    headers = {"Authorization": token, "Content-Type": content_type}
    return httpx.post(url, content=body, headers=headers, timeout=10).status_code


def test_bad_arguments_and_a_failing_feed_answer_safe_graphql_errors(
    connector_url: str, issuer: DevIdentityProvider, tmp_path: Path
) -> None:
    token = issuer.mint("hub")

    def ask(variables: dict[str, Any], url: str = connector_url) -> dict[str, Any]:
        answer = _post(url, token, variables)
        assert answer.status_code == 200
        document: dict[str, Any] = answer.json()
        return document

    assert ask({"since": "garbage"})["errors"][0]["message"] == (
        "since must be a cursor returned by an earlier page"
    )
    assert ask({"first": 0})["errors"][0]["message"] == "first must be between 1 and 500"
    # The force's storage fails (here a record it cannot read): the hub is told to retry, and
    # nothing of the failure.
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"database password": "hunter2"\n')
    process = ConnectorProcess(broken, issuer.issuer).start()
    try:
        failure = ask({}, process.url)
    finally:
        process.stop()
    assert failure["errors"][0]["message"] == "the case feed is unavailable; retry later"
    assert "hunter2" not in json.dumps(failure)
    for content_type, body, status in (
        ("text/plain", b"{}", 415),
        ("application/json", b"[1]", 400),
        ("application/json", b"{not json", 400),
    ):
        assert _raw(connector_url, f"Bearer {token}", content_type, body) == status
