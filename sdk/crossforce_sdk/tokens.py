"""Access tokens by OAuth 2 client credentials, through Authlib's httpx client.

A token is kept until shortly before it expires (measured from before the request, so it never
expires in flight) and replaced once when the hub refuses it. The token endpoint is retried like
the hub itself: it may be rate-limited or briefly unavailable too.
"""

from __future__ import annotations

import asyncio
import base64
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

# Authlib's "always" filter first, so ours below wins.
import authlib.deprecate  # type: ignore[import-untyped]  # noqa: F401
import httpx

with warnings.catch_warnings():
    # Authlib's httpx integration runs on httpx and says it will prefer httpx2 one day; the SDK
    # stays on httpx, which it uses for every other call, until then.
    warnings.filterwarnings("ignore", "The httpx module is deprecated")
    from authlib.integrations.httpx_client import (  # type: ignore[import-untyped]
        AsyncOAuth2Client,
        OAuthError,
    )

from crossforce_sdk.errors import AuthError
from crossforce_sdk.retries import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    Sleep,
    transient_answer,
    with_retries,
)

# OAuth error codes are short ASCII tokens; anything else in an error body is not repeated.
_OAUTH_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")

Clock = Callable[[], float]


def _form_encoded_basic(
    client: Any, method: str, uri: str, headers: dict[str, str], body: str
) -> tuple[str, dict[str, str], str]:
    """client_secret_basic with both parts form-urlencoded first (RFC 6749 2.3.1), so a secret
    holding `:` or non-ASCII characters still reaches the server whole."""
    credentials = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
    headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode("ascii")
    return uri, headers, body


class _Refused(Exception):
    """The token endpoint answered, but not with a token."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _screen(response: httpx.Response) -> httpx.Response:
    """Authlib's hook on every token answer: transient ones are retried, refusals reported with
    their OAuth error code only; a 200 goes on to Authlib's parsing."""
    if response.status_code in RETRYABLE_STATUSES:
        raise transient_answer(response)
    if response.status_code != 200:
        raise _Refused(response)
    return response


class ClientCredentials:
    """Tokens for one client at one token endpoint."""

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        scope: str | None,
        retry: RetryPolicy,
        timeout: httpx.Timeout | float,
        headers: Mapping[str, str],
        refresh_margin: float,
        sleep: Sleep = asyncio.sleep,
        clock: Clock,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._oauth = AsyncOAuth2Client(
            client_id=client_id,
            client_secret=client_secret,
            scope=scope,
            token_endpoint=token_url,
            grant_type="client_credentials",
            timeout=timeout,
            headers=dict(headers),
        )
        self._oauth.register_client_auth_method(("client_secret_basic", _form_encoded_basic))
        self._oauth.register_compliance_hook("access_token_response", _screen)
        self._retry = retry
        self._sleep = sleep
        self._clock = clock
        self._margin = refresh_margin
        self._token: str | None = None
        self._refresh_at = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self._oauth.aclose()

    async def current(self) -> str:
        """A valid access token: the cached one, or a new one when it is about to expire."""
        async with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                await self._fetch()
            assert self._token is not None
            return self._token

    async def renew(self, refused: str) -> None:
        """Replace a token the hub refused, unless another call has already replaced it."""
        async with self._lock:
            if self._token == refused:
                await self._fetch()

    async def _fetch(self) -> None:
        requested_at = self._clock()
        what = f"token request to {self.token_url}"

        async def attempt() -> dict[str, Any]:
            return dict(await self._oauth.fetch_token(grant_type="client_credentials"))

        try:
            payload = await with_retries(what, attempt, self._retry, self._sleep)
        except _Refused as refused:
            status = refused.response.status_code
            raise AuthError(
                f"{what} for client {self.client_id!r} refused ({status}"
                f"{_oauth_error(refused.response)})",
                status=status,
            ) from None
        except (OAuthError, ValueError):
            raise AuthError(f"{what}: the answer held no bearer access token", status=200) from None
        token = payload.get("access_token")
        if not isinstance(token, str) or not token:
            raise AuthError(f"{what}: the answer held no bearer access token", status=200)
        if str(payload.get("token_type", "Bearer")).lower() != "bearer":
            raise AuthError(f"{what}: the answer held no bearer access token", status=200)
        self._token = token
        expires_in = payload.get("expires_in")
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            # Renewed early; the margin shrinks for short-lived tokens so they are used at all.
            margin = min(self._margin, float(expires_in) / 2)
            self._refresh_at = requested_at + float(expires_in) - margin
        else:
            self._refresh_at = float("inf")  # no lifetime given: keep it until the hub says 401


def _oauth_error(response: httpx.Response) -> str:
    """`: invalid_client` and the like; only a well-formed OAuth error code is repeated."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    code = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(code, str) and _OAUTH_ERROR_CODE.match(code):
        return f": {code}"
    return ""
