"""Ingest overlaps preparing one batch with writing the previous: on both engines, a case that
shows up in consecutive batches is written once per newer version, whole, and an error in the
stream leaves no write running behind the request."""

from __future__ import annotations

import asyncio
import copy
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from federation.body import Item, Malformed
from federation.ingest import Ingest
from graph import GraphStore
from graph.keyring_store import MemoryKeyStore
from policies.audit import AuditLog, MemoryAuditStore
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from tests.federation.conftest import examples

AS = Principal(client_id="force-AS", scopes=frozenset({"sync:write"}), force="AS")


def ingest(store: GraphStore, tmp_path: Path, batch_size: int) -> Ingest:
    keyring = KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path))
    return Ingest(
        store,
        blind=BlindIndex(os.urandom(32)),
        cipher=FieldCipher(keyring),
        audit=AuditLog(MemoryAuditStore()),
        rules=default_case_rules(),
        batch_size=batch_size,
    )


async def stream(records: list[Any], error: Exception | None = None) -> AsyncIterator[Item]:
    for index, record in enumerate(records):
        yield index, record
    if error is not None:
        raise error


def version(record: dict[str, Any], number: int, phone: str) -> dict[str, Any]:
    out = copy.deepcopy(record) | {"version": number}
    out["suspects"][0]["phones"] = [phone]
    return out


async def test_same_case_in_consecutive_batches(graph_store: GraphStore, tmp_path: Path) -> None:
    case = examples()[0]
    # One record per batch: the second is checked before the first is written, so both look
    # new; the second must still replace the first, not sit beside it or be lost.
    records = [
        version(case, 1, "07700 900001"),
        version(case, 3, "07700 900003"),
        version(case, 2, "07700 900002"),
    ]
    results = await ingest(graph_store, tmp_path, 1).apply(AS, stream(records))
    assert [r.status for r in results] == ["applied", "applied", "stale"]
    rows = await graph_store.read(
        "MATCH (c:Case {key: 'AS:AS-2026-0042'}) "
        "OPTIONAL MATCH (c)-[r:SUSPECT]->(p:Person) "
        "RETURN c.version AS version, count(r) AS suspects"
    )
    assert rows == [{"version": 3, "suspects": 3}]  # name+dob, one phone, one email (no postcode)
    assert (await graph_store.read("MATCH (p:Person) RETURN count(p) AS n"))[0]["n"] == 3


async def test_error_in_the_stream_leaves_no_write_running(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    template = examples()[0]
    records = [template | {"caseRef": f"AS-PIPE-{i}"} for i in range(4)]
    with pytest.raises(Malformed):
        await ingest(graph_store, tmp_path, 1).apply(AS, stream(records, Malformed("broken")))
    pending = [t for t in asyncio.all_tasks() if "_commit" in repr(t.get_coro())]
    assert pending == []
    # Whatever was acknowledged to the graph is whole: every stored case has all its links.
    rows = await graph_store.read(
        "MATCH (c:Case) OPTIONAL MATCH (c)-[r]->() RETURN c.key AS k, count(r) AS n"
    )
    assert rows and {r["n"] for r in rows} == {10}  # the postcode links to nothing
