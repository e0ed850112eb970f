"""Bearer tokens from HTTP requests: the one place a request becomes a principal."""

from __future__ import annotations

from starlette.requests import HTTPConnection

from policies.principal import Principal
from policies.tokens import InvalidToken, TokenValidator


def bearer_token(connection: HTTPConnection) -> str:
    scheme, _, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidToken("missing bearer token")
    return token.strip()


async def authenticate(connection: HTTPConnection, validator: TokenValidator) -> Principal:
    """The caller's principal; `InvalidToken` (a 401) for anything short of a valid token."""
    return await validator.validate(bearer_token(connection))
