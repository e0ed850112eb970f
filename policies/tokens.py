"""Access token validation: JWTs from a trusted issuer, keys from its JWKS found by discovery.

What a token must pass, in order: size, compact JWS shape, an allowed algorithm (RS256, ES256,
EdDSA: never `none`, never an HMAC whose secret could be a public key), no header that points at
keys elsewhere (`jku`, `x5u`, `jwk`, `x5c`: those would let the token choose who vouches for it),
a `kid` known to the issuer's JWKS, the signature, then `iss`, `aud`, `exp` and `nbf`.

Every refusal raises `InvalidToken` with a short reason meant for a 401 answer: it names the
check that failed, never the token's content.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
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

from policies.principal import Principal
from policies.scopes import (
    ClientDirectory,
    bind_force,
    client_id_from_claims,
    scopes_from_claims,
)

ALLOWED_ALGORITHMS = ("RS256", "ES256", "EdDSA")
# Headers that name or carry a key: the issuer's JWKS is the only source of keys we accept.
KEY_REFERENCE_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c"})
DEFAULT_AUDIENCE = "crossforce"
MAX_TOKEN_BYTES = 16 * 1024
# Tokens already verified are remembered this long (never past their expiry): a client sends
# the same token with every request, and checking its signature each time was a tenth of a
# `case` read. The bearer's standing (revocation, force, scopes) is still checked every time;
# a signing key withdrawn from the issuer's JWKS stops being honoured within this time.
VERIFIED_SECONDS = 60
VERIFIED_MAX = 4096
MAX_DOCUMENT_BYTES = 512 * 1024


CLAIM_REASONS = {
    "aud": "wrong audience",
    "iss": "wrong issuer",
    "nbf": "token not yet valid",
    "iat": "token issued in the future",
    "exp": "token expired",
}

_REGISTRY = jws.JWSRegistry(algorithms=list(ALLOWED_ALGORITHMS), strict_check_header=False)


class InvalidToken(Exception):
    """The token is refused. `reason` is short and safe to return to the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class IssuerUnavailable(InvalidToken):
    """The issuer's discovery document or JWKS could not be fetched: refuse, but say why (503)."""


class InsecureIssuer(ValueError):
    """An issuer (or its jwks_uri) that is neither https nor on a loopback address."""


def is_loopback_host(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_issuer_url(url: str) -> str:
    """`url` itself, if https, or http on a loopback host (development and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and is_loopback_host(parts.hostname):
        return url
    raise InsecureIssuer("issuer URLs must be https (http only on loopback addresses)")


@dataclass
class _Keys:
    keys: KeySet | None = None
    fetched_at: float = float("-inf")


class JWKSCache:
    """The issuer's signing keys, fetched by discovery and cached.

    Keys are refetched when older than `max_age`, and once on a `kid` we do not know (the issuer
    may have rolled its key), but at most every `unknown_kid_cooldown` seconds, so a flood of
    tokens with made-up kids cannot make us hammer the issuer.
    """

    def __init__(
        self,
        issuer: str,
        http: httpx.AsyncClient,
        *,
        max_age: float = 3600.0,
        unknown_kid_cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = check_issuer_url(issuer).rstrip("/")
        self._http = http
        self._max_age = max_age
        self._cooldown = unknown_kid_cooldown
        self._clock = clock
        self._state = _Keys()
        self._jwks_uri: str | None = None
        self._lock = asyncio.Lock()
        self.fetches = 0

    async def key_for(self, kid: str | None, alg: str) -> Key:
        keys = await self._current()
        key = _pick(keys, kid, alg)
        if key is not None:
            return key
        refreshed = await self._refresh_for_unknown_kid(keys)
        key = _pick(refreshed, kid, alg) if refreshed is not None else None
        if key is None:
            raise InvalidToken("unknown signing key")
        return key

    async def _current(self) -> KeySet:
        state = self._state
        if state.keys is not None and self._clock() - state.fetched_at < self._max_age:
            return state.keys
        async with self._lock:
            if self._state.keys is None or self._clock() - self._state.fetched_at >= self._max_age:
                await self._fetch()
            assert self._state.keys is not None
            return self._state.keys

    async def _refresh_for_unknown_kid(self, seen: KeySet) -> KeySet | None:
        async with self._lock:
            if self._state.keys is not seen:
                return self._state.keys  # another request refreshed while we waited
            if self._clock() - self._state.fetched_at < self._cooldown:
                return None
            await self._fetch()
            return self._state.keys

    async def _fetch(self) -> None:
        if self._jwks_uri is None:
            document = await self._get_json(f"{self.issuer}/.well-known/openid-configuration")
            named = document.get("issuer")
            if not isinstance(named, str) or named.rstrip("/") != self.issuer:
                # OpenID Discovery 4.3: a document for another issuer is not this one's.
                raise IssuerUnavailable("issuer metadata names another issuer")
            jwks_uri = document.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise IssuerUnavailable("issuer metadata has no jwks_uri")
            try:
                self._jwks_uri = check_issuer_url(jwks_uri)
            except InsecureIssuer:
                raise IssuerUnavailable("issuer jwks_uri is not https") from None
        document = await self._get_json(self._jwks_uri)
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (JoseError, KeyError, TypeError, ValueError):
            raise IssuerUnavailable("issuer JWKS is malformed") from None
        # Only public keys: a JWKS that leaks private parts is still only used to verify.
        self._state = _Keys(keys, self._clock())
        self.fetches += 1

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            response = await self._http.get(url, follow_redirects=False, timeout=5.0)
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


def _pick(keys: KeySet, kid: str | None, alg: str) -> Key | None:
    """The verification key for `kid` usable with `alg`; without a kid, only a lone key."""
    candidates = [key for key in keys if key.kid == kid] if kid else list(keys)
    usable = [
        key
        for key in candidates
        # Never a symmetric key: its "public" value would be a shared secret.
        if key.key_type != "oct" and key.get("use", "sig") == "sig" and key.get("alg", alg) == alg
    ]
    if kid is None and len(usable) != 1:
        return None
    return usable[0] if usable else None


class TokenValidator:
    """Validates bearer tokens of one issuer for one audience and says who the bearer is."""

    def __init__(
        self,
        issuer: str,
        *,
        audience: str = DEFAULT_AUDIENCE,
        http: httpx.AsyncClient | None = None,
        clients: ClientDirectory | None = None,
        leeway: int = 30,
        jwks_max_age: float = 3600.0,
        unknown_kid_cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], int] | None = None,
    ) -> None:
        self.issuer = check_issuer_url(issuer)
        self._issuer_base = issuer.rstrip("/")
        self.audience = audience
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient()
        self._clients = clients or ClientDirectory({})
        self._leeway = leeway
        self._now = now or (lambda: int(time.time()))
        self.keys = JWKSCache(
            self.issuer,
            self._http,
            max_age=jwks_max_age,
            unknown_kid_cooldown=unknown_kid_cooldown,
            clock=clock,
        )
        self._verified: dict[str, tuple[int, dict[str, Any]]] = {}  # token: (until, claims)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def validate(self, token: str) -> Principal:
        if not token or len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("malformed token")
        remembered = self._verified.get(token)
        if remembered is not None and self._now() < remembered[0]:
            return self._principal(remembered[1])
        claims = await self._verify(token)
        self._remember(token, claims)
        return self._principal(claims)

    def _remember(self, token: str, claims: dict[str, Any]) -> None:
        if len(self._verified) >= VERIFIED_MAX:
            self._verified.clear()  # simplest bound: many distinct live tokens is not the norm
        until = min(int(claims["exp"]), self._now() + VERIFIED_SECONDS)
        self._verified[token] = (until, claims)

    async def _verify(self, token: str) -> dict[str, Any]:
        header = _header(token)
        alg = header.get("alg")
        if alg not in ALLOWED_ALGORITHMS:
            raise InvalidToken("algorithm not allowed")
        if KEY_REFERENCE_HEADERS.intersection(header):
            raise InvalidToken("token names its own key")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("malformed token")
        key = await self.keys.key_for(kid, alg)
        return self._verified_claims(token, key)

    def _verified_claims(self, token: str, key: Key) -> dict[str, Any]:
        try:
            with warnings.catch_warnings():
                # joserfc warns that the name "EdDSA" is superseded (RFC 9864); identity
                # providers still use it.
                warnings.filterwarnings("ignore", "EdDSA is deprecated", SecurityWarning)
                decoded = jwt.decode(token, key, registry=_REGISTRY)
        except BadSignatureError:
            raise InvalidToken("bad signature") from None
        except JoseError:
            raise InvalidToken("malformed token") from None
        claims = decoded.claims
        registry = jwt.JWTClaimsRegistry(
            now=self._now,
            leeway=self._leeway,
            # The issuer as configured, with or without a trailing slash (providers differ).
            iss={"essential": True, "values": [self._issuer_base, self._issuer_base + "/"]},
            aud={"essential": True, "value": self.audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidToken("token expired") from None
        except MissingClaimError:
            raise InvalidToken("missing required claim") from None
        except ClaimError as error:
            if error.claim == "iss":
                raise InvalidToken(self._wrong_issuer(claims.get("iss"))) from None
            raise InvalidToken(CLAIM_REASONS.get(error.claim, "invalid claim")) from None
        return claims

    def _wrong_issuer(self, presented: object) -> str:
        """Both issuers, so that a token minted for another port or host says so: the signature
        is already verified, so the presented value is one our own keys signed."""
        shown = presented if isinstance(presented, str) else "none"
        shown = "".join(c if c.isprintable() else "?" for c in shown[:200])
        return f"{CLAIM_REASONS['iss']}: expected {self._issuer_base!r}, token has {shown!r}"

    def _principal(self, claims: dict[str, Any]) -> Principal:
        client_id = client_id_from_claims(claims)
        if client_id is None:
            raise InvalidToken("token names no client")
        entry = self._clients.get(client_id)
        if entry is not None and entry.revoked_before is not None:
            issued = claims.get("iat")
            if not isinstance(issued, int | float) or issued < entry.revoked_before:
                raise InvalidToken("client revoked")
        try:
            force = bind_force(claims, self._clients)
        except ValueError:
            raise InvalidToken("malformed force claim") from None
        jti = claims.get("jti")
        return Principal(
            client_id=client_id,
            scopes=scopes_from_claims(claims),
            force=force,
            token_id=jti if isinstance(jti, str) else None,
            subject=_short_text(claims.get("sub")),
            name=_short_text(claims.get("name")),
        )


def _short_text(value: object, limit: int = 200) -> str | None:
    """A claim kept as the caller's identity: printable text of a sane length, else nothing."""
    if not isinstance(value, str) or not value or len(value) > limit or not value.isprintable():
        return None
    return value


def _header(token: str) -> dict[str, Any]:
    try:
        header = jws.extract_compact(token.encode("ascii")).headers()
    except (JoseError, ValueError, UnicodeError, TypeError):
        raise InvalidToken("malformed token") from None
    if not isinstance(header, dict):
        raise InvalidToken("malformed token")
    return dict(header)
