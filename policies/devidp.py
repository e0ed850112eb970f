"""Development identity provider: OAuth 2 client credentials with JWT access tokens.

Used only when CROSSFORCE_OIDC_ISSUER is unset (the embedded default, the demo and the tests).
It is Authlib's framework-agnostic authorization server with the client credentials grant and
RFC 9068 JWT access tokens, behind three Starlette routes:

- `POST /oauth/token` (client_secret_basic or client_secret_post),
- `GET /oauth/jwks`,
- `GET /.well-known/openid-configuration`.

Its tokens are validated like any external provider's: through discovery and the JWKS over HTTP.
Clients and their scopes and forces come from clients.yaml; the RS256 signing key and the client
secrets are generated on first use into `<data dir>/devidp/`, readable by their owner only, and
stay the same afterwards. A starting hub records its issuer there too (`devidp/issuer`), so that
`crossforce token` and `crossforce sync` find the hub on whatever port it runs.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from authlib.oauth2.rfc6749 import (  # type: ignore[import-untyped]
    AuthorizationServer,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.errors import (  # type: ignore[import-untyped]
    InvalidRequestError,
)
from authlib.oauth2.rfc6749.grants import ClientCredentialsGrant  # type: ignore[import-untyped]
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator  # type: ignore[import-untyped]
from joserfc.jwk import KeySet, RSAKey
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from policies.files import read_or_create_private, read_private, replace_private
from policies.scopes import ALL_SCOPES, ClientDirectory, ClientEntry, load_clients

# Authlib's client credentials grant logs every issued token at DEBUG level: a bearer
# credential must not reach the logs, whatever level the operator turns on.
logging.getLogger("authlib.oauth2.rfc6749.grants.client_credentials").setLevel(logging.INFO)

DEFAULT_POLICY_DIR = Path(__file__).resolve().parent / "defaults"
DEFAULT_DEV_ISSUER = "http://127.0.0.1:8000"
TOKEN_LIFETIME = 3600
SIGNING_ALGORITHM = "RS256"
MAX_FORM_BYTES = 8 * 1024


class NotInProduction(RuntimeError):
    """Production was asked for without an external identity provider."""


def require_external_issuer(environment: str, oidc_issuer: str | None) -> None:
    """The mounting rule: this provider is never served in production. It signs with a key
    kept on local disk, knows every client's secret, and each replica would sign with its own
    key; so production without an external issuer does not start at all, rather than start
    with this provider or with no way to sign in."""
    if environment == "production" and not oidc_issuer:
        raise NotInProduction(
            "CROSSFORCE_ENVIRONMENT=production needs CROSSFORCE_OIDC_ISSUER (the region's "
            "OpenID provider): the development identity provider is never served in production"
        )


def devidp_dir(data_dir: Path) -> Path:
    return data_dir / "devidp"


def record_issuer(data_dir: Path, issuer: str) -> None:
    """Write the issuer a starting hub serves as, for the command line to mint tokens for."""
    replace_private(devidp_dir(data_dir) / "issuer", issuer.rstrip("/").encode() + b"\n")


def recorded_issuer(data_dir: Path) -> str | None:
    """The issuer the last hub started on this data dir served as; None before any start.

    Read like the other files here: one that others could change is refused (InsecureFile),
    as the command line sends client secrets to this address."""
    path = devidp_dir(data_dir) / "issuer"
    if not path.exists():
        return None
    recorded = read_private(path).decode("utf-8", "replace").strip()
    return recorded or None


def load_signing_key(data_dir: Path) -> RSAKey:
    """The provider's private signing key, generated (RSA 2048) on first use."""
    pem = read_or_create_private(
        devidp_dir(data_dir) / "signing-key.pem",
        lambda: RSAKey.generate_key(2048, private=True).as_pem(private=True),
    )
    key = RSAKey.import_key(pem, {"use": "sig", "alg": SIGNING_ALGORITHM})
    key.ensure_kid()  # RFC 7638 thumbprint: stable for one key, new when the key changes
    return key


def load_client_secrets(data_dir: Path, clients: ClientDirectory) -> dict[str, str]:
    """Every client's secret, generating (and keeping) one for any client that has none yet."""
    path = devidp_dir(data_dir) / "client-secrets.json"
    known: dict[str, str] = json.loads(read_private(path)) if path.exists() else {}
    missing = [entry.client_id for entry in clients if entry.client_id not in known]
    if missing:
        known.update({client_id: secrets.token_urlsafe(32) for client_id in missing})
        replace_private(path, json.dumps(known, indent=2, sort_keys=True).encode())
    return {entry.client_id: known[entry.client_id] for entry in clients}


class DevClient:
    """A clients.yaml entry as Authlib's `ClientMixin` sees it."""

    def __init__(self, entry: ClientEntry, secret: str | None) -> None:
        self.entry = entry
        self._secret = secret

    def get_client_id(self) -> str:
        return self.entry.client_id

    def check_client_secret(self, client_secret: str) -> bool:
        if self._secret is None:
            return False
        return hmac.compare_digest(self._secret.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint == "token" and method in ("client_secret_basic", "client_secret_post")

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "client_credentials"

    def get_allowed_scope(self, scope: str | None) -> str | None:
        """All the client's scopes when none are asked for; None (invalid_scope) beyond them."""
        if not scope:
            return " ".join(sorted(self.entry.scopes))
        requested = set(scope.split())
        if not requested <= self.entry.scopes:
            return None
        return " ".join(sorted(requested))


@dataclass(frozen=True)
class Officer:
    """A person signed in through a force's client: the token's `sub` and `name` claims, as an
    organisation's identity provider would issue them (Authlib's "user" of a grant)."""

    subject: str
    name: str

    def get_user_id(self) -> str:
        return self.subject


class _TokenGenerator(JWTBearerTokenGenerator):  # type: ignore[misc]
    def __init__(self, issuer: str, audience: str, key: RSAKey, lifetime: int) -> None:
        super().__init__(issuer=issuer, alg=SIGNING_ALGORITHM, expires_generator=lifetime)
        self._audience = audience
        self._keys = KeySet([key])

    def get_jwks(self) -> KeySet:
        return self._keys

    def get_audiences(self, client: DevClient, user: Any, scope: str) -> str:
        return self._audience

    def get_jti(self, client: DevClient, grant_type: str, user: Any, scope: str) -> str:
        return secrets.token_urlsafe(16)

    def get_extra_claims(
        self, client: DevClient, grant_type: str, user: Any, scope: str
    ) -> dict[str, Any]:
        claims: dict[str, Any] = {"nbf": int(time.time())}
        if client.entry.force is not None:
            claims["force"] = client.entry.force
        if isinstance(user, Officer):
            claims["name"] = user.name
        return claims


class _ClientCredentials(ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class _FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, form: dict[str, str]) -> None:
        self._form = form

    @property
    def data(self) -> dict[str, str]:
        return self._form

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {name: [value] for name, value in self._form.items()}


class _TokenRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(self, uri: str, headers: Any, form: dict[str, str]) -> None:
        super().__init__(method="POST", uri=uri, headers=headers)
        self.payload = _FormPayload(form)
        self._form = form

    @property
    def form(self) -> dict[str, str]:
        return self._form

    @property
    def args(self) -> dict[str, str]:
        return {}


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, clients: dict[str, DevClient], generator: _TokenGenerator) -> None:
        super().__init__(scopes_supported=sorted(ALL_SCOPES))
        self._clients = clients
        self.register_grant(_ClientCredentials)
        self.register_token_generator("default", generator)

    def query_client(self, client_id: str) -> DevClient | None:
        return self._clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        """Self-contained JWTs: nothing to store."""

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system here."""

    def create_oauth2_request(self, request: Any) -> Any:
        return request

    def handle_response(
        self, status: int, body: Any, headers: Iterable[tuple[str, str]]
    ) -> Response:
        return JSONResponse(body, status_code=status, headers=dict(headers))


class DevIdentityProvider:
    """Issues development tokens; `routes()` are mounted by the gateway at the issuer's URL."""

    def __init__(
        self,
        data_dir: Path,
        *,
        issuer: str,
        audience: str,
        clients: ClientDirectory,
        token_lifetime: int = TOKEN_LIFETIME,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.clients = clients
        self._data_dir = data_dir
        self._key = load_signing_key(data_dir)
        self._generator = _TokenGenerator(self.issuer, audience, self._key, token_lifetime)
        self._server: _Server | None = None

    def _authorization_server(self) -> _Server:
        # Secrets are only needed to serve the token endpoint; minting from the CLI needs none.
        if self._server is None:
            known = load_client_secrets(self._data_dir, self.clients)
            devclients = {
                entry.client_id: DevClient(entry, known.get(entry.client_id))
                for entry in self.clients
            }
            self._server = _Server(devclients, self._generator)
        return self._server

    def secret_for(self, client_id: str) -> str:
        """A client's secret (for the demo's instructions); KeyError for unknown clients."""
        return load_client_secrets(self._data_dir, self.clients)[client_id]

    def mint(
        self,
        client_id: str,
        scopes: str | Iterable[str] | None = None,
        *,
        officer: Officer | None = None,
    ) -> str:
        """A token for `client_id`, exactly as the token endpoint would issue it; with `officer`,
        as an organisation's identity provider would for a person signed in through it."""
        entry = self.clients.get(client_id)
        if entry is None:
            raise ValueError("unknown client")
        requested = scopes.split() if isinstance(scopes, str) else list(scopes or [])
        extra = sorted(set(requested) - entry.scopes)
        if extra:
            raise ValueError("scope not allowed for this client: " + " ".join(extra))
        token = self._generator.generate(
            grant_type="client_credentials",
            client=DevClient(entry, None),
            user=officer,
            scope=" ".join(sorted(set(requested))) or None,
            include_refresh_token=False,
        )
        access_token: str = token["access_token"]
        return access_token

    def jwks(self) -> dict[str, Any]:
        return dict(KeySet([self._key]).as_dict(private=False))

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "token_endpoint": f"{self.issuer}/oauth/token",
            "jwks_uri": f"{self.issuer}/oauth/jwks",
            "grant_types_supported": ["client_credentials"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "scopes_supported": sorted(ALL_SCOPES),
            "response_types_supported": ["token"],
            "id_token_signing_alg_values_supported": [SIGNING_ALGORITHM],
        }

    async def token_endpoint(self, request: Request) -> Response:
        server = self._authorization_server()
        try:
            form = await _read_form(request)
            # The request URL as the issuer names it: Authlib refuses plain http off loopback.
            oauth_request = _TokenRequest(f"{self.issuer}/oauth/token", request.headers, form)
        except OAuth2Error as error:
            response: Response = server.handle_error_response(None, error)
            return response
        response = server.create_token_response(oauth_request)
        response.headers["Cache-Control"] = "no-store"
        return response

    async def jwks_endpoint(self, _: Request) -> Response:
        return JSONResponse(self.jwks(), headers={"Cache-Control": "public, max-age=300"})

    async def metadata_endpoint(self, _: Request) -> Response:
        return JSONResponse(self.metadata(), headers={"Cache-Control": "public, max-age=300"})

    def routes(self) -> list[Route]:
        return [
            Route("/oauth/token", self.token_endpoint, methods=["POST"]),
            Route("/oauth/jwks", self.jwks_endpoint, methods=["GET"]),
            Route("/.well-known/openid-configuration", self.metadata_endpoint, methods=["GET"]),
        ]


async def _read_form(request: Request) -> dict[str, str]:
    """The token request's form body: urlencoded, small, each parameter once (RFC 6749 3.2)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise InvalidRequestError("token requests must be application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidRequestError("request body too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequestError("malformed request body") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise InvalidRequestError("a parameter is repeated")
        form[name] = value
    return form


def provider(
    data_dir: Path,
    *,
    issuer: str = DEFAULT_DEV_ISSUER,
    audience: str = "crossforce",
    policy_dir: Path = DEFAULT_POLICY_DIR,
) -> DevIdentityProvider:
    return DevIdentityProvider(
        data_dir,
        issuer=issuer,
        audience=audience,
        clients=load_clients(policy_dir / "clients.yaml"),
    )


def routes(
    data_dir: Path,
    *,
    issuer: str = DEFAULT_DEV_ISSUER,
    audience: str = "crossforce",
    policy_dir: Path = DEFAULT_POLICY_DIR,
) -> list[Route]:
    """The provider's routes, for the gateway to mount when no external issuer is configured."""
    return provider(data_dir, issuer=issuer, audience=audience, policy_dir=policy_dir).routes()


def mint_token(
    data_dir: Path,
    issuer: str,
    audience: str,
    client_id: str,
    scopes: str | Iterable[str] | None = None,
    *,
    policy_dir: Path = DEFAULT_POLICY_DIR,
    officer: Officer | None = None,
) -> str:
    """A development access token, minted from the keys in the data dir (no server needed)."""
    idp = provider(data_dir, issuer=issuer, audience=audience, policy_dir=policy_dir)
    return idp.mint(client_id, scopes, officer=officer)
