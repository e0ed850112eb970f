"""The audit chain: entries link by hash; altering, removing or reordering any is detected; an
unwritable log refuses the action instead of letting it through unrecorded."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pytest

from policies.audit import (
    GENESIS_HASH,
    REVEAL,
    AuditEntry,
    AuditLog,
    AuditUnavailable,
    MemoryAuditStore,
)
from policies.audit_anchor import AuditKey
from policies.principal import Principal

ANALYST = Principal("analyst-AS", frozenset({"cases:read", "sensitive:reveal"}), "AS", "tok-1")
KEY = AuditKey(b"audit key of the unit tests, 32+ bytes")


async def filled(count: int = 5) -> tuple[AuditLog, MemoryAuditStore]:
    store = MemoryAuditStore()
    log = AuditLog(store, key=KEY)
    for n in range(count):
        await log.record(
            actor=ANALYST,
            action=REVEAL,
            target=f"case:AS/AS-{n}#/summary",
            purpose="safeguarding check",
        )
    return log, store


async def test_entries_chain_by_hash() -> None:
    log, store = await filled(3)
    first, second, third = (AuditEntry.from_mapping(row) for row in store.rows)
    assert [first.seq, second.seq, third.seq] == [1, 2, 3]
    assert first.prev_hash == GENESIS_HASH
    assert second.prev_hash == first.hash and third.prev_hash == second.hash
    assert first.actor == "analyst-AS" and first.token_id == "tok-1"
    assert store.head_row == (3, third.hash)
    result = await log.verify()
    assert result.ok and result.checked == 3
    assert "intact" in result.describe()


async def test_an_empty_log_verifies() -> None:
    assert (await AuditLog(MemoryAuditStore()).verify()).ok


async def test_altered_entry_is_reported() -> None:
    log, store = await filled()
    store.rows[2]["purpose"] = "curiosity"
    result = await log.verify()
    assert (result.ok, result.bad_seq, result.checked) == (False, 3, 2)
    assert "altered" in (result.problem or "")
    assert "entry 3" in result.describe()


async def test_altered_entry_with_recomputed_hash_breaks_the_next_link() -> None:
    log, store = await filled()
    forged = AuditEntry.from_mapping({**store.rows[1], "target": "case:GL/x#/summary"}).sealed(KEY)
    store.rows[1] = forged.as_dict()
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 3)


async def test_removed_entry_is_reported() -> None:
    log, store = await filled()
    del store.rows[1]
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 2)
    assert "missing" in (result.problem or "")


async def test_removed_last_entry_is_reported() -> None:
    log, store = await filled()
    store.rows.pop()
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 5)


async def test_reordered_entries_are_reported() -> None:
    log, store = await filled()
    store.rows[1]["seq"], store.rows[2]["seq"] = 3, 2
    result = await log.verify()
    assert (result.ok, result.bad_seq) == (False, 2)


async def test_verify_pages_through_long_logs() -> None:
    log, store = await filled(25)
    assert (await log.verify(page=4)).checked == 25
    store.rows[20]["outcome"] = "denied"
    assert (await log.verify(page=4)).bad_seq == 21


async def test_concurrent_appends_form_one_chain() -> None:
    store = MemoryAuditStore()
    logs = [AuditLog(store), AuditLog(store)]  # two replicas sharing one store
    await asyncio.gather(
        *(
            logs[n % 2].record(actor=f"client-{n}", action="export", target=f"t{n}")
            for n in range(30)
        )
    )
    assert sorted(row["seq"] for row in store.rows) == list(range(1, 31))
    assert (await logs[0].verify()).ok


async def test_entries_are_mirrored_as_json_lines() -> None:
    out = io.StringIO()
    log = AuditLog(MemoryAuditStore(), mirror=out)
    entry = await log.record(actor=ANALYST, action=REVEAL, target="case:AS/1#/summary")
    line = json.loads(out.getvalue())
    assert line["hash"] == entry.hash
    assert line["action"] == "reveal"
    assert line["actor"] == "analyst-AS"


class BrokenStore:
    async def head(self) -> tuple[int, str]:
        raise ConnectionError("graph down")

    async def append(self, entry: Mapping[str, Any]) -> bool:
        raise AssertionError("never reached")

    async def entries(self, after_seq: int, limit: int) -> Sequence[Mapping[str, Any]]:
        return []


class AlwaysConflicting(MemoryAuditStore):
    async def append(self, entry: Mapping[str, Any]) -> bool:
        return False


async def test_unavailable_store_refuses_the_action() -> None:
    with pytest.raises(AuditUnavailable):
        await AuditLog(BrokenStore()).record(actor=ANALYST, action=REVEAL, target="t")


async def test_endless_conflicts_refuse_the_action() -> None:
    with pytest.raises(AuditUnavailable, match="busy"):
        await AuditLog(AlwaysConflicting(), attempts=3).record(actor=None, action="x", target="t")
