"""Who is calling: what a validated access token says about its bearer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    """The bearer of a validated access token.

    `force` is the force the token acts for (its `force` claim, else the client's force from
    clients.yaml), None for regional roles such as coordinators and operators. `subject` is the
    token's `sub` (the officer, where a person signed in; the client itself for a machine) and
    `name` its `name` claim, if any: who did what in team work such as victim identification.
    """

    client_id: str
    scopes: frozenset[str]
    force: str | None = None
    token_id: str | None = None
    subject: str | None = None
    name: str | None = None

    @property
    def officer(self) -> str:
        """Who is acting: the signed-in person where the token names one, else the client."""
        return self.subject or self.client_id

    def has(self, scope: str) -> bool:
        return scope in self.scopes
