"""The web UI: the built single-page app from `gateway/static/`, served at `/`.

`make web` builds it from `web/` (Vite) into `gateway/static/`: `index.html`, hashed files under
`assets/`, and `persisted-queries.json` (every GraphQL document the UI sends, by SHA-256).

Explicit routes rather than a catch-all `Mount("/")`, so the UI claims no path the API serves
whatever order the routes are added in; the UI routes by URL fragment (`#/case/AS/...`), so no
other path needs the page. Every response carries a strict Content-Security-Policy (scripts,
styles and connections from this origin only, plus the OIDC issuer when one is configured;
no inline scripts) and caching fit for what it is: hashed assets are immutable, the page and
the manifest are revalidated on every load so a new build takes effect at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.config import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


class WebSettings(BaseSettings):
    """The UI's own settings: which OIDC client the browser signs people in as."""

    model_config = SettingsConfigDict(env_prefix="CROSSFORCE_WEB_", extra="ignore")

    client_id: str = Field(
        "crossforce-web", description="public OIDC client (authorisation code flow with PKCE)"
    )
    scope: str = Field("openid cases:read oversight:read sensitive:reveal victim-id:write")


def content_security_policy(settings: Settings) -> str:
    connect = ["'self'"]
    if settings.oidc_issuer:
        parts = urlsplit(settings.oidc_issuer)
        connect.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            f"connect-src {' '.join(connect)}",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


class Headers:
    """Adds the UI's security headers and a Cache-Control to every response of `app`."""

    def __init__(self, app: ASGIApp, csp: str, cache_control: str) -> None:
        self.app = app
        self.cache_control = cache_control.encode()
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"),
            (b"cross-origin-opener-policy", b"same-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                # A missing asset must not be cached for a year: only answers are.
                found = message["status"] in (200, 304)
                added = [
                    *self.headers,
                    (b"cache-control", self.cache_control if found else b"no-store"),
                ]
                names = {name for name, _ in added}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + added
            await send(message)

        await self.app(scope, receive, send_with_headers)


class Assets(StaticFiles):
    """StaticFiles answering a missing file itself, so `Headers` marks the 404 `no-store`."""

    async def check_config(self) -> None:
        """Before `make web` has run there is no directory: every asset is a 404, not a 500."""
        try:
            await super().check_config()
        except RuntimeError as error:
            if "does not exist" not in str(error):
                raise

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as error:
            return PlainTextResponse(error.detail, status_code=error.status_code)


def _not_built(static: Path) -> Response:
    return PlainTextResponse(
        f"The web UI is not built ({static} is missing): run `make web`.", status_code=503
    )


def web_routes(settings: Settings, static: Path = STATIC_DIR) -> list[BaseRoute]:
    """The UI's routes for `create_app`: the page, its assets, the query manifest, its config."""
    csp = content_security_policy(settings)
    web = WebSettings()

    async def page(_: Request) -> Response:
        index = static / "index.html"
        return FileResponse(index) if index.is_file() else _not_built(static)

    async def manifest(_: Request) -> Response:
        path = static / "persisted-queries.json"
        return FileResponse(path) if path.is_file() else _not_built(static)

    async def config(_: Request) -> Response:
        body: dict[str, Any] = {"oidc": None}
        if settings.oidc_issuer:
            body["oidc"] = {
                "issuer": settings.oidc_issuer,
                "clientId": web.client_id,
                "scope": web.scope,
            }
        return JSONResponse(body)

    assets = Assets(directory=static / "assets", check_dir=False)
    return [
        Route("/", Headers(_endpoint(page), csp, REVALIDATE), methods=["GET", "HEAD"]),
        Route(
            "/persisted-queries.json",
            Headers(_endpoint(manifest), csp, REVALIDATE),
            methods=["GET", "HEAD"],
        ),
        Route(
            "/web-config.json", Headers(_endpoint(config), csp, REVALIDATE), methods=["GET", "HEAD"]
        ),
        Mount("/assets", Headers(assets, csp, IMMUTABLE)),
    ]


def _endpoint(handler: Any) -> ASGIApp:
    """A request handler as a plain ASGI app, so `Headers` can wrap it."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        response: Response = await handler(Request(scope, receive))
        await response(scope, receive, send)

    return app
