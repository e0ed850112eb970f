"""Every sync request is audited once, with its counts; a flood of refused records makes one
bounded entry, not one per record, and no value from a record reaches the log."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from federation.ingest import Ingest
from graph import GraphStore
from graph.audit_store import GraphAuditStore
from graph.keyring_store import MemoryKeyStore
from policies.audit import AuditLog
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from policies.principal import Principal
from tests.federation.conftest import examples
from tests.federation.test_ingest_pipeline import stream

GL = Principal(client_id="force-GL", scopes=frozenset({"sync:write"}), force="GL", token_id="t")
ENTRIES = (
    "MATCH (e:AuditEntry) RETURN e.action AS action, e.actor AS actor, e.target AS target, "
    "e.outcome AS outcome, e.purpose AS purpose, e.detail AS detail ORDER BY e.seq"
)


def audited_ingest(store: GraphStore, tmp_path: Path) -> tuple[Ingest, AuditLog]:
    audit = AuditLog(GraphAuditStore(store))
    keyring = KeyRing(MemoryKeyStore(), LocalKeyFile.in_data_dir(tmp_path))
    ingest = Ingest(
        store,
        blind=BlindIndex(os.urandom(32)),
        cipher=FieldCipher(keyring),
        audit=audit,
        rules=default_case_rules(),
    )
    return ingest, audit


async def test_a_flood_of_other_force_records_makes_one_bounded_entry(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    huge_force = "X" * 200_000
    as_case, gl_case = examples()
    flood: list[Any] = [
        as_case | {"caseRef": f"AS-FLOOD-{n}", "force": huge_force if n % 2 else "AS"}
        for n in range(600)  # more than two batches of 250
    ]
    ingest, audit = audited_ingest(graph_store, tmp_path)

    results = await ingest.apply(GL, stream([*flood, gl_case]))

    assert [r.status for r in results] == ["rejected"] * 600 + ["applied"]
    rows = await graph_store.read(ENTRIES)
    assert [(row["action"], row["outcome"]) for row in rows] == [
        ("sync.write_other_force", "denied"),
        ("sync", "ok"),
    ]
    refused, sync = rows
    assert refused["target"] == sync["target"] == "force:GL"
    assert refused["detail"] == "600 records for another force refused"
    assert sync["detail"].startswith("received=601 applied=1 stale=0 rejected=600 other_force=600 ")
    assert all(len(str(value)) < 160 for row in rows for value in row.values())
    assert "XXXX" not in str(rows) and "AS-FLOOD" not in str(rows)
    assert (await audit.verify()).ok


async def test_each_sync_request_is_audited_with_its_counts(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    _, gl_case = examples()
    ingest, _ = audited_ingest(graph_store, tmp_path)
    await ingest.apply(GL, stream([gl_case]))
    await ingest.apply(GL, stream([gl_case, gl_case | {"version": 99}]))

    rows = await graph_store.read(ENTRIES)
    assert [(row["action"], row["actor"], row["detail"]) for row in rows] == [
        (
            "sync",
            "force-GL",
            "received=1 applied=1 stale=0 rejected=0 other_force=0 new_cases=0 "
            "new_identifiers=0 linking_identifiers=0",
        ),
        (
            "sync",
            "force-GL",
            "received=2 applied=1 stale=1 rejected=0 other_force=0 new_cases=0 "
            "new_identifiers=0 linking_identifiers=0",
        ),
    ]
    assert gl_case["caseRef"] not in str(rows)
