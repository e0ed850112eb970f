"""The audit chain in the graph: `(:AuditEntry)` nodes and the `(:AuditHead {key: 'audit'})`.

Appending is one conditional statement: it moves the head from the expected seq to the new one
and creates the entry, or matches nothing and writes nothing when another writer moved the head
first. Neo4j evaluates the condition under read-committed isolation, so two writers can both pass
it; the unique constraint on `AuditEntry.seq` (migration 2) then refuses the second, whose whole
statement rolls back. FalkorDB runs writes one at a time, so the condition alone suffices there.

Implements `policies.audit.AuditStore` structurally; entries travel as plain mappings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from graph.port import ConstraintViolation, GraphStore

GENESIS_HASH = "0" * 64

HEAD = "MATCH (h:AuditHead {key: 'audit'}) RETURN h.seq AS seq, h.hash AS hash"
APPEND = (
    "MERGE (h:AuditHead {key: 'audit'}) "
    "ON CREATE SET h.seq = 0, h.hash = $genesis "
    "WITH h WHERE h.seq = $expected "
    "SET h.seq = $seq, h.hash = $hash "
    "CREATE (e:AuditEntry {seq: $seq, prevHash: $prev_hash, time: $time, actor: $actor, "
    "tokenId: $token_id, action: $action, target: $target, purpose: $purpose, "
    "outcome: $outcome, detail: $detail, hashAlg: $hash_alg, hash: $hash}) "
    "RETURN e.seq AS seq"
)
ENTRIES = (
    "MATCH (e:AuditEntry) WHERE e.seq > $after "
    "RETURN e.seq AS seq, e.prevHash AS prev_hash, e.time AS time, e.actor AS actor, "
    "e.tokenId AS token_id, e.action AS action, e.target AS target, e.purpose AS purpose, "
    "e.outcome AS outcome, e.detail AS detail, e.hashAlg AS hash_alg, e.hash AS hash "
    "ORDER BY seq LIMIT $limit"
)
ENTRY_FIELDS = (
    "seq",
    "prev_hash",
    "time",
    "actor",
    "token_id",
    "action",
    "target",
    "purpose",
    "outcome",
    "detail",
    "hash_alg",
    "hash",
)


class GraphAuditStore:
    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def head(self) -> tuple[int, str]:
        rows = await self._store.read(HEAD)
        if not rows:
            return 0, GENESIS_HASH
        return int(rows[0]["seq"]), str(rows[0]["hash"])

    async def append(self, entry: Mapping[str, Any]) -> bool:
        params = {name: entry.get(name) for name in ENTRY_FIELDS}
        params.update(expected=int(entry["seq"]) - 1, genesis=GENESIS_HASH)
        try:
            rows = await self._store.write(APPEND, params)
        except ConstraintViolation:
            return False  # another writer took this seq; the caller re-reads the head
        return bool(rows)

    async def entries(self, after_seq: int, limit: int) -> Sequence[Mapping[str, Any]]:
        return await self._store.read(ENTRIES, {"after": after_seq, "limit": limit})
