"""People sign in through the configured OIDC provider: authorisation code flow with PKCE.

The organisation's identity provider cannot run here, so a small provider in this file stands
in for it (the only stand-in in these tests): discovery, an authorisation endpoint that signs
the person in at once and redirects back, a token endpoint that checks the PKCE verifier against
the challenge (S256), and the JWKS. Its tokens are signed by the development provider's key code
under this provider's issuer URL, so the hub validates them exactly as it would a real
provider's: discovery, JWKS over HTTP, issuer, audience. The browser side is the UI's own code.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
import uvicorn
from playwright.async_api import Page, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from gateway.config import Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import provider

from .conftest import Console, screenshot

pytestmark = pytest.mark.browser
PERSON = "analyst-AS"


@dataclass
class StandInProvider:
    url: str
    data_dir: Path
    requests: list[dict[str, str]] = field(default_factory=list)
    challenges: dict[str, tuple[str, str]] = field(default_factory=dict)

    def app(self) -> Starlette:
        issuer = provider(self.data_dir, issuer=self.url)

        async def metadata(_: Request) -> Response:
            return JSONResponse(
                {
                    "issuer": self.url,
                    "authorization_endpoint": f"{self.url}/authorize",
                    "token_endpoint": f"{self.url}/token",
                    "jwks_uri": f"{self.url}/jwks",
                    "response_types_supported": ["code"],
                    "code_challenge_methods_supported": ["S256"],
                },
                headers={"Access-Control-Allow-Origin": "*"},
            )

        async def jwks(_: Request) -> Response:
            return JSONResponse(issuer.jwks())

        async def authorize(request: Request) -> Response:
            params = dict(request.query_params)
            self.requests.append(params)
            code = secrets.token_urlsafe(16)
            self.challenges[code] = (params["code_challenge"], params["redirect_uri"])
            back = {"code": code, "state": params["state"], "iss": self.url}
            return RedirectResponse(f"{params['redirect_uri']}?{urlencode(back)}", 302)

        async def token(request: Request) -> Response:
            form = dict(parse_qsl((await request.body()).decode()))
            cors = {"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"}
            challenge, redirect = self.challenges.pop(str(form.get("code")), ("", ""))
            verifier = str(form.get("code_verifier", "")).encode()
            computed = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
            valid = (
                form.get("grant_type") == "authorization_code"
                and challenge
                and computed.decode() == challenge
                and form.get("redirect_uri") == redirect
            )
            if not valid:
                return JSONResponse({"error": "invalid_grant"}, 400, headers=cors)
            access = issuer.mint(PERSON)
            body = {"access_token": access, "token_type": "Bearer", "expires_in": 3600}
            return JSONResponse(body, headers=cors)

        async def preflight(_: Request) -> Response:
            return Response(
                status_code=204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Headers": "*",
                    "Access-Control-Allow-Methods": "GET, POST",
                },
            )

        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", metadata),
                Route("/.well-known/openid-configuration", preflight, methods=["OPTIONS"]),
                Route("/jwks", jwks),
                Route("/authorize", authorize),
                Route("/token", token, methods=["POST"]),
                Route("/token", preflight, methods=["OPTIONS"]),
            ]
        )


@pytest.fixture(scope="module")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StandInProvider]:
    port = free_port()
    idp = StandInProvider(f"http://127.0.0.1:{port}", tmp_path_factory.mktemp("oidc"))
    config = uvicorn.Config(idp.app(), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.05)
    yield idp
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="module")
def oidc_hub(
    web_build: Path,
    stand_in: StandInProvider,
    falkordb_server: EmbeddedFalkorDB,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    port = free_port()
    data_dir = tmp_path_factory.mktemp("oidc-hub")
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/oidc_hub",
        data_dir=data_dir,
        public_url=f"http://127.0.0.1:{port}",
        oidc_issuer=stand_in.url,
        graphql_persisted_only=True,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield server.url
    server.stop()


async def test_a_person_signs_in_with_the_code_flow_and_pkce(
    oidc_hub: str, stand_in: StandInProvider, page_and_console: tuple[Page, Console]
) -> None:
    page, console = page_and_console
    await page.goto(oidc_hub + "/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.get_by_label("Client secret").count() == 0  # no secrets for people
    await screenshot(page, "sign-in-oidc")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Priority queue")).to_be_visible()
    await expect(page.get_by_test_id("signed-in-as")).to_have_text("Signed in as analyst-AS (AS)")
    [asked] = stand_in.requests
    assert asked["response_type"] == "code"
    assert asked["client_id"] == "crossforce-web"
    assert asked["code_challenge_method"] == "S256"
    assert asked["redirect_uri"] == oidc_hub + "/"
    assert "openid" in asked["scope"].split()
    assert stand_in.challenges == {}, "the code was exchanged, with the right verifier"
    # The code is gone from the address bar and nothing is kept in the browser's storage.
    assert page.url == oidc_hub + "/#/queue"
    stored: list[Any] = await page.evaluate(
        "[localStorage.length, sessionStorage.length, document.cookie]"
    )
    assert stored == [0, 0, ""]
    assert console.errors == []


async def test_a_replayed_code_is_refused_and_signs_no_one_in(
    oidc_hub: str, stand_in: StandInProvider, page_and_console: tuple[Page, Console]
) -> None:
    page, _ = page_and_console
    await page.goto(f"{oidc_hub}/?code=stolen&state=whatever")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert await page.get_by_test_id("signed-in-as").count() == 0
