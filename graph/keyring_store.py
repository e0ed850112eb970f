"""Wrapped data keys in the graph, so every gateway replica shares one key ring.

One `(:DataKey {key: 'FORCE:version'})` node per force and key version, holding the wrapped key
(base64), never an unwrapped one. Shredding removes the wrapped key and leaves a tombstone, so
readers can tell "shredded" from "never existed". Both stores here implement
`policies.keys.WrappedKeyStore` structurally, and their `StoredKey` records are what the key ring
reads through its `DataKeyRecord` protocol; this module imports nothing from policies (the graph
imports nothing of ours). `MemoryKeyStore` holds the same records in a dict, for unit tests and
tools that need no graph.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graph.port import ConstraintViolation, GraphStore

VERSIONS = (
    "MATCH (k:DataKey {force: $force}) "
    "RETURN k.version AS version, k.wrapped AS wrapped, k.createdAt AS createdAt "
    "ORDER BY version"
)
GET = (
    "MATCH (k:DataKey {key: $key}) "
    "RETURN k.version AS version, k.wrapped AS wrapped, k.createdAt AS createdAt"
)
CREATE = (
    "CREATE (k:DataKey {key: $key, force: $force, version: $version, wrapped: $wrapped, "
    "createdAt: $createdAt, shredded: false}) RETURN k.version AS version"
)
SHRED_ALL = (
    "MATCH (k:DataKey {force: $force}) WHERE k.shredded = false "
    "SET k.shredded = true, k.wrapped = null RETURN k.version AS version"
)
SHRED_SOME = (
    "MATCH (k:DataKey {force: $force}) WHERE k.shredded = false AND k.version IN $versions "
    "SET k.shredded = true, k.wrapped = null RETURN k.version AS version"
)
FORCES = "MATCH (k:DataKey) RETURN DISTINCT k.force AS force ORDER BY force"


@dataclass(frozen=True)
class StoredKey:
    """One stored data key version; `wrapped` is None once shredded (a tombstone)."""

    force: str
    version: int
    wrapped: bytes | None
    created_at: datetime

    @property
    def shredded(self) -> bool:
        return self.wrapped is None


class GraphKeyStore:
    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def versions(self, force: str) -> list[StoredKey]:
        rows = await self._store.read(VERSIONS, {"force": force})
        return [_key(force, row) for row in rows]

    async def get(self, force: str, version: int) -> StoredKey | None:
        rows = await self._store.read(GET, {"key": f"{force}:{version}"})
        return _key(force, rows[0]) if rows else None

    async def create(self, force: str, version: int, wrapped: bytes, created_at: datetime) -> bool:
        """Store a new version; False when another writer already made that force and version."""
        if not wrapped:
            raise ValueError("a new data key needs its wrapped value")
        params = {
            "key": f"{force}:{version}",
            "force": force,
            "version": version,
            "wrapped": base64.b64encode(wrapped).decode("ascii"),
            "createdAt": created_at.isoformat(),
        }
        try:
            await self._store.write(CREATE, params)
        except ConstraintViolation:
            return False
        return True

    async def shred(self, force: str, versions: Sequence[int] | None = None) -> list[int]:
        if versions is None:
            rows = await self._store.write(SHRED_ALL, {"force": force})
        else:
            rows = await self._store.write(SHRED_SOME, {"force": force, "versions": list(versions)})
        return sorted(int(row["version"]) for row in rows)

    async def forces(self) -> list[str]:
        return [str(row["force"]) for row in await self._store.read(FORCES)]


class MemoryKeyStore:
    """The same store in a dict, for unit tests and tools."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, int], StoredKey] = {}

    async def versions(self, force: str) -> list[StoredKey]:
        return sorted(
            (key for (owner, _), key in self._keys.items() if owner == force),
            key=lambda key: key.version,
        )

    async def get(self, force: str, version: int) -> StoredKey | None:
        return self._keys.get((force, version))

    async def create(self, force: str, version: int, wrapped: bytes, created_at: datetime) -> bool:
        if not wrapped:
            raise ValueError("a new data key needs its wrapped value")
        if (force, version) in self._keys:
            return False
        self._keys[(force, version)] = StoredKey(force, version, wrapped, created_at)
        return True

    async def shred(self, force: str, versions: Sequence[int] | None = None) -> list[int]:
        destroyed = []
        for (owner, version), key in list(self._keys.items()):
            if owner != force or key.shredded or (versions is not None and version not in versions):
                continue
            self._keys[(owner, version)] = StoredKey(owner, version, None, key.created_at)
            destroyed.append(version)
        return sorted(destroyed)

    async def forces(self) -> list[str]:
        return sorted({force for force, _ in self._keys})


def _key(force: str, row: dict[str, Any]) -> StoredKey:
    wrapped = row.get("wrapped")
    return StoredKey(
        force=force,
        version=int(row["version"]),
        wrapped=base64.b64decode(wrapped) if wrapped else None,
        created_at=datetime.fromisoformat(row["createdAt"]),
    )
