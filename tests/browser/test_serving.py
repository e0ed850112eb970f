"""The gateway serves the built UI at `/` with a strict CSP, caching fit for each file, and the
persisted-query manifest of exactly the documents in web/src/queries."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from bench.ui_queries import documents
from gateway.config import Settings
from gateway.web import content_security_policy, web_routes

from .helpers import sha256


@pytest.fixture
def http(ui_server: Settings) -> httpx.Client:
    return httpx.Client(base_url=ui_server.public_url or "", timeout=10)


def test_the_page_has_a_strict_csp_and_no_inline_script(http: httpx.Client) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["x-content-type-options"] == "nosniff"
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", response.text, re.S)
    assert scripts and all(body.strip() == "" for body in scripts)
    assert not re.search(r"\sstyle=", response.text)
    assert not re.search(r"\son[a-z]+=", response.text)


def test_hashed_assets_are_immutable_and_missing_ones_not_cached(http: httpx.Client) -> None:
    page = http.get("/").text
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+)"', page)
    assert any(a.endswith(".js") for a in assets) and any(a.endswith(".css") for a in assets)
    for asset in assets:
        response = http.get(asset)
        assert response.status_code == 200, asset
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "content-security-policy" in response.headers
    missing = http.get("/assets/not-there.js")
    assert missing.status_code == 404
    assert missing.headers["cache-control"] == "no-store"


def test_the_manifest_holds_every_query_by_the_sha256_of_its_text(http: httpx.Client) -> None:
    response = http.get("/persisted-queries.json")
    assert response.status_code == 200
    manifest: dict[str, str] = response.json()
    assert all(key == sha256(text) for key, text in manifest.items())
    assert set(manifest.values()) == documents()
    assert len(manifest) >= 10
    # A shared fragment is sent with every document that spreads it, and never alone.
    claim = next(text for text in manifest.values() if "claimVictimGroup" in text)
    assert claim.count("fragment Group on VictimGroup") == 1
    assert not any(text.startswith("fragment") for text in manifest.values())


def test_the_api_keeps_its_routes_beside_the_ui(http: httpx.Client) -> None:
    assert http.get("/readyz").status_code == 200
    assert http.post("/graphql", json={"query": "{ __typename }"}).status_code == 401
    assert http.get("/web-config.json").json() == {"oidc": None}


def test_with_an_oidc_issuer_the_ui_may_reach_it_and_is_told_how_to_sign_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSFORCE_WEB_CLIENT_ID", "crossforce-ui")
    settings = Settings(oidc_issuer="https://login.region.example/realms/sw")
    csp = content_security_policy(settings)
    assert "connect-src 'self' https://login.region.example;" in csp + ";"
    client = TestClient(Starlette(routes=web_routes(settings, static=tmp_path)))
    config = client.get("/web-config.json").json()
    assert config["oidc"]["issuer"] == "https://login.region.example/realms/sw"
    assert config["oidc"]["clientId"] == "crossforce-ui"
    assert "openid" in config["oidc"]["scope"].split()


def test_an_unbuilt_ui_says_how_to_build_it(tmp_path: Path) -> None:
    client = TestClient(Starlette(routes=web_routes(Settings(), static=tmp_path)))
    response = client.get("/")
    assert response.status_code == 503
    assert "make web" in response.text
    assert client.get("/assets/index.js").status_code == 404
    assert json.loads(client.get("/web-config.json").text) == {"oidc": None}
