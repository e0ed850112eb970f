"""Pull federation settings (`pull.yaml`): which force connectors the hub reads, and how.

Each entry names a force, its connector's URL, the identity provider that issues the hub's
token for it (`token_url`, or an `issuer` found by OpenID discovery), the hub's client id there
and a reference to its secret: an environment variable or a file (optionally one member of a
JSON object), never the secret itself. Relative files are relative to `pull.yaml`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from policies.scopes import FORCE_CODE, PolicyFileError, format_errors
from policies.tokens import InsecureIssuer, check_issuer_url

MAX_PAGE_SIZE = 500


class SecretUnavailable(Exception):
    """A referenced secret could not be read. The message names the reference, not a value."""


def _url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return check_issuer_url(value)
    except InsecureIssuer:
        raise ValueError("must be https (http only on loopback addresses)") from None


Url = Annotated[str, Field(min_length=1, max_length=2048)]


class SecretRef(BaseModel):
    """Where the client secret is: `{env: NAME}` or `{file: PATH}` (with `key` for JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: Path | None = None
    key: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("name exactly one of env or file")
        if self.key is not None and self.file is None:
            raise ValueError("key applies to a JSON file only")
        return self

    def read(self, base: Path) -> str:
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise SecretUnavailable(f"environment variable {self.env} is not set")
            return value
        assert self.file is not None
        path = self.file if self.file.is_absolute() else base / self.file
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            raise SecretUnavailable(f"secret file {path} cannot be read") from None
        if self.key is None:
            return text.strip()
        try:
            value = json.loads(text).get(self.key)
        except (ValueError, AttributeError):
            raise SecretUnavailable(f"secret file {path} is not a JSON object") from None
        if not isinstance(value, str) or not value:
            raise SecretUnavailable(f"secret file {path} has no member {self.key}")
        return value


class Backoff(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    initial: float = Field(1.0, gt=0, le=3600)
    max: float = Field(300.0, gt=0, le=86400)


class PullSource(BaseModel):
    """One force connector the hub pulls from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    force: str
    url: Url
    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretRef
    token_url: Url | None = None
    issuer: Url | None = None
    scope: str = Field("pull:read", max_length=200)
    interval: float = Field(60.0, gt=0, le=86400, description="seconds between polls when idle")
    page_size: int = Field(200, ge=1, le=MAX_PAGE_SIZE)
    timeout: float = Field(10.0, gt=0, le=600, description="seconds for one connector answer")
    backoff: Backoff = Backoff()
    # Where relative secret files are found: the directory of pull.yaml.
    base_dir: Path = Field(Path("."), exclude=True)

    @field_validator("force")
    @classmethod
    def _force_code(cls, value: str) -> str:
        if not FORCE_CODE.match(value):
            raise ValueError("force must be 2 to 4 capital letters")
        return value

    @field_validator("url", "token_url", "issuer")
    @classmethod
    def _secure(cls, value: str | None) -> str | None:
        return _url(value)

    @model_validator(mode="after")
    def _one_provider(self) -> PullSource:
        if (self.token_url is None) == (self.issuer is None):
            raise ValueError("name exactly one of token_url or issuer")
        return self

    def secret(self) -> str:
        return self.client_secret.read(self.base_dir)


class _PullFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    forces: list[PullSource] = Field(default_factory=list)

    @field_validator("forces")
    @classmethod
    def _once_each(cls, value: list[PullSource]) -> list[PullSource]:
        seen: set[str] = set()
        for source in value:
            if source.force in seen:
                raise ValueError(f"force {source.force} is listed twice")
            seen.add(source.force)
        return value


def parse_pull(text: str, *, base_dir: Path, source: str = "pull.yaml") -> list[PullSource]:
    try:
        raw = yaml.safe_load(text) or {}
        parsed = _PullFile.model_validate(raw)
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{source}: not valid YAML ({error})") from None
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {format_errors(error)}") from None
    return [s.model_copy(update={"base_dir": base_dir}) for s in parsed.forces]


def load_pull(path: Path) -> list[PullSource]:
    """The connectors `path` lists; none when the file is absent."""
    if not path.exists():
        return []
    return parse_pull(path.read_text(encoding="utf-8"), base_dir=path.parent, source=path.name)
