"""The sync benchmark: its baseline writes what the hub writes, and the run works end to end."""

from __future__ import annotations

import copy
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench.bench_sync import apart, parser, run
from federation.prepare import prepare_case
from gateway.demo.region import RegionParams, region_cases
from graph.cases import insert_cases
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from graph.keyring_store import MemoryKeyStore
from graph.queries.baseline import RAW_UPSERT
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.keys import KeyRing, LocalKeyFile
from tests.federation.conftest import examples
from tests.neo4j_server.server import java_available

# Per label: nodes, their property names, and the relationships going out, by type and names.
SHAPE = """
MATCH (n) WITH labels(n)[0] AS label, n
OPTIONAL MATCH (n)-[r]->()
RETURN label, count(DISTINCT n) AS nodes, collect(DISTINCT keys(n)) AS names,
       count(r) AS relationships, collect(DISTINCT [type(r)] + keys(r)) AS relationship_names
ORDER BY label
"""


async def shape(store: FalkorDBStore) -> list[dict[str, Any]]:
    def sort(lists: list[list[str]]) -> list[list[str]]:
        return sorted(sorted(names) for names in lists)

    return [
        row | {"names": sort(row["names"]), "relationship_names": sort(row["relationship_names"])}
        for row in await store.read(SHAPE)
    ]


async def test_the_baseline_writes_the_nodes_and_relationships_the_hub_writes(
    falkordb_server: EmbeddedFalkorDB, tmp_path: Path
) -> None:
    cipher = FieldCipher(KeyRing(MemoryKeyStore(), LocalKeyFile(tmp_path / "kek.key")))
    blind, now = BlindIndex(os.urandom(32)), datetime.now(UTC)
    records = [*examples(), *region_cases(RegionParams(seed=3, cases=120))]
    rows = [
        await prepare_case(r, blind=blind, cipher=cipher, now=now, rules=default_case_rules())
        for r in records
    ]
    assert all(any(row[pairs] for row in rows) for pairs in ("depicts", "contactAccounts"))

    hub = FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name="bench-hub-shape")
    raw = FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name="bench-raw-shape")
    try:
        await insert_cases(hub, copy.deepcopy(rows))
        await raw.write(RAW_UPSERT, {"cases": [apart(copy.deepcopy(row)) for row in rows]})
        hub_shape, raw_shape = await shape(hub), await shape(raw)
    finally:
        for store in (hub, raw):
            await store.write("MATCH (n) DETACH DELETE n")
            await store.close()
    assert hub_shape == raw_shape
    assert {row["label"] for row in hub_shape} >= {"Case", "Person", "Media", "Victim"}


@pytest.mark.parametrize("engine", ["falkordb", "neo4j"])
async def test_the_sync_benchmark_runs_both_paths_and_says_where_the_cpu_went(
    engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Neo4j the benchmark starts the JVM itself, so it reads the JVM's CPU too."""
    if engine == "neo4j":
        monkeypatch.delenv("CROSSFORCE_TEST_NEO4J_URI", raising=False)
        if not java_available():
            pytest.fail("the Neo4j benchmark needs Java 17+ and Maven")
    args = parser().parse_args(["--cases", "60", "--batch", "20", "--engine", engine])

    result = await run(args)

    assert result["statuses"] == {"applied": 60}
    assert result["entity_links"] > 60
    assert result["api"]["records_per_s"] > 0 and result["raw"]["records_per_s"] > 0
    api_cpu, raw_cpu = result["api"]["cpu_ms_per_record"], result["raw"]["cpu_ms_per_record"]
    assert api_cpu["hub"] > 0 and api_cpu["engine"] > 0 and raw_cpu["engine"] > 0
