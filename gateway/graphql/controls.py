"""What every GraphQL operation passes before it runs, whether it came over HTTP or a WebSocket.

One object, called by both doors, so that neither can drift from the other: the bearer token
(valid, not expired, client not revoked), the client's rate limit (one bucket for `/graphql`,
shared by both doors), the size of what was sent, the persisted-query rule, and how errors are
shown (coded, no internals, no schema suggestions where introspection is off). The depth, alias,
token and cost limits are the schema's own extensions (`schema.py`): they run on every
operation, whatever carried it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError

from gateway.graphql.errors import formatted
from gateway.graphql.persisted import PersistedQueries
from policies.limits import RateLimiter
from policies.principal import Principal
from policies.tokens import InvalidToken, TokenValidator

ROUTE = "/graphql"  # the rate limit's route, for both doors


@dataclass(frozen=True)
class Controls:
    validator: TokenValidator
    limiter: RateLimiter
    persisted: PersistedQueries
    max_bytes: int  # a request body, or a WebSocket message
    suggestions: bool  # whether validation errors may name fields the caller did not

    async def bearer(self, token: str) -> Principal:
        """Who the token's bearer is, if the token is still good; `InvalidToken` otherwise."""
        if not token:
            raise InvalidToken("missing bearer token")
        return await self.validator.validate(token)

    async def admit(self, token: str) -> Principal:
        """The bearer of one operation, taken from its client's bucket; raises `InvalidToken`
        or `RateLimited`."""
        principal = await self.bearer(token)
        self.limiter.check(principal.client_id, ROUTE)
        return principal

    def document(self, query: str | None, extensions: Mapping[str, Any] | None) -> str | None:
        """The document to run; `PersistedQueryError` when the persisted-query rule refuses."""
        return self.persisted.resolve(query, extensions)

    def too_large(self, size: int) -> bool:
        return size > self.max_bytes

    def error(self, error: GraphQLError) -> dict[str, Any]:
        return formatted(error, suggestions=self.suggestions)
