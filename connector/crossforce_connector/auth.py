"""Who may read the feed: the hub, with an access token from the hub's identity provider.

The token is a JWT validated against the issuer's keys, found by OpenID discovery
(`/.well-known/openid-configuration`, then its `jwks_uri`) and cached. A token passes with an
allowed algorithm (RS256, ES256, EdDSA), no header naming a key elsewhere, a known `kid`, a good
signature, the configured `iss` and `aud`, a current `exp`/`nbf`, the `pull:read` scope and,
unless told otherwise, the client id `hub`. Refusals say which check failed, never the token.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
import warnings
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jws, jwt
from joserfc.errors import (
    BadSignatureError,
    ClaimError,
    ExpiredTokenError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
)
from joserfc.jwk import Key, KeySet

ALGORITHMS = ("RS256", "ES256", "EdDSA")
KEY_REFERENCE_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
MAX_TOKEN_BYTES = 16 * 1024
MAX_DOCUMENT_BYTES = 512 * 1024
PULL_SCOPE = "pull:read"
_REGISTRY = jws.JWSRegistry(algorithms=list(ALGORITHMS), strict_check_header=False)


class Unauthorized(Exception):
    """No token, or a token that is not valid (401). `reason` is safe to answer with."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IssuerUnavailable(Unauthorized):
    """The issuer's keys could not be fetched; the caller may retry later."""


class Forbidden(Unauthorized):
    """A valid token without the scope or client this feed needs (403)."""


def _loopback(host: str | None) -> bool:
    if host in (None, ""):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """https, or http on a loopback address (development and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and _loopback(parts.hostname):
        return url
    raise ValueError("issuer URLs must be https (http only on loopback addresses)")


class _Keys:
    """The issuer's signing keys: refetched when old, or once for an unknown `kid` (at most
    every `cooldown` seconds, so made-up kids cannot make us hammer the issuer)."""

    def __init__(self, issuer: str, http: httpx.Client, max_age: float, cooldown: float) -> None:
        self.issuer = issuer
        self._http = http
        self._max_age = max_age
        self._cooldown = cooldown
        self._keys: KeySet | None = None
        self._fetched = float("-inf")
        self._lock = threading.Lock()

    def key_for(self, kid: str | None, alg: str) -> Key:
        with self._lock:
            if self._keys is None or time.monotonic() - self._fetched >= self._max_age:
                self._fetch()
            assert self._keys is not None
            key = _pick(self._keys, kid, alg)
            if key is None and time.monotonic() - self._fetched >= self._cooldown:
                self._fetch()
                key = _pick(self._keys, kid, alg)
        if key is None:
            raise Unauthorized("unknown signing key")
        return key

    def _fetch(self) -> None:
        metadata = self._json(f"{self.issuer}/.well-known/openid-configuration")
        if str(metadata.get("issuer", "")).rstrip("/") != self.issuer:
            raise IssuerUnavailable("issuer metadata names another issuer")
        jwks_uri = metadata.get("jwks_uri")
        try:
            jwks_uri = check_url(jwks_uri) if isinstance(jwks_uri, str) else None
        except ValueError:
            jwks_uri = None
        if jwks_uri is None:
            raise IssuerUnavailable("issuer metadata has no usable jwks_uri")
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
            document = json.loads(response.content)
        except ValueError:
            raise IssuerUnavailable("issuer answered with malformed JSON") from None
        if not isinstance(document, dict):
            raise IssuerUnavailable("issuer answered with malformed JSON")
        return document


def _pick(keys: KeySet | None, kid: str | None, alg: str) -> Key | None:
    if keys is None:
        return None
    candidates = [k for k in keys if k.kid == kid] if kid else list(keys)
    usable = [
        k
        for k in candidates
        if k.key_type != "oct" and k.get("use", "sig") == "sig" and k.get("alg", alg) == alg
    ]
    if kid is None and len(usable) != 1:
        return None
    return usable[0] if usable else None


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
        self._leeway = leeway
        self._now = now
        self._keys = _Keys(self.issuer, self._http, jwks_max_age, unknown_kid_cooldown)

    def close(self) -> None:
        self._http.close()

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of the `Authorization: Bearer ...` header's token, or an exception."""
        scheme, _, token = (authorization or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("missing bearer token")
        claims = self._claims(token)
        if self.scope not in _scopes(claims):
            raise Forbidden(f"requires scope {self.scope}")
        if self.clients is not None and _client_id(claims) not in self.clients:
            raise Forbidden("client not allowed to read this feed")
        return claims

    def _claims(self, token: str) -> dict[str, Any]:
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthorized("malformed token")
        try:
            header = dict(jws.extract_compact(token.encode("ascii")).headers())
        except (JoseError, ValueError, UnicodeError, TypeError):
            raise Unauthorized("malformed token") from None
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in ALGORITHMS:
            raise Unauthorized("algorithm not allowed")
        if KEY_REFERENCE_HEADERS.intersection(header):
            raise Unauthorized("token names its own key")
        if kid is not None and not isinstance(kid, str):
            raise Unauthorized("malformed token")
        key = self._keys.key_for(kid, alg)
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
                claims = jwt.decode(token, key, registry=_REGISTRY).claims
        except BadSignatureError:
            raise Unauthorized("bad signature") from None
        except JoseError:
            raise Unauthorized("malformed token") from None
        registry = jwt.JWTClaimsRegistry(
            now=self._now,
            leeway=self._leeway,
            iss={"essential": True, "values": [self.issuer, self.issuer + "/"]},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise Unauthorized("token expired") from None
        except MissingClaimError:
            raise Unauthorized("missing required claim") from None
        except ClaimError as error:
            raise Unauthorized(f"invalid claim {error.claim}") from None
        return dict(claims)
