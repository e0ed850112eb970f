"""`/metrics` needs a bearer token: the configured metrics token or an admin access token. Only
a development hub with no metrics token serves it to a direct caller without one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.testclient import TestClient

from gateway.config import Settings
from gateway.observability import install
from tests.federation.conftest import Hub

METRICS_TOKEN = "scrape-7b1e0c9d4f"


def client_for(settings: Settings) -> Iterator[TestClient]:
    app = Starlette()
    install(app, settings)
    with TestClient(app) as client:
        yield client


@pytest.fixture
def production() -> Iterator[TestClient]:
    yield from client_for(Settings(environment="production"))


@pytest.fixture
def with_token() -> Iterator[TestClient]:
    yield from client_for(Settings(metrics_token=SecretStr(METRICS_TOKEN)))


def test_production_serves_no_metrics_without_a_token(production: TestClient) -> None:
    response = production.get("/metrics")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "crossforce_" not in response.text


def test_the_metrics_token_opens_metrics_and_nothing_else_does(with_token: TestClient) -> None:
    assert with_token.get("/metrics").status_code == 401
    wrong = with_token.get("/metrics", headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 401
    right = with_token.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert right.status_code == 200
    assert "crossforce_http_requests_total" in right.text


async def test_an_admin_access_token_reads_metrics_and_a_force_token_does_not(
    hub: Hub,
) -> None:
    admin = {"Authorization": f"Bearer {hub.token('admin')}"}
    assert (await hub.http.get("/metrics", headers=admin)).status_code == 200
    force = {"Authorization": f"Bearer {hub.token('force-AS')}"}
    assert (await hub.http.get("/metrics", headers=force)).status_code == 401
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    assert (await hub.http.get("/metrics", headers=proxied)).status_code == 401
