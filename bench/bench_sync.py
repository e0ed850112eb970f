"""Sync throughput: case summaries through the HTTP API, against raw `UNWIND ... MERGE` Cypher.

Both write the same cases and entities to the same engine in the same run, so the ratio holds
on a noisy machine. The hub runs as its own process (`crossforce serve`), as in production.

    python -m bench.bench_sync --cases 100000
    python -m bench.bench_sync --cases 20000 --graph-uri neo4j://localhost:7687
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.synthetic import case_summaries
from federation.prepare import prepare_case
from graph import GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from graph.queries.baseline import RAW_UPSERT
from policies.blind_index import BlindIndex
from policies.crypto import FieldCipher
from policies.devidp import mint_token
from policies.keys import KeyRing, LocalKeyFile, MemoryKeyStore

RESULTS = Path(__file__).parent / "results"
ENTITY_FIELDS = ("persons", "devices", "accounts", "ips", "media", "victims")


def start_hub(graph_uri: str, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "CROSSFORCE_GRAPH_URI": graph_uri,
        "CROSSFORCE_DATA_DIR": str(data_dir),
        "CROSSFORCE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CROSSFORCE_GRAPH_QUERY_TIMEOUT": "120",
    }
    hub = subprocess.Popen(
        [sys.executable, "-m", "clients.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return hub
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    hub.kill()
    raise RuntimeError("the hub did not become ready")


def batches(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def sync_over_http(url: str, data_dir: Path, cases: list[dict[str, Any]], batch: int,
                         concurrency: int) -> tuple[float, dict[str, int]]:  # fmt: skip
    tokens = {
        force: mint_token(data_dir, url, "crossforce", f"force-{force}")
        for force in {c["force"] for c in cases}
    }
    by_force: dict[str, list[dict[str, Any]]] = {}
    for case in cases:
        by_force.setdefault(case["force"], []).append(case)
    work = [(f, chunk) for f, items in by_force.items() for chunk in batches(items, batch)]
    statuses: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, list[dict[str, Any]]]] = asyncio.Queue()
    for item in work:
        queue.put_nowait(item)

    async def worker(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            force, chunk = queue.get_nowait()
            body = gzip.compress(b"".join(json.dumps(c).encode() + b"\n" for c in chunk), 1)
            response = await http.post(
                "/federation/v1/cases",
                content=body,
                headers={"Authorization": f"Bearer {tokens[force]}", "Content-Encoding": "gzip"},
            )
            response.raise_for_status()
            for result in response.json()["results"]:
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, timeout=300) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return time.perf_counter() - started, statuses


async def raw_rows(cases: list[dict[str, Any]], data_dir: Path) -> list[Any]:
    keyring = KeyRing(MemoryKeyStore(), LocalKeyFile(data_dir / "raw-kek.key"))
    cipher, blind = FieldCipher(keyring), BlindIndex(os.urandom(32))
    now = datetime.now(UTC)
    return [await prepare_case(c, blind=blind, cipher=cipher, now=now) for c in cases]


async def write_raw(store: GraphStore, rows: list[Any], batch: int) -> float:
    started = time.perf_counter()
    for chunk in batches(rows, batch):
        await store.write(RAW_UPSERT, {"cases": chunk}, timeout=300)
    return time.perf_counter() - started


def entity_links(rows: list[Any]) -> int:
    return sum(len(row[field]) for row in rows for field in ENTITY_FIELDS)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    cases = case_summaries(args.cases)
    with tempfile.TemporaryDirectory(prefix="crossforce-bench-") as tmp:
        data_dir = Path(tmp)
        embedded = None
        graph_uri = args.graph_uri
        if graph_uri is None:
            embedded = EmbeddedFalkorDB(data_dir / "engine")
            embedded.start()
            graph_uri = f"falkordb://127.0.0.1:{embedded.port}/api"
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        mint_token(data_dir / "hub", url, "crossforce", "force-AS")  # creates the issuer keys
        hub = start_hub(graph_uri, data_dir / "hub", port)
        try:
            api_seconds, statuses = await sync_over_http(
                url, data_dir / "hub", cases, args.batch, args.concurrency
            )
        finally:
            hub.terminate()
            hub.wait(60)
        rows = await raw_rows(cases, data_dir)
        store: GraphStore
        if embedded is not None:
            store = FalkorDBStore("127.0.0.1", embedded.port, graph_name="raw", query_timeout=300)
        else:
            store = Neo4jStore(graph_uri, query_timeout=300)
            await store.write("MATCH (n:Case) WHERE n.key STARTS WITH 'AS-B' DETACH DELETE n")
        await store.migrate()
        raw_seconds = await write_raw(store, rows, args.batch)
        await store.close()
        if embedded is not None:
            embedded.stop()
    entities = entity_links(rows)
    return {
        "benchmark": "sync",
        "engine": "falkordb" if args.graph_uri is None else args.graph_uri.split(":")[0],
        "cases": args.cases,
        "entity_links": entities,
        "batch": args.batch,
        "concurrency": args.concurrency,
        "statuses": statuses,
        "api": {"seconds": api_seconds, "records_per_s": args.cases / api_seconds,
                "entities_per_s": entities / api_seconds},
        "raw": {"seconds": raw_seconds, "records_per_s": args.cases / raw_seconds,
                "entities_per_s": entities / raw_seconds},
        "api_to_raw": raw_seconds / api_seconds,
        "command": "python -m bench.bench_sync " + " ".join(sys.argv[1:]),
    }  # fmt: skip


def markdown(result: dict[str, Any]) -> str:
    api, raw = result["api"], result["raw"]

    def row(name: str, r: dict[str, float]) -> str:
        return (
            f"| {name} | {r['seconds']:.1f} | {r['records_per_s']:.0f} "
            f"| {r['entities_per_s']:.0f} |"
        )

    return "\n".join(
        [
            f"# Sync: {result['cases']} cases on {result['engine']}",
            "",
            f"`{result['command']}`",
            "",
            "| path | seconds | records/s | entity links/s |",
            "|---|---:|---:|---:|",
            row("HTTP API", api),
            row("raw UNWIND MERGE", raw),
            "",
            f"API rate as a share of the raw rate: {result['api_to_raw']:.0%} "
            f"(statuses: {result['statuses']})",
            "",
        ]
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--graph-uri", default=None, help="default: an embedded FalkorDB")
    args = parser.parse_args()
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    name = f"sync-{result['engine']}-{args.cases}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
