"""The audit chain is keyed and anchored outside the graph: whoever can write the graph but holds
neither the audit key nor the data dir cannot remove an entry and rewrite the chain unseen."""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from graph import GraphStore
from graph.audit_store import GraphAuditStore
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from policies.audit import REVEAL, AuditEntry, AuditLog, MemoryAuditStore
from policies.audit_anchor import AuditKey, AuditKeyError, Checkpoint, load_audit_key
from policies.principal import Principal

ANALYST = Principal("analyst-AS", frozenset({"cases:read", "sensitive:reveal"}), "AS", "tok-1")
KEY = AuditKey(b"the hub's audit key, never in the graph")
WRONG_KEY = AuditKey(b"a key the attacker made up, 32 bytes or more")
runner = CliRunner()
WIPE = "MATCH (n) WHERE n:AuditEntry OR n:AuditHead DETACH DELETE n"


def keyed_log(store: GraphStore, data_dir: Path) -> AuditLog:
    return AuditLog(
        GraphAuditStore(store), key=KEY, checkpoint=Checkpoint.in_data_dir(data_dir, KEY)
    )


async def five_entries(log: AuditLog) -> None:
    """Entries 1, 2, 4 and 5 are key operations; entry 3 is the reveal someone wants gone."""
    for n in range(5):
        if n == 2:
            await log.record(
                actor=ANALYST, action=REVEAL, target="case:AS/AS-7#/summary", purpose="curiosity"
            )
        else:
            await log.record(actor="cli:operator", action="key.rotate", target=f"datakey:F{n}")


def plain_sha256(entry: AuditEntry) -> AuditEntry:
    """The entry as the old, unkeyed chain would have hashed it."""
    unkeyed = AuditEntry(**{**asdict(entry), "hash_alg": None, "detail": None})
    return AuditEntry(
        **{**asdict(unkeyed), "hash": hashlib.sha256(unkeyed.canonical()).hexdigest()}
    )


def with_wrong_key(entry: AuditEntry) -> AuditEntry:
    """The entry sealed with the real algorithm, under a key that is not the hub's."""
    return entry.sealed(WRONG_KEY)


async def rewrite(
    store: GraphStore, entries: list[AuditEntry], reseal: Callable[[AuditEntry], AuditEntry]
) -> None:
    """Replace the chain with `entries`, renumbered and resealed from the first changed one on,
    head included, as someone with write access to the graph would."""
    await store.write(WIPE)
    audit = GraphAuditStore(store)
    prev = "0" * 64
    for seq, original in enumerate(entries, start=1):
        entry = original
        if original.seq != seq or original.prev_hash != prev:
            moved = AuditEntry(**{**asdict(original), "seq": seq, "prev_hash": prev})
            entry = reseal(moved)
        assert await audit.append(entry.as_dict())
        prev = entry.hash


async def stored(store: GraphStore) -> list[AuditEntry]:
    rows = await GraphAuditStore(store).entries(0, 100)
    return [AuditEntry.from_mapping(row) for row in rows]


@pytest.mark.parametrize("reseal", [plain_sha256, with_wrong_key], ids=["sha256", "wrong-key"])
async def test_a_removed_reveal_with_the_later_chain_recomputed_is_found(
    graph_store: GraphStore, tmp_path: Path, reseal: Callable[[AuditEntry], AuditEntry]
) -> None:
    log = keyed_log(graph_store, tmp_path)
    await five_entries(log)
    assert (await log.verify()).ok

    entries = [e for e in await stored(graph_store) if e.action != REVEAL]
    await rewrite(graph_store, entries, reseal)

    result = await log.verify()
    assert (result.ok, result.bad_seq, result.checked) == (False, 3, 2)
    assert "audit chain broken at entry 3" in result.describe()


async def test_a_chain_rewritten_whole_without_the_key_is_found_by_the_checkpoint(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    log = keyed_log(graph_store, tmp_path)
    await five_entries(log)
    # Every entry redone as an old, unkeyed one, the reveal gone, and a filler to reach seq 5.
    kept = [e for e in await stored(graph_store) if e.action != REVEAL]
    filler = AuditEntry(**{**asdict(kept[-1]), "target": "datakey:F9"})
    await graph_store.write(WIPE)
    audit, prev = GraphAuditStore(graph_store), "0" * 64
    for seq, entry in enumerate([*kept, filler], start=1):
        forged = plain_sha256(AuditEntry(**{**asdict(entry), "seq": seq, "prev_hash": prev}))
        assert await audit.append(forged.as_dict())
        prev = forged.hash

    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 5)
    assert "checkpoint" in (result.problem or "")


async def test_entries_cut_off_the_end_with_the_head_moved_back_are_found(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    log = keyed_log(graph_store, tmp_path)
    await five_entries(log)
    await rewrite(graph_store, (await stored(graph_store))[:3], lambda entry: entry)

    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 4)
    assert "checkpoint holds entry 5" in (result.problem or "")


async def test_an_altered_checkpoint_is_reported(tmp_path: Path) -> None:
    checkpoint = Checkpoint.in_data_dir(tmp_path, KEY)
    log = AuditLog(MemoryAuditStore(), key=KEY, checkpoint=checkpoint)
    for n in range(3):
        await log.record(actor=None, action="key.rotate", target=f"datakey:F{n}")
    content = json.loads(checkpoint.path.read_text())
    checkpoint.path.write_text(json.dumps(content | {"seq": 1}))

    result = await log.verify()
    assert not result.ok
    assert "checkpoint" in result.describe() and "altered" in result.describe()


async def test_a_checkpoint_only_moves_forward_and_is_private(tmp_path: Path) -> None:
    checkpoint = Checkpoint.in_data_dir(tmp_path, KEY)
    log = AuditLog(MemoryAuditStore(), key=KEY, checkpoint=checkpoint)
    entries = [
        await log.record(actor=None, action="key.rotate", target=f"datakey:F{n}") for n in range(2)
    ]
    mark = checkpoint.read()
    assert mark is not None and (mark.seq, mark.hash) == (2, entries[-1].hash)
    assert stat.S_IMODE(checkpoint.path.stat().st_mode) == 0o600
    # A log restored from an older backup starts again below it: the checkpoint stays.
    older = AuditLog(MemoryAuditStore(), key=KEY, checkpoint=checkpoint)
    await older.record(actor=None, action="key.rotate", target="datakey:AS")
    assert checkpoint.read() == mark


async def test_entries_written_before_the_chain_was_keyed_still_verify(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    audit, prev = GraphAuditStore(graph_store), "0" * 64
    for seq in (1, 2):  # as the unkeyed chain wrote them: no hash_alg, no detail
        old = AuditEntry(
            seq=seq,
            prev_hash=prev,
            time="2026-11-01T12:00:00.000000Z",
            actor="cli:operator",
            token_id=None,
            action="key.create",
            target=f"datakey:F{seq}",
            purpose=None,
            outcome="ok",
        )
        old = plain_sha256(old)
        assert await audit.append(old.as_dict())
        prev = old.hash
    log = keyed_log(graph_store, tmp_path)
    await log.record(actor=ANALYST, action=REVEAL, target="case:AS/AS-1#/summary", purpose="x y")
    assert (await log.verify()).checked == 3

    await graph_store.write("MATCH (e:AuditEntry {seq: 1}) SET e.target = 'datakey:ZZ'")
    assert (await log.verify()).bad_seq == 1


async def test_without_a_checkpoint_verify_warns_that_truncation_would_go_unseen(
    tmp_path: Path,
) -> None:
    store = MemoryAuditStore()
    await AuditLog(store, key=KEY).record(actor=None, action="key.rotate", target="datakey:AS")
    result = await AuditLog(
        store, key=KEY, checkpoint=Checkpoint.in_data_dir(tmp_path, KEY)
    ).verify()
    assert result.ok
    assert "no checkpoint" in result.describe()


def test_the_audit_key_is_made_once_private_or_read_from_the_named_file(tmp_path: Path) -> None:
    made = load_audit_key(tmp_path)
    path = tmp_path / "keys" / "audit.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_audit_key(tmp_path).mac(b"x") == made.mac(b"x")

    shared = tmp_path / "secret" / "audit.key"
    shared.parent.mkdir()
    shared.write_bytes(b"k" * 32)
    shared.chmod(0o600)
    assert load_audit_key(tmp_path, shared).mac(b"x") == AuditKey(b"k" * 32).mac(b"x")
    with pytest.raises(AuditKeyError):
        load_audit_key(tmp_path, tmp_path / "missing.key")


def test_audit_verify_command_finds_entries_cut_off_against_the_checkpoint(
    tmp_path: Path, falkordb_server: EmbeddedFalkorDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("CROSSFORCE_OIDC_ISSUER", "CROSSFORCE_PUBLIC_URL", "CROSSFORCE_AUDIT_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    graph_name = f"anchor{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv(
        "CROSSFORCE_GRAPH_URI",
        f"falkordb://{falkordb_server.host}:{falkordb_server.port}/{graph_name}",
    )
    for force in ("AS", "GL", "WI"):
        assert runner.invoke(app, ["keys", "rotate", "--force", force]).exit_code == 0
    assert "intact: 3 entries" in runner.invoke(app, ["audit", "verify"]).stdout
    mirrored = (tmp_path / "data" / "audit" / "entries.jsonl").read_text().splitlines()
    assert [json.loads(line)["seq"] for line in mirrored] == [1, 2, 3]

    async def cut_the_last_entry() -> None:
        store = FalkorDBStore(falkordb_server.host, falkordb_server.port, graph_name=graph_name)
        await rewrite(store, (await stored(store))[:2], lambda entry: entry)
        await store.close()

    asyncio.run(cut_the_last_entry())
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "audit chain broken at entry 3" in broken.stdout


def test_audit_verify_command_needs_the_hubs_key_and_never_makes_one(
    tmp_path: Path, falkordb_server: EmbeddedFalkorDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CROSSFORCE_AUDIT_KEY_FILE", raising=False)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv(
        "CROSSFORCE_GRAPH_URI",
        f"falkordb://{falkordb_server.host}:{falkordb_server.port}/anchor{uuid.uuid4().hex[:8]}",
    )
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "no audit key" in result.stderr
    assert not (tmp_path / "elsewhere" / "keys" / "audit.key").exists()
