"""The development identity provider served over ASGI, and a validator that reaches it by HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from policies.devidp import DEFAULT_POLICY_DIR, DevIdentityProvider, provider
from policies.scopes import ClientDirectory, load_clients
from policies.tokens import TokenValidator

ISSUER = "http://127.0.0.1:8000"
AUDIENCE = "crossforce"


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes requests to the app and remembers every URL asked for."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.urls: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        return await self.inner.handle_async_request(request)


@pytest.fixture
def clients() -> ClientDirectory:
    return load_clients(DEFAULT_POLICY_DIR / "clients.yaml")


@pytest.fixture
def idp(tmp_path: Path) -> DevIdentityProvider:
    return provider(tmp_path / "data", issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def transport(idp: DevIdentityProvider) -> RecordingTransport:
    return RecordingTransport(httpx.ASGITransport(app=Starlette(routes=idp.routes())))


@pytest.fixture
async def http(transport: RecordingTransport) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as client:
        yield client


@pytest.fixture
async def validator(http: httpx.AsyncClient, clients: ClientDirectory) -> TokenValidator:
    return TokenValidator(ISSUER, audience=AUDIENCE, http=http, clients=clients)
