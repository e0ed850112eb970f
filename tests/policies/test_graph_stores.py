"""The graph-backed key ring and audit chain, on each engine: replicas share keys and one chain;
tampering done directly in the graph is caught by `verify()`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graph import GraphStore
from graph.audit_store import GraphAuditStore
from graph.keyring_store import GraphKeyStore, MemoryKeyStore
from policies.audit import AuditLog
from policies.crypto import FieldCipher, key_version
from policies.keys import KeyRing, KeyShredded, LocalKeyFile, WrappedKeyStore
from policies.principal import Principal

ANALYST = Principal("analyst-GL", frozenset({"cases:read", "sensitive:reveal"}), "GL", "tok")


def replica(store: GraphStore, data_dir: Path, *, ttl: float = 60.0) -> FieldCipher:
    keyring = KeyRing(
        GraphKeyStore(store),
        LocalKeyFile.in_data_dir(data_dir),
        audit=AuditLog(GraphAuditStore(store)),
        cache_ttl=ttl,
    )
    return FieldCipher(keyring)


async def test_key_store_round_trip(graph_store: GraphStore) -> None:
    await round_trip(GraphKeyStore(graph_store))


async def test_the_memory_key_store_keeps_keys_as_the_graph_does() -> None:
    await round_trip(MemoryKeyStore())


async def round_trip(keys: WrappedKeyStore) -> None:
    created = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert await keys.create("AS", 1, b"\x00wrapped-1", created)
    assert await keys.create("AS", 2, b"wrapped-2", created)
    assert await keys.create("GL", 1, b"wrapped-gl", created)
    # A second writer of the same version loses, and changes nothing.
    assert not await keys.create("AS", 2, b"other", created)

    versions = await keys.versions("AS")
    assert [(k.version, k.wrapped) for k in versions] == [(1, b"\x00wrapped-1"), (2, b"wrapped-2")]
    assert versions[0].created_at == created
    assert await keys.forces() == ["AS", "GL"]
    assert await keys.get("AS", 3) is None

    assert await keys.shred("AS", [1]) == [1]
    assert await keys.shred("AS", [1]) == []  # already gone
    shredded = await keys.get("AS", 1)
    assert shredded is not None and shredded.wrapped is None
    assert await keys.shred("AS") == [2]
    assert [k.wrapped for k in await keys.versions("AS")] == [None, None]  # tombstones kept
    with pytest.raises(ValueError, match="wrapped"):
        await keys.create("AS", 3, b"", created)
    gl = await keys.get("GL", 1)
    assert gl is not None and gl.wrapped == b"wrapped-gl"


async def test_replicas_share_keys_rotation_and_shredding(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    now_a, now_b = replica(graph_store, tmp_path), replica(graph_store, tmp_path, ttl=0)
    # Both replicas start at once: one data key version 1 is created, not two.
    sealed_a, sealed_b = await asyncio.gather(
        now_a.seal("AS", "AS-1", "/summary", "from replica A"),
        now_b.seal("AS", "AS-1", "/summary", "from replica B"),
    )
    assert key_version(sealed_a) == key_version(sealed_b) == 1
    assert await now_b.open("AS", "AS-1", "/summary", sealed_a) == "from replica A"
    assert await now_a.open("AS", "AS-1", "/summary", sealed_b) == "from replica B"

    assert await now_a.keyring.rotate("AS", actor="cli:operator") == {"AS": 2}
    newer = await now_b.seal("AS", "AS-1", "/summary", "after rotation")
    assert key_version(newer) == 2  # B has no cache: it sees the new version at once
    assert await now_a.open("AS", "AS-1", "/summary", sealed_a) == "from replica A"

    await now_a.keyring.shred("AS", 1, actor="cli:operator")
    with pytest.raises(KeyShredded):
        await now_b.open("AS", "AS-1", "/summary", sealed_a)
    assert await now_b.open("AS", "AS-1", "/summary", newer) == "after rotation"

    assert (await AuditLog(GraphAuditStore(graph_store)).verify()).ok
    rows = await graph_store.read(
        "MATCH (e:AuditEntry) RETURN e.action AS action, e.target AS target ORDER BY e.seq"
    )
    # Both replicas record their intent to create the first key; one key results.
    assert {row["action"] for row in rows[:-2]} == {"key.create"}
    assert rows[-2:] == [
        {"action": "key.rotate", "target": "datakey:AS"},
        {"action": "key.shred", "target": "datakey:AS:v1"},
    ]


async def test_audit_chain_in_the_graph(graph_store: GraphStore) -> None:
    log = AuditLog(GraphAuditStore(graph_store))
    for n in range(4):
        await log.record(
            actor=ANALYST, action="reveal", target=f"case:GL/GL-{n}#/summary", purpose="enquiry"
        )
    await log.record(actor=None, action="policy.reload", target="policy:sharing.yaml")
    result = await log.verify()
    assert (result.ok, result.checked) == (True, 5)
    rows = await graph_store.read(
        "MATCH (e:AuditEntry {seq: 5}) RETURN e.actor AS actor, e.purpose AS purpose"
    )
    assert rows == [{"actor": None, "purpose": None}]


async def test_concurrent_appends_from_two_replicas_form_one_chain(
    graph_store: GraphStore,
) -> None:
    replicas = [AuditLog(GraphAuditStore(graph_store)) for _ in range(2)]
    await asyncio.gather(
        *(
            replicas[n % 2].record(actor=f"client-{n}", action="export", target=f"t-{n}")
            for n in range(12)
        )
    )
    rows = await graph_store.read("MATCH (e:AuditEntry) RETURN e.seq AS seq ORDER BY seq")
    assert [row["seq"] for row in rows] == list(range(1, 13))
    assert (await replicas[0].verify()).ok


async def chain(store: GraphStore, count: int = 5) -> AuditLog:
    log = AuditLog(GraphAuditStore(store))
    for n in range(count):
        await log.record(actor=ANALYST, action="reveal", target=f"t-{n}", purpose="enquiry")
    return log


async def test_verify_finds_an_entry_altered_in_the_graph(graph_store: GraphStore) -> None:
    log = await chain(graph_store)
    await graph_store.write("MATCH (e:AuditEntry {seq: 3}) SET e.purpose = 'curiosity'")
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 3)


async def test_verify_finds_an_entry_removed_from_the_graph(graph_store: GraphStore) -> None:
    log = await chain(graph_store)
    await graph_store.write("MATCH (e:AuditEntry {seq: 2}) DELETE e")
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 2)


async def test_verify_finds_entries_reordered_in_the_graph(graph_store: GraphStore) -> None:
    log = await chain(graph_store)
    await graph_store.write("MATCH (e:AuditEntry {seq: 2}) SET e.seq = -2")
    await graph_store.write("MATCH (e:AuditEntry {seq: 3}) SET e.seq = 2")
    await graph_store.write("MATCH (e:AuditEntry {seq: -2}) SET e.seq = 3")
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 2)


async def test_verify_finds_the_newest_entry_removed(graph_store: GraphStore) -> None:
    log = await chain(graph_store)
    await graph_store.write("MATCH (e:AuditEntry {seq: 5}) DELETE e")
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 5)
