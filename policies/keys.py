"""Per-force data keys (DEKs), wrapped by a key-encryption key (KEK), with versions.

- A DEK is 32 random bytes for AES-256-GCM. Each force has versions 1, 2, ...; new ciphertext
  uses the highest, older versions stay readable until shredded.
- DEKs are stored only wrapped, through a `WrappedKeyStore` (the graph in production, so every
  gateway replica shares them; graph/keyring_store.py, which also holds an in-memory one for
  tests and tools). The wrap binds force and version as associated data, so a
  wrapped key copied to another force or version does not unwrap.
- The KEK sits behind `KeyEncryptionKey`, shaped like a cloud KMS Encrypt/Decrypt or Vault
  transit call; `LocalKeyFile` is the development one (a 0600 file in the data dir).
- Shredding destroys wrapped DEKs: whatever they encrypted is unreadable for good.

Unwrapped DEKs are cached in memory for `cache_ttl` seconds. Neither a rotation nor a shred made
by another replica waits that long: while a force's keys are cached, the ring re-reads the force's
versions at most every `recheck` seconds (one small graph read per force, on the first use after
that interval), so every replica refuses a shredded version, and seals with a newer version,
within `recheck` seconds of the change (at once on the replica that made it).
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple, Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from prometheus_client import Gauge

from policies.audit import KEY_CREATE, KEY_ROTATE, KEY_SHRED, AuditLog
from policies.files import read_or_create_private
from policies.principal import Principal

DEK_BYTES = 32
NONCE_BYTES = 12


DATA_KEY_VERSION = Gauge(
    "crossforce_data_key_version",
    "The data key version new ciphertext of each force uses on this replica",
    ["force"],
)


class KeyringError(Exception):
    """Base of key problems; messages name forces and versions only."""


class KeyShredded(KeyringError):
    """The data key version was shredded: data sealed with it is gone for good."""

    def __init__(self, force: str, version: int) -> None:
        super().__init__(f"data key {force} v{version} was shredded; its data is unreadable")
        self.force = force
        self.version = version


class UnknownKeyVersion(KeyringError):
    def __init__(self, force: str, version: int) -> None:
        super().__init__(f"no data key {force} v{version}")
        self.force = force
        self.version = version


class KeyUnwrapFailed(KeyringError):
    """The KEK refused a wrapped DEK: wrong KEK, or the stored key was altered or moved."""


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; a KMS or Vault transit in production."""

    async def wrap(self, plaintext: bytes, aad: bytes) -> bytes: ...

    async def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        """Raise `KeyUnwrapFailed` when `wrapped` was not made by this KEK with this `aad`."""
        ...


class LocalKeyFile:
    """Development KEK: AES-256-GCM under a 32-byte key in a 0600 file, created on first use."""

    def __init__(self, path: Path) -> None:
        key = read_or_create_private(path, lambda: os.urandom(32))
        if len(key) != 32:
            raise ValueError(f"{path} must hold exactly 32 bytes")
        self._aead = AESGCM(key)

    @classmethod
    def in_data_dir(cls, data_dir: Path) -> LocalKeyFile:
        return cls(data_dir / "keys" / "kek.key")

    async def wrap(self, plaintext: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plaintext, aad)

    async def unwrap(self, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return self._aead.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], aad)
        except (InvalidTag, ValueError):
            raise KeyUnwrapFailed("wrapped data key does not unwrap") from None


class DataKeyRecord(Protocol):
    """What a store hands back for one version; `wrapped` is None once shredded (a tombstone)."""

    @property
    def force(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def wrapped(self) -> bytes | None: ...
    @property
    def created_at(self) -> datetime: ...


class WrappedKeyStore(Protocol):
    """Where wrapped data keys live; shared by every gateway replica."""

    async def versions(self, force: str) -> Sequence[DataKeyRecord]:
        """The force's key versions, shredded ones included (`wrapped` None), lowest first."""
        ...

    async def get(self, force: str, version: int) -> DataKeyRecord | None: ...

    async def create(self, force: str, version: int, wrapped: bytes, created_at: datetime) -> bool:
        """Store a new version; False when that force and version already exist."""
        ...

    async def shred(self, force: str, versions: Sequence[int] | None = None) -> list[int]:
        """Destroy the wrapped keys (all of the force's when `versions` is None), keeping
        tombstones; return the versions destroyed now."""
        ...

    async def forces(self) -> list[str]: ...


def wrap_aad(force: str, version: int) -> bytes:
    return f"crossforce/dek/v1|{force}|{version}".encode()


class DataKey(NamedTuple):
    """One unwrapped data key version, with its AES-GCM instance: building one per value would
    cost more than the encryption."""

    version: int
    key: bytes
    aead: AESGCM


def data_key(version: int, key: bytes) -> DataKey:
    return DataKey(version, key, AESGCM(key))


class KeyRing:
    """Data keys of every force: current version for writing, any live version for reading."""

    def __init__(
        self,
        store: WrappedKeyStore,
        kek: KeyEncryptionKey,
        *,
        audit: AuditLog | None = None,
        cache_ttl: float = 60.0,
        recheck: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._kek = kek
        # Every key operation is audited before it happens; no log, no key operation.
        self._audit = audit
        self._ttl = cache_ttl
        self._clock = clock
        # Values with the monotonic time they were read, dropped once older than cache_ttl.
        self._deks: dict[tuple[str, int], tuple[DataKey, float]] = {}
        self._current: dict[str, tuple[int, float]] = {}
        # When each force's cached keys were last checked against the store (shreds, rotations).
        self._recheck_every = recheck
        self._checked: dict[str, float] = {}
        # What `cached_current` and `cached` answer, each with the clock reading until which the
        # three caches above would answer the same: one look-up and one clock reading per value
        # sealed or opened. Dropped (`_cool`) whenever a force's cached keys change.
        self._hot_current: dict[str, tuple[DataKey, float]] = {}
        self._hot: dict[str, dict[int, tuple[DataKey, float]]] = {}
        self._lock = asyncio.Lock()

    def _fresh(self, read_at: float) -> bool:
        return self._clock() - read_at < self._ttl

    def _cool(self, force: str) -> None:
        self._hot_current.pop(force, None)
        self._hot.pop(force, None)

    def _keep(self, force: str, key: DataKey) -> None:
        self._deks[(force, key.version)] = (key, self._clock())
        self._cool(force)

    def _drop(self, force: str, version: int) -> None:
        self._deks.pop((force, version), None)
        self._cool(force)

    async def current(self, force: str) -> tuple[int, bytes]:
        """The version new ciphertext of `force` uses, and its key (version 1 made on first use)."""
        key = await self.current_key(force)
        return key.version, key.key

    async def current_key(self, force: str) -> DataKey:
        """`current` as a `DataKey`."""
        cached = self._current.get(force)
        if cached is not None and self._fresh(cached[1]):
            await self._recheck(force)  # a rotation or shred elsewhere drops the cached version
            cached = self._current.get(force)
        if cached is not None and self._fresh(cached[1]):
            try:
                return await self.key(force, cached[0])
            except (KeyShredded, UnknownKeyVersion):
                # Shredded elsewhere, or gone with a restore to an older copy of the graph: new
                # ciphertext moves on to the latest live version (a new one if none is left).
                self._current.pop(force, None)
                self._cool(force)
        latest = await self._latest_live(force)
        if latest is None:
            await self._record("crossforce", KEY_CREATE, force)
            latest = await self._add_version(force, first=True)
        self._current[force] = (latest, self._clock())
        self._cool(force)
        DATA_KEY_VERSION.labels(force).set(latest)
        return await self.key(force, latest)

    def cached_current(self, force: str) -> DataKey | None:
        """What `current_key` would answer, when it can without reading the store (the version
        and key are fresh in the cache and no recheck for shreds or rotations is due); None
        otherwise. The hot path (sealing every field of every case) then awaits nothing."""
        hot = self._hot_current.get(force)
        if hot is not None and self._clock() < hot[1]:
            return hot[0]
        current = self._current.get(force)
        if current is None:
            return None
        version, read_at = current
        cached = self._deks.get((force, version))
        last = self._checked.get(force)
        if cached is None or last is None:
            return None
        until = min(read_at + self._ttl, cached[1] + self._ttl, last + self._recheck_every)
        if self._clock() >= until:
            return None
        self._hot_current[force] = (cached[0], until)
        return cached[0]

    def cached(self, force: str, version: int) -> DataKey | None:
        """What `key` would answer, when it can without reading the store; None otherwise."""
        hot = self._hot.get(force)
        entry = hot.get(version) if hot is not None else None
        if entry is not None and self._clock() < entry[1]:
            return entry[0]
        cached = self._deks.get((force, version))
        last = self._checked.get(force)
        if cached is None or last is None:
            return None
        until = min(cached[1] + self._ttl, last + self._recheck_every)
        if self._clock() >= until:
            return None
        self._hot.setdefault(force, {})[version] = (cached[0], until)
        return cached[0]

    async def dek(self, force: str, version: int) -> bytes:
        """The unwrapped key of one version; `KeyShredded` or `UnknownKeyVersion` otherwise."""
        return (await self.key(force, version)).key

    async def key(self, force: str, version: int) -> DataKey:
        """`dek` as a `DataKey`."""
        cached = self._deks.get((force, version))
        if cached is not None and self._fresh(cached[1]):
            await self._recheck(force)
            cached = self._deks.get((force, version))
            if cached is not None:
                return cached[0]
        stored = await self._store.get(force, version)
        if stored is None:
            raise UnknownKeyVersion(force, version)
        if stored.wrapped is None:
            self._drop(force, version)
            raise KeyShredded(force, version)
        key = data_key(version, await self._kek.unwrap(stored.wrapped, wrap_aad(force, version)))
        self._keep(force, key)
        return key

    async def _recheck(self, force: str) -> None:
        """Drop the force's cached keys that another replica shredded, and its cached current
        version once another replica rotated past it; at most one store read per `recheck`
        seconds, whatever the number of concurrent callers."""
        now = self._clock()
        last = self._checked.get(force)
        if last is not None and now - last < self._recheck_every:
            return
        self._checked[force] = now  # concurrent callers use the cache meanwhile
        try:
            versions = await self._store.versions(force)
        except BaseException:
            if last is None:
                self._checked.pop(force, None)
            else:
                self._checked[force] = last
            self._cool(force)
            raise
        for stored in versions:
            if stored.wrapped is None:
                self._deks.pop((force, stored.version), None)
        current = self._current.get(force)
        if current is not None and versions and versions[-1].version != current[0]:
            self._current.pop(force, None)
        self._cool(force)

    async def rotate(
        self, force: str | None = None, *, actor: Principal | str | None = None
    ) -> dict[str, int]:
        """Add a version for `force` (every force with keys when None); return the new versions.
        New ciphertext uses the new version at once here, within `recheck` on other replicas."""
        targets = [force] if force is not None else await self._store.forces()
        added = {}
        for target in targets:
            await self._record(actor, KEY_ROTATE, target)
            version = await self._add_version(target)
            self._current[target] = (version, self._clock())
            self._cool(target)
            DATA_KEY_VERSION.labels(target).set(version)
            added[target] = version
        return added

    async def shred(
        self, force: str, version: int | None = None, *, actor: Principal | str | None = None
    ) -> list[int]:
        """Destroy one version (all of the force's when None); return the versions destroyed."""
        await self._record(actor, KEY_SHRED, force if version is None else f"{force}:v{version}")
        destroyed = await self._store.shred(force, None if version is None else [version])
        for number in destroyed:
            self._deks.pop((force, number), None)
        self._current.pop(force, None)
        self._cool(force)
        return destroyed

    async def versions(self, force: str) -> Sequence[DataKeyRecord]:
        return await self._store.versions(force)

    async def forces(self) -> list[str]:
        """Forces that have data keys (shredded ones included)."""
        return await self._store.forces()

    async def _record(self, actor: Principal | str | None, action: str, target: str) -> None:
        if self._audit is not None:
            await self._audit.record(actor=actor, action=action, target=f"datakey:{target}")

    async def _latest_live(self, force: str) -> int | None:
        versions = await self._store.versions(force)
        if versions and versions[-1].wrapped is not None:
            return versions[-1].version
        return None

    async def _add_version(self, force: str, *, first: bool = False) -> int:
        """Create the next version; when another replica wins the race, use the one it made.
        `first`: only if the force has no live version (a first write, not a rotation)."""
        async with self._lock:
            for _ in range(5):
                versions = await self._store.versions(force)
                if first and versions and versions[-1].wrapped is not None:
                    return versions[-1].version  # another replica made it meanwhile
                number = versions[-1].version + 1 if versions else 1
                dek = AESGCM.generate_key(bit_length=256)
                wrapped = await self._kek.wrap(dek, wrap_aad(force, number))
                created = await self._store.create(force, number, wrapped, datetime.now(UTC))
                if created:
                    self._keep(force, data_key(number, dek))
                    return number
                latest = await self._latest_live(force)
                if latest is not None and latest >= number:
                    return latest
        raise KeyringError(f"could not create a data key version for {force}")
