"""Who is calling: what a validated access token says about its bearer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The bearer of a validated access token.

    `force` is the force the token acts for (its `force` claim, else the client's force from
    clients.yaml), None for regional roles such as coordinators and operators.
    """

    client_id: str
    scopes: frozenset[str]
    force: str | None = None
    token_id: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes
