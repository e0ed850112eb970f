"""Scopes, the client directory (clients.yaml) and force binding, as CONTRACT.md defines them."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from policies.principal import Principal

SYNC_WRITE = "sync:write"
OVERSIGHT_READ = "oversight:read"
CASES_READ = "cases:read"
SENSITIVE_REVEAL = "sensitive:reveal"
VICTIM_ID_WRITE = "victim-id:write"
ADMIN = "admin"
# The hub reading a force connector's feed (pull federation); granted to the hub's own client.
PULL_READ = "pull:read"

ALL_SCOPES: frozenset[str] = frozenset(
    {SYNC_WRITE, OVERSIGHT_READ, CASES_READ, SENSITIVE_REVEAL, VICTIM_ID_WRITE, ADMIN, PULL_READ}
)

FORCE_CODE = re.compile(r"^[A-Z]{2,4}$")

# Claims that name the client, most specific first (RFC 9068 `client_id`, OIDC `azp`, `sub`).
CLIENT_ID_CLAIMS = ("client_id", "azp", "sub")


class Forbidden(Exception):
    """The principal lacks a scope or acts for another force. The reason names no data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PolicyFileError(ValueError):
    """A policy file (clients.yaml, sharing.yaml) is malformed; the message gives the YAML path."""


def require(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise Forbidden(f"requires scope {scope}")


def require_any(principal: Principal, *scopes: str) -> None:
    if not principal.scopes.intersection(scopes):
        raise Forbidden("requires one of scopes " + ", ".join(scopes))


def require_force(principal: Principal, force: str) -> None:
    """The principal must act for `force` (e.g. a force system writing its own cases)."""
    if principal.force is None or principal.force != force:
        raise Forbidden("token does not act for this force")


@dataclass(frozen=True)
class ClientEntry:
    client_id: str
    scopes: frozenset[str]
    force: str | None
    revoked_before: int | None = None  # epoch seconds: tokens issued earlier are refused


class _ClientModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    scopes: list[str] = Field(default_factory=list)
    force: str | None = None
    # Revoking a client: every token issued before this instant is refused, however long it has
    # left to live (its provider must also stop issuing new ones).
    revoked_before: datetime | None = None

    @field_validator("scopes")
    @classmethod
    def _known_scopes(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - ALL_SCOPES)
        if unknown:
            raise ValueError("unknown scope(s): " + ", ".join(unknown))
        return value

    @field_validator("force")
    @classmethod
    def _force_code(cls, value: str | None) -> str | None:
        if value is not None and not FORCE_CODE.match(value):
            raise ValueError("force must be 2 to 4 capital letters")
        return value


class _ClientsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    region: str | None = None
    forces: list[str] = Field(default_factory=list)
    clients: dict[str, _ClientModel]


class ClientDirectory:
    """Known clients: their scopes (for the development provider) and force (for binding)."""

    def __init__(self, entries: Mapping[str, ClientEntry], forces: tuple[str, ...] = ()) -> None:
        self._entries = dict(entries)
        self.forces = forces or tuple(
            sorted({e.force for e in self._entries.values() if e.force is not None})
        )

    def get(self, client_id: str) -> ClientEntry | None:
        return self._entries.get(client_id)

    def __iter__(self) -> Iterator[ClientEntry]:
        return iter(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)

    def force_of(self, client_id: str) -> str | None:
        entry = self._entries.get(client_id)
        return entry.force if entry else None


def load_clients(path: Path) -> ClientDirectory:
    """Read clients.yaml; a missing file is an empty directory (external issuers need none)."""
    if not path.exists():
        return ClientDirectory({})
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parsed = _ClientsFile.model_validate(raw)
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{path.name}: not valid YAML ({error})") from None
    except ValidationError as error:
        raise PolicyFileError(f"{path.name}: {format_errors(error)}") from None
    entries = {
        client_id: ClientEntry(
            client_id,
            frozenset(model.scopes),
            model.force,
            int(model.revoked_before.timestamp()) if model.revoked_before else None,
        )
        for client_id, model in parsed.clients.items()
    }
    return ClientDirectory(entries, tuple(parsed.forces))


def format_errors(error: ValidationError) -> str:
    """Pydantic errors as `path.to.field: message`, one per line, without the input value."""
    lines = []
    for item in error.errors(include_input=False, include_url=False):
        path = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        lines.append(f"{path}: {message}")
    return "; ".join(lines)


def client_id_from_claims(claims: Mapping[str, Any]) -> str | None:
    for name in CLIENT_ID_CLAIMS:
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def scopes_from_claims(claims: Mapping[str, Any]) -> frozenset[str]:
    """`scope` (space-separated, RFC 9068) or `scp` (a list or string, some providers)."""
    value = claims.get("scope", claims.get("scp"))
    if isinstance(value, str):
        return frozenset(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    return frozenset()


def bind_force(claims: Mapping[str, Any], clients: ClientDirectory) -> str | None:
    """The token's `force` claim, else the force clients.yaml maps its client id to, else None.

    Raises ValueError for a `force` claim that is not a force code.
    """
    claimed = claims.get("force")
    if claimed is not None:
        if not isinstance(claimed, str) or not FORCE_CODE.match(claimed):
            raise ValueError("force claim is not a force code")
        return claimed
    client_id = client_id_from_claims(claims)
    return clients.force_of(client_id) if client_id else None
