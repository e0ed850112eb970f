"""Access tokens: the development provider's are accepted like any issuer's (discovery + JWKS over
HTTP); forged, stale, misdirected and key-smuggling tokens are refused with a short reason."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from dataclasses import FrozenInstanceError
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OKPKey, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from policies.devidp import DEFAULT_POLICY_DIR, DevIdentityProvider, load_signing_key
from policies.principal import Principal
from policies.scopes import ClientDirectory, load_clients
from policies.tokens import (
    InsecureIssuer,
    InvalidToken,
    IssuerUnavailable,
    JWKSCache,
    TokenValidator,
    check_issuer_url,
)
from tests.policies.conftest import AUDIENCE, ISSUER, RecordingTransport


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "analyst-AS",
        "client_id": "analyst-AS",
        "scope": "cases:read",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": "t-1",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def signed(key: Any, body: dict[str, Any], alg: str = "RS256", **header: Any) -> str:
    return jwt.encode({"alg": alg, "kid": key.kid, **header}, body, key, algorithms=[alg])


@pytest.fixture
def signing_key(idp: DevIdentityProvider, tmp_path: Any) -> RSAKey:
    return load_signing_key(tmp_path / "data")


async def test_token_from_endpoint_is_accepted_via_discovery_and_jwks(
    idp: DevIdentityProvider,
    http: httpx.AsyncClient,
    validator: TokenValidator,
    transport: RecordingTransport,
) -> None:
    response = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=("analyst-GL", idp.secret_for("analyst-GL")),
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"

    principal = await validator.validate(body["access_token"])

    assert principal.client_id == "analyst-GL"
    assert principal.force == "GL"
    assert principal.scopes == {"cases:read", "sensitive:reveal", "victim-id:write"}
    assert principal.token_id
    # The keys came over HTTP, found through the discovery document.
    assert f"{ISSUER}/.well-known/openid-configuration" in transport.urls
    assert f"{ISSUER}/oauth/jwks" in transport.urls


async def test_client_secret_post_and_narrower_scope(
    idp: DevIdentityProvider, http: httpx.AsyncClient, validator: TokenValidator
) -> None:
    response = await http.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": "analyst-AS",
            "client_secret": idp.secret_for("analyst-AS"),
            "scope": "cases:read",
        },
    )
    assert response.status_code == 200
    principal = await validator.validate(response.json()["access_token"])
    assert principal.scopes == {"cases:read"}


async def test_token_endpoint_refuses_bad_secret_and_foreign_scope(
    idp: DevIdentityProvider, http: httpx.AsyncClient
) -> None:
    wrong = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("admin", "nope")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert "access_token" not in wrong.json()

    beyond = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "admin"},
        auth=("coordinator", idp.secret_for("coordinator")),
    )
    assert beyond.status_code == 400
    assert beyond.json()["error"] == "invalid_scope"

    unknown = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("mallory", "x")
    )
    assert unknown.status_code == 401


async def test_metadata_and_jwks_publish_only_public_keys(http: httpx.AsyncClient) -> None:
    metadata = (await http.get("/.well-known/openid-configuration")).json()
    assert metadata["issuer"] == ISSUER
    assert metadata["jwks_uri"] == f"{ISSUER}/oauth/jwks"
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    jwks = (await http.get("/oauth/jwks")).json()
    assert len(jwks["keys"]) == 1
    assert jwks["keys"][0]["kty"] == "RSA"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwks["keys"][0])


async def test_minted_token_is_accepted_and_scopes_must_be_the_clients(
    idp: DevIdentityProvider, validator: TokenValidator
) -> None:
    principal = await validator.validate(idp.mint("force-DO"))
    assert (principal.client_id, principal.force, principal.scopes) == (
        "force-DO",
        "DO",
        {"sync:write"},
    )
    narrowed = await validator.validate(idp.mint("analyst-WI", "sensitive:reveal"))
    assert narrowed.scopes == {"sensitive:reveal"}
    coordinator = await validator.validate(idp.mint("coordinator"))
    assert coordinator.force is None
    with pytest.raises(ValueError, match="not allowed"):
        idp.mint("coordinator", "cases:read")
    with pytest.raises(ValueError, match="unknown client"):
        idp.mint("nobody")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (claims(exp=int(time.time()) - 120), "token expired"),
        # Built at collection, which may be minutes before the test runs: a day ahead.
        (claims(nbf=int(time.time()) + 86_400), "token not yet valid"),
        (claims(aud="another-service"), "wrong audience"),
        (claims(iss="http://127.0.0.1:9999"), "wrong issuer"),
        (claims(iss="http://127.0.0.1:8000/other"), "wrong issuer"),
        (claims(exp=None), "missing required claim"),
        (claims(force="gl"), "malformed force claim"),
        (claims(client_id=None, sub=None), "token names no client"),
    ],
)
async def test_claims_are_checked(
    validator: TokenValidator, signing_key: RSAKey, body: dict[str, Any], reason: str
) -> None:
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(signed(signing_key, body))
    assert refused.value.reason.partition(":")[0] == reason  # wrong issuer: names both


async def test_issuer_with_a_trailing_slash_is_the_same_issuer(
    http: httpx.AsyncClient, clients: ClientDirectory, signing_key: RSAKey
) -> None:
    validator = TokenValidator(ISSUER + "/", audience=AUDIENCE, http=http, clients=clients)
    for iss in (ISSUER, ISSUER + "/"):
        assert (await validator.validate(signed(signing_key, claims(iss=iss)))).force == "AS"


async def test_leeway_tolerates_small_clock_skew(
    validator: TokenValidator, signing_key: RSAKey
) -> None:
    now = int(time.time())
    principal = await validator.validate(signed(signing_key, claims(exp=now - 10, nbf=now + 10)))
    assert principal.client_id == "analyst-AS"


async def test_unknown_signing_key_is_refused(validator: TokenValidator) -> None:
    rogue = RSAKey.generate_key(2048, {"kid": "rogue"}, private=True)
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(signed(rogue, claims()))
    assert refused.value.reason == "unknown signing key"


async def test_right_kid_wrong_key_is_a_bad_signature(
    validator: TokenValidator, signing_key: RSAKey
) -> None:
    impostor = RSAKey.generate_key(2048, {"kid": signing_key.kid}, private=True)
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(signed(impostor, claims()))
    assert refused.value.reason == "bad signature"


async def test_alg_none_is_refused(validator: TokenValidator, signing_key: RSAKey) -> None:
    header = b64(json.dumps({"alg": "none", "kid": signing_key.kid}).encode())
    payload = b64(json.dumps(claims(scope="admin")).encode())
    for token in (f"{header}.{payload}.", f"{header}.{payload}.{b64(b'x')}"):
        with pytest.raises(InvalidToken) as refused:
            await validator.validate(token)
        assert refused.value.reason in {"algorithm not allowed", "malformed token"}


async def test_hs256_signed_with_the_public_key_is_refused(
    validator: TokenValidator, signing_key: RSAKey, http: httpx.AsyncClient
) -> None:
    # The classic confusion attack: the verifier's RSA public key used as an HMAC secret.
    jwks = (await http.get("/oauth/jwks")).json()
    public_pem = RSAKey.import_key(jwks["keys"][0]).as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "kid": signing_key.kid, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims(scope="admin")).encode())
    mac = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(f"{header}.{payload}.{b64(mac)}")
    assert refused.value.reason == "algorithm not allowed"


async def test_tampered_payload_is_refused(
    idp: DevIdentityProvider, validator: TokenValidator
) -> None:
    header, payload, signature = idp.mint("analyst-AS").split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["scope"] = "cases:read admin"
    body["force"] = "GL"
    forged = f"{header}.{b64(json.dumps(body).encode())}.{signature}"
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(forged)
    assert refused.value.reason == "bad signature"


@pytest.mark.parametrize("name", ["jku", "x5u", "jwk", "x5c"])
async def test_headers_pointing_at_other_keys_are_refused_and_never_followed(
    validator: TokenValidator, transport: RecordingTransport, signing_key: RSAKey, name: str
) -> None:
    attacker = RSAKey.generate_key(2048, {"kid": "attacker"}, private=True)
    values: dict[str, Any] = {
        "jku": "https://attacker.example/jwks.json",
        "x5u": "https://attacker.example/cert.pem",
        "jwk": attacker.as_dict(private=False),
        "x5c": ["MIIBszCCAVmgAwIBAgIU"],
    }
    for key in (attacker, signing_key):  # even with the real key, the header is refused
        token = signed(key, claims(scope="admin"), **{name: values[name]})
        with pytest.raises(InvalidToken) as refused:
            await validator.validate(token)
        # An embedded RSA jwk also makes the header too large to parse at all.
        assert refused.value.reason in {"token names its own key", "malformed token"}
        if name != "jwk":
            assert refused.value.reason == "token names its own key"
    assert not [url for url in transport.urls if "attacker" in url]


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "a.b", "é.é.é", "x" * 20000])
async def test_malformed_tokens_are_refused(validator: TokenValidator, garbage: str) -> None:
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(garbage)
    assert refused.value.reason in {"malformed token", "algorithm not allowed"}


def test_refusal_reasons_leak_nothing_of_the_token() -> None:
    reason = InvalidToken("bad signature")
    assert str(reason) == "bad signature"


@pytest.mark.parametrize(
    "issuer",
    ["http://idp.example.org", "http://10.0.0.5:8080", "ftp://127.0.0.1", "https://", "idp"],
)
def test_insecure_issuers_are_refused(issuer: str) -> None:
    with pytest.raises(InsecureIssuer):
        TokenValidator(issuer)


@pytest.mark.parametrize(
    "issuer",
    [
        "https://idp.example.org/realms/sw",
        "http://127.0.0.1:8000",
        "http://127.9.9.9",
        "http://localhost:8000/",
        "http://[::1]:8000",
    ],
)
def test_https_and_loopback_issuers_are_allowed(issuer: str) -> None:
    assert check_issuer_url(issuer) == issuer


def test_principal_is_frozen() -> None:
    principal = Principal("analyst-AS", frozenset({"cases:read"}), "AS", "t")
    with pytest.raises(FrozenInstanceError):
        principal.force = "GL"  # type: ignore[misc]


class FakeIssuer:
    """An external identity provider whose signing keys the test can roll."""

    def __init__(self, issuer: str = "https://idp.example.org") -> None:
        self.issuer = issuer
        self.keys: list[Any] = [RSAKey.generate_key(2048, {"kid": "k1"}, private=True)]
        self.hits = 0
        self.app = Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.metadata),
                Route("/jwks", self.jwks),
            ]
        )

    async def metadata(self, _: Request) -> JSONResponse:
        return JSONResponse({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

    async def jwks(self, _: Request) -> JSONResponse:
        self.hits += 1
        return JSONResponse({"keys": [key.as_dict(private=False) for key in self.keys]})

    def token(self, key: Any, alg: str = "RS256", **extra: Any) -> str:
        body = claims(iss=self.issuer, **extra)
        return jwt.encode({"alg": alg, "kid": key.kid}, body, key, algorithms=[alg])


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_unknown_kid_refetches_once_and_is_rate_limited(clients: ClientDirectory) -> None:
    fake, clock = FakeIssuer(), Clock()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        validator = TokenValidator(
            fake.issuer, http=http, clients=clients, clock=clock, unknown_kid_cooldown=30
        )
        assert (await validator.validate(fake.token(fake.keys[0]))).force == "AS"
        assert fake.hits == 1

        # A flood of made-up kids right after a fetch: no refetch at all.
        rogue = RSAKey.generate_key(2048, {"kid": "made-up"}, private=True)
        for _ in range(20):
            with pytest.raises(InvalidToken, match="unknown signing key"):
                await validator.validate(fake.token(rogue))
        assert fake.hits == 1

        # The issuer rolls its key; once the cooldown has passed, one refetch finds it.
        fake.keys.append(RSAKey.generate_key(2048, {"kid": "k2"}, private=True))
        clock.now += 31
        assert (await validator.validate(fake.token(fake.keys[1]))).client_id == "analyst-AS"
        assert fake.hits == 2
        for _ in range(20):
            with pytest.raises(InvalidToken, match="unknown signing key"):
                await validator.validate(fake.token(rogue))
        assert fake.hits == 2  # still within the cooldown of the last fetch


@pytest.mark.filterwarnings("ignore:EdDSA is deprecated")  # signing the test token warns
async def test_es256_and_eddsa_issuers_are_accepted_hs256_keys_never(
    clients: ClientDirectory,
) -> None:
    fake = FakeIssuer()
    ec = ECKey.generate_key("P-256", {"kid": "ec"}, private=True)
    ed = OKPKey.generate_key("Ed25519", {"kid": "ed"}, private=True)
    fake.keys = [ec, ed]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        validator = TokenValidator(fake.issuer, http=http, clients=clients)
        assert (await validator.validate(fake.token(ec, "ES256"))).force == "AS"
        assert (await validator.validate(fake.token(ed, "EdDSA"))).force == "AS"
        # A key of one type under another algorithm's name is refused.
        forged = jwt.encode(
            {"alg": "RS256", "kid": "ec"},
            claims(iss=fake.issuer),
            RSAKey.generate_key(2048, private=True),
        )
        with pytest.raises(InvalidToken):
            await validator.validate(forged)


async def test_force_binding_from_claim_or_clients_yaml(clients: ClientDirectory) -> None:
    fake = FakeIssuer()
    key = fake.keys[0]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as http:
        validator = TokenValidator(fake.issuer, http=http, clients=clients)
        by_client_id = await validator.validate(fake.token(key, client_id="force-WI", sub="x"))
        assert by_client_id.force == "WI"
        by_azp = await validator.validate(fake.token(key, client_id=None, azp="analyst-DC"))
        assert (by_azp.client_id, by_azp.force) == ("analyst-DC", "DC")
        by_sub = await validator.validate(fake.token(key, client_id=None, sub="force-DO"))
        assert by_sub.force == "DO"
        claimed = await validator.validate(fake.token(key, client_id="force-WI", force="GL"))
        assert claimed.force == "GL"  # the claim wins over clients.yaml
        unknown = await validator.validate(fake.token(key, client_id="someone-else"))
        assert unknown.force is None
        scp = await validator.validate(fake.token(key, scope=None, scp=["cases:read", "admin"]))
        assert scp.scopes == {"cases:read", "admin"}


async def test_discovery_for_another_issuer_or_unreachable_issuer_refuses(
    clients: ClientDirectory,
) -> None:
    fake = FakeIssuer()
    token = fake.token(fake.keys[0])
    mismatched = FakeIssuer("https://idp.example.org")
    mismatched.issuer = "https://evil.example.org"  # its metadata names another issuer
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=mismatched.app)) as http:
        validator = TokenValidator("https://idp.example.org", http=http, clients=clients)
        with pytest.raises(IssuerUnavailable):
            await validator.validate(token)

    def unreachable(_: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    async with httpx.AsyncClient(transport=httpx.MockTransport(unreachable)) as http:
        validator = TokenValidator("https://idp.example.org", http=http, clients=clients)
        with pytest.raises(IssuerUnavailable) as refused:
            await validator.validate(token)
        assert isinstance(refused.value, InvalidToken)
        assert refused.value.reason == "issuer unreachable"


async def test_issued_tokens_and_secrets_stay_out_of_debug_logs(
    idp: DevIdentityProvider, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = idp.secret_for("analyst-AS")
    response = await http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=("analyst-AS", secret)
    )
    token = response.json()["access_token"]
    assert token not in caplog.text
    assert secret not in caplog.text


async def test_tokens_issued_before_a_clients_revocation_are_refused(
    idp: DevIdentityProvider, http: httpx.AsyncClient, tmp_path: Any
) -> None:
    issued_before = idp.mint("force-AS")
    await asyncio.sleep(1.1)  # iat has one-second resolution
    revoked_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    await asyncio.sleep(1.1)
    issued_after = idp.mint("force-AS")
    policy = tmp_path / "clients.yaml"
    text = (DEFAULT_POLICY_DIR / "clients.yaml").read_text()
    entry = "force-AS: {scopes: [sync:write], force: AS"
    assert entry in text
    policy.write_text(text.replace(entry, f"{entry}, revoked_before: '{revoked_at}'", 1))
    clients = load_clients(policy)
    assert clients.get("force-AS") is not None
    validator = TokenValidator(ISSUER, audience=AUDIENCE, http=http, clients=clients)
    with pytest.raises(InvalidToken) as refused:
        await validator.validate(issued_before)
    assert refused.value.reason == "client revoked"
    assert (await validator.validate(issued_after)).client_id == "force-AS"


class WallClock:
    """Seconds since the epoch, moved by hand."""

    def __init__(self) -> None:
        self.now = int(time.time())

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def clock() -> WallClock:
    return WallClock()


@pytest.fixture
def clocked(http: httpx.AsyncClient, clients: ClientDirectory, clock: WallClock) -> TokenValidator:
    return TokenValidator(ISSUER, audience=AUDIENCE, http=http, clients=clients, now=clock)


async def test_a_remembered_token_is_refused_once_it_expires(
    clocked: TokenValidator, clock: WallClock, signing_key: RSAKey
) -> None:
    token = signed(signing_key, claims(exp=clock.now + 20))
    assert (await clocked.validate(token)).client_id == "analyst-AS"
    assert (await clocked.validate(token)).client_id == "analyst-AS"  # remembered
    clock.now += 20 + 31  # past its expiry and the leeway
    with pytest.raises(InvalidToken) as refused:
        await clocked.validate(token)
    assert refused.value.reason == "token expired"


async def test_a_remembered_token_is_verified_again_after_a_minute(
    clocked: TokenValidator, clock: WallClock, signing_key: RSAKey, http: httpx.AsyncClient
) -> None:
    token = signed(signing_key, claims())
    await clocked.validate(token)
    # The issuer's keys can no longer be had: what was verified stands for a minute, no more.
    clocked.keys = JWKSCache("http://127.0.0.1:9", http)
    assert (await clocked.validate(token)).client_id == "analyst-AS"
    clock.now += 61
    with pytest.raises(InvalidToken):
        await clocked.validate(token)
