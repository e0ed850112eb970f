"""A key-encryption key in HashiCorp Vault's transit secrets engine.

Data keys are wrapped and unwrapped by Vault (`POST /v1/<mount>/encrypt/<key>` and
`.../decrypt/<key>`); the KEK never leaves Vault. The wrap's associated data (force and data key
version) travels as transit's `associated_data`, so Vault refuses to unwrap a data key moved to
another force or version; the transit key must be an AEAD type (`aes256-gcm96`, the default).
What is stored is Vault's ciphertext (`vault:v<n>:...`) as ASCII bytes, so rotating the transit
key in Vault (`vault write -f transit/keys/<key>/rotate`) keeps existing wrapped keys readable.

Configuration comes from the environment (`CROSSFORCE_VAULT_*`, see `VaultSettings`). Errors name
the operation and Vault's status, never key material or Vault's token.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from policies.keys import KeyringError, KeyUnwrapFailed

# Vault answers 400 when a ciphertext does not authenticate (altered, moved, or other context).
REFUSED = 400


class KeyServiceUnavailable(KeyringError):
    """Vault could not be reached, or refused the request for a reason other than the data."""


class VaultSettings(BaseSettings):
    """From `CROSSFORCE_VAULT_ADDR`, `_TOKEN`, `_TRANSIT_MOUNT`, `_KEY_NAME`, `_NAMESPACE` and
    `_TIMEOUT`."""

    model_config = SettingsConfigDict(env_prefix="CROSSFORCE_VAULT_", extra="ignore")

    addr: str = Field(description="Vault's base URL, e.g. https://vault.example:8200")
    token: SecretStr = Field(description="a token allowed to use the transit key")
    transit_mount: str = Field("transit", pattern=r"^[A-Za-z0-9_\-/]+$")
    key_name: str = Field("crossforce-kek", pattern=r"^[A-Za-z0-9_\-.]+$")
    namespace: str | None = Field(None, description="Vault Enterprise namespace, if any")
    timeout: float = Field(5.0, gt=0, description="seconds per request to Vault")


class VaultTransitKEK:
    """`policies.keys.KeyEncryptionKey` backed by a Vault transit key."""

    def __init__(self, settings: VaultSettings, *, http: httpx.AsyncClient | None = None) -> None:
        headers = {"X-Vault-Token": settings.token.get_secret_value()}
        if settings.namespace:
            headers["X-Vault-Namespace"] = settings.namespace
        mount = settings.transit_mount.strip("/")
        self._encrypt_path = f"/v1/{mount}/encrypt/{settings.key_name}"
        self._decrypt_path = f"/v1/{mount}/decrypt/{settings.key_name}"
        self._owned = http is None
        self._http = http or httpx.AsyncClient(base_url=settings.addr, timeout=settings.timeout)
        self._headers = headers

    @classmethod
    def from_environment(cls) -> VaultTransitKEK:
        return cls(VaultSettings())

    async def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        body = {"plaintext": _b64(plaintext), "associated_data": _b64(aad)}
        data = await self._call("encrypt", self._encrypt_path, body)
        ciphertext = data.get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:"):
            raise KeyServiceUnavailable("Vault transit encrypt answered without a ciphertext")
        return ciphertext.encode("ascii")

    async def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        try:
            ciphertext = wrapped.decode("ascii")
        except UnicodeDecodeError:
            raise KeyUnwrapFailed("wrapped data key is not a Vault ciphertext") from None
        if not ciphertext.startswith("vault:"):
            raise KeyUnwrapFailed("wrapped data key is not a Vault ciphertext")
        body = {"ciphertext": ciphertext, "associated_data": _b64(aad)}
        data = await self._call("decrypt", self._decrypt_path, body)
        try:
            return base64.b64decode(str(data.get("plaintext", "")), validate=True)
        except (binascii.Error, ValueError):
            raise KeyServiceUnavailable("Vault transit decrypt answered malformed data") from None

    async def _call(self, operation: str, path: str, body: dict[str, str]) -> dict[str, Any]:
        try:
            response = await self._http.post(path, json=body, headers=self._headers)
        except httpx.HTTPError as error:
            raise KeyServiceUnavailable(
                f"Vault transit {operation}: {type(error).__name__}"
            ) from None
        if response.status_code == REFUSED and operation == "decrypt":
            raise KeyUnwrapFailed("Vault refused to unwrap the data key (altered or moved)")
        if response.status_code != 200:
            raise KeyServiceUnavailable(
                f"Vault transit {operation} answered HTTP {response.status_code}"
            )
        try:
            data = response.json()["data"]
        except (ValueError, KeyError, TypeError):
            raise KeyServiceUnavailable(f"Vault transit {operation}: malformed answer") from None
        if not isinstance(data, dict):
            raise KeyServiceUnavailable(f"Vault transit {operation}: malformed answer")
        return data

    async def aclose(self) -> None:
        if self._owned:
            await self._http.aclose()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
