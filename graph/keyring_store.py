"""Wrapped data keys in the graph, so every gateway replica shares one key ring.

One `(:DataKey {key: 'FORCE:version'})` node per force and key version, holding the wrapped key
(base64), never an unwrapped one. Shredding removes the wrapped key and leaves a tombstone, so
readers can tell "shredded" from "never existed". Implements `policies.keys.WrappedKeyStore`
structurally; this module imports nothing from policies (the graph imports nothing of ours).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

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
    """Same shape as `policies.keys.WrappedKey`; `wrapped` None means shredded."""

    force: str
    version: int
    wrapped: bytes | None
    created_at: datetime

    @property
    def shredded(self) -> bool:
        return self.wrapped is None


class NewKey(Protocol):
    @property
    def force(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def wrapped(self) -> bytes | None: ...
    @property
    def created_at(self) -> datetime: ...


class GraphKeyStore:
    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def versions(self, force: str) -> list[StoredKey]:
        rows = await self._store.read(VERSIONS, {"force": force})
        return [_key(force, row) for row in rows]

    async def get(self, force: str, version: int) -> StoredKey | None:
        rows = await self._store.read(GET, {"key": f"{force}:{version}"})
        return _key(force, rows[0]) if rows else None

    async def create(self, key: NewKey) -> bool:
        """Store a new version; False when another writer already made that force and version."""
        if key.wrapped is None:
            raise ValueError("a new data key needs its wrapped value")
        params = {
            "key": f"{key.force}:{key.version}",
            "force": key.force,
            "version": key.version,
            "wrapped": base64.b64encode(key.wrapped).decode("ascii"),
            "createdAt": key.created_at.isoformat(),
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


def _key(force: str, row: dict[str, Any]) -> StoredKey:
    wrapped = row.get("wrapped")
    return StoredKey(
        force=force,
        version=int(row["version"]),
        wrapped=base64.b64decode(wrapped) if wrapped else None,
        created_at=datetime.fromisoformat(row["createdAt"]),
    )
