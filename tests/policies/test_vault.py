"""Data keys wrapped by a Vault transit key, against an in-process transit emulator (Vault cannot
run here): field encryption works through it, the wrap is bound to force and version, Vault's own
key rotation keeps old wraps readable, and failures are clear without leaking the token."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from graph.keyring_store import MemoryKeyStore
from policies.crypto import FieldCipher
from policies.keys import KeyRing, KeyUnwrapFailed
from policies.vault import KeyServiceUnavailable, VaultSettings, VaultTransitKEK
from tests.policies.vault_emulator import TransitEmulator

TOKEN = "hvs.test-token-never-logged"
ADDR = "http://vault.test:8200"


@pytest.fixture
def vault() -> TransitEmulator:
    return TransitEmulator(TOKEN)


@pytest.fixture
async def http(vault: TransitEmulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=vault.app)
    async with httpx.AsyncClient(transport=transport, base_url=ADDR) as client:
        yield client


def kek(http: httpx.AsyncClient, token: str = TOKEN) -> VaultTransitKEK:
    return VaultTransitKEK(VaultSettings(addr=ADDR, token=token), http=http)  # type: ignore[arg-type]


async def test_field_encryption_through_vault(
    vault: TransitEmulator, http: httpx.AsyncClient
) -> None:
    store = MemoryKeyStore()
    cipher = FieldCipher(KeyRing(store, kek(http)))
    sealed = await cipher.seal("AS", "AS-1", "/summary", "a secret")
    stored = await store.get("AS", 1)
    assert stored is not None and stored.wrapped is not None
    assert stored.wrapped.startswith(b"vault:v1:")
    # A fresh key ring (another replica, a restart) unwraps through Vault again.
    again = FieldCipher(KeyRing(store, kek(http)))
    assert await again.open("AS", "AS-1", "/summary", sealed) == "a secret"
    assert vault.calls == ["encrypt", "decrypt"]


async def test_wrapped_key_moved_to_another_force_is_refused(http: httpx.AsyncClient) -> None:
    store = MemoryKeyStore()
    await FieldCipher(KeyRing(store, kek(http))).seal("AS", "AS-1", "/summary", "x")
    stolen = await store.get("AS", 1)
    assert stolen is not None and stolen.wrapped is not None
    await store.create("GL", 1, stolen.wrapped, stolen.created_at)
    with pytest.raises(KeyUnwrapFailed):
        await KeyRing(store, kek(http)).dek("GL", 1)


async def test_vault_key_rotation_keeps_old_wraps_readable(
    vault: TransitEmulator, http: httpx.AsyncClient
) -> None:
    store = MemoryKeyStore()
    keyring = KeyRing(store, kek(http))
    old = await FieldCipher(keyring).seal("AS", "AS-1", "/summary", "before")
    assert vault.rotate() == 2
    await keyring.rotate("AS")
    newer = await store.get("AS", 2)
    assert newer is not None and newer.wrapped is not None
    assert newer.wrapped.startswith(b"vault:v2:")
    fresh = FieldCipher(KeyRing(store, kek(http)))
    assert await fresh.open("AS", "AS-1", "/summary", old) == "before"


async def test_wrong_token_is_a_clear_error_without_the_token(http: httpx.AsyncClient) -> None:
    wrong = "hvs.wrong-token-value"
    with pytest.raises(KeyServiceUnavailable) as refused:
        await kek(http, token=wrong).wrap(b"k" * 32, b"aad")
    assert "403" in str(refused.value)
    assert wrong not in str(refused.value) and TOKEN not in str(refused.value)


async def test_unreachable_vault_is_key_service_unavailable() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(down), base_url=ADDR) as http:
        with pytest.raises(KeyServiceUnavailable, match="ConnectError"):
            await kek(http).unwrap(b"vault:v1:AAAA", b"aad")


async def test_not_a_vault_ciphertext_does_not_unwrap(http: httpx.AsyncClient) -> None:
    for wrapped in (b"\xff\xfe", b"nonce-and-aes-gcm-bytes"):
        with pytest.raises(KeyUnwrapFailed):
            await kek(http).unwrap(wrapped, b"aad")


def test_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSFORCE_VAULT_ADDR", ADDR)
    monkeypatch.setenv("CROSSFORCE_VAULT_TOKEN", TOKEN)
    monkeypatch.setenv("CROSSFORCE_VAULT_TRANSIT_MOUNT", "kms/transit")
    settings = VaultSettings()  # type: ignore[call-arg]
    assert (settings.addr, settings.transit_mount, settings.key_name) == (
        ADDR,
        "kms/transit",
        "crossforce-kek",
    )
    assert TOKEN not in repr(settings)
    monkeypatch.setenv("CROSSFORCE_VAULT_KEY_NAME", "../sys")
    with pytest.raises(ValidationError):
        VaultSettings()  # type: ignore[call-arg]
