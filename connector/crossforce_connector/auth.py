"""Who may read the feed: the hub, with an access token from the hub's identity provider.

joserfc checks the token (an allowed algorithm, the signature, `iss`, `aud`, `exp`, `nbf`); this
module finds the keys it checks against and says which check failed, never the token. Keys come
from the issuer by OpenID discovery (`/.well-known/openid-configuration`, then its `jwks_uri`),
are cached, and are fetched again when old or, at most every `unknown_kid_cooldown` seconds, for
a `kid` not seen before (a rotated key), so made-up kids cannot make the connector hammer the
issuer. A token must also carry the `pull:read` scope and, unless told otherwise, be the `hub`
client's.

The hub checks its own tokens in `policies/tokens.py`; the connector keeps this small validator
of its own because a force system installs it without the hub.
"""

from __future__ import annotations

import ipaddress
import threading
import time
import warnings
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    InvalidKeyIdError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import Key, KeySet
from joserfc.jws import JWSRegistry

ALGORITHMS = ("RS256", "ES256", "EdDSA")
# Headers that point at a key of the token's own choosing: joserfc never follows them, and a token
# that carries them is not one the hub's provider issues.
KEY_REFERENCE_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
MAX_TOKEN_BYTES = 16 * 1024
MAX_DOCUMENT_BYTES = 512 * 1024
PULL_SCOPE = "pull:read"
_REGISTRY = JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)


class Unauthorized(Exception):
    """No token, or a token that is not valid (401). Its message, `reason`, is safe to answer
    with: it names the check that failed, never the token."""

    @property
    def reason(self) -> str:
        return str(self)


class IssuerUnavailable(Unauthorized):
    """The issuer's keys could not be fetched; the caller may retry later."""


class Forbidden(Unauthorized):
    """A valid token without the scope or client this feed needs (403)."""


def check_url(url: str) -> str:
    """https, or http on a loopback address (development and tests)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if (parts.scheme == "https" and host) or (parts.scheme == "http" and loopback):
        return url
    raise ValueError("issuer URLs must be https (http only on loopback addresses)")


class HubTokenVerifier:
    """Validates the hub's bearer tokens for one issuer and audience."""

    def __init__(
        self,
        issuer: str,
        *,
        audience: str = "crossforce",
        scope: str = PULL_SCOPE,
        clients: Collection[str] | None = ("hub",),
        http: httpx.Client | None = None,
        leeway: int = 30,
        jwks_max_age: float = 3600.0,
        unknown_kid_cooldown: float = 30.0,
        now: Callable[[], int] = lambda: int(time.time()),
    ) -> None:
        self.issuer = check_url(issuer).rstrip("/")
        self.audience = audience
        self.scope = scope
        self.clients = None if clients is None else frozenset(clients)
        self._http = http or httpx.Client()
        self._max_age = jwks_max_age
        self._cooldown = unknown_kid_cooldown
        self._keys = KeySet([])
        self._fetched = float("-inf")
        self._lock = threading.Lock()
        self._claims = jwt.JWTClaimsRegistry(
            now=now,
            leeway=leeway,
            iss={"essential": True, "values": [self.issuer, self.issuer + "/"]},
            aud={"essential": True, "value": audience},
            exp={"essential": True},
        )

    def close(self) -> None:
        self._http.close()

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of the `Authorization: Bearer ...` header's token, or an exception."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token")
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("malformed token")
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
                claims = jwt.decode(token, self._key_for, registry=_REGISTRY).claims
            self._claims.validate(claims)
        except UnsupportedAlgorithmError:
            raise Unauthorized("algorithm not allowed") from None
        except BadSignatureError:
            raise Unauthorized("bad signature") from None
        except ExpiredTokenError:
            raise Unauthorized("token expired") from None
        except MissingClaimError:
            raise Unauthorized("missing required claim") from None
        except ClaimError as error:
            raise Unauthorized(f"invalid claim {error.claim}") from None
        except (JoseError, ValueError, TypeError, UnicodeError):
            raise Unauthorized("malformed token") from None
        if self.scope not in _scopes(claims):
            raise Forbidden(f"requires scope {self.scope}")
        if self.clients is not None and _client_id(claims) not in self.clients:
            raise Forbidden("client not allowed to read this feed")
        return dict(claims)

    def _key_for(self, token: Any) -> Key:
        """The issuer's key that the token's header names (joserfc asks once the algorithm has
        passed)."""
        header = token.headers()
        if KEY_REFERENCE_HEADERS.intersection(header):
            raise Unauthorized("token names its own key")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized("malformed token")
        wanted = {"alg": header["alg"], "use": "sig"}
        with self._lock:
            if time.monotonic() - self._fetched >= self._max_age:
                self._fetch()
            key = _pick(self._keys, kid, wanted)
            if key is None and time.monotonic() - self._fetched >= self._cooldown:
                self._fetch()
                key = _pick(self._keys, kid, wanted)
        if key is None:
            raise Unauthorized("unknown signing key")
        return key

    def _fetch(self) -> None:
        metadata = self._json(f"{self.issuer}/.well-known/openid-configuration")
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise IssuerUnavailable("issuer metadata names another issuer")
        try:
            jwks_uri = check_url(str(metadata.get("jwks_uri")))
        except ValueError:
            raise IssuerUnavailable("issuer metadata has no usable jwks_uri") from None
        try:
            self._keys = KeySet.import_key_set(self._json(jwks_uri))  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError):
            raise IssuerUnavailable("issuer JWKS is malformed") from None
        self._fetched = time.monotonic()

    def _json(self, url: str) -> dict[str, Any]:
        try:
            response = self._http.get(url, follow_redirects=False, timeout=5.0)
        except httpx.HTTPError:
            raise IssuerUnavailable("issuer unreachable") from None
        if response.status_code != 200 or len(response.content) > MAX_DOCUMENT_BYTES:
            raise IssuerUnavailable("issuer answered with an error")
        try:
            document = response.json()
        except ValueError:
            document = None
        if not isinstance(document, dict):
            raise IssuerUnavailable("issuer answered with malformed JSON")
        return document


def _pick(keys: KeySet, kid: str | None, wanted: dict[str, str]) -> Key | None:
    """The signing key named `kid` (without a kid: the only one) fit for the token's algorithm;
    never a shared-secret key."""
    try:
        key = keys.get_by_kid(kid, wanted)  # type: ignore[arg-type]
    except InvalidKeyIdError:
        return None
    return None if key.key_type == "oct" else key


def _scopes(claims: dict[str, Any]) -> set[str]:
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list):
        return {v for v in value if isinstance(v, str)}
    return set()


def _client_id(claims: dict[str, Any]) -> str | None:
    for name in ("client_id", "azp", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None
