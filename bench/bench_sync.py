"""Sync throughput: case summaries through the HTTP API, against raw `UNWIND ... MERGE` Cypher.

Both write the same synthetic region (`gateway.demo.region`) to the same engine in the same run, so
the ratio holds on a noisy machine. The hub runs as its own process (`crossforce serve`), as in
production. The region is generated once into one JSON Lines file per force and streamed from
there by both paths, so memory does not grow with `--cases`.

    python -m bench.bench_sync --cases 20000
    python -m bench.bench_sync --cases 20000 --engine neo4j            # starts Neo4j on the JVM
    python -m bench.bench_sync --cases 20000 --engine neo4j --neo4j-uri bolt://localhost:7687

An external Neo4j must be a scratch database: the benchmark refuses one that holds cases unless
`--clear` is given, and then deletes everything in it.

Results: bench/results/sync-<engine>-<cases>[-w<workers>].json and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
import yaml

from federation.prepare import prepare_case
from gateway.demo.region import RegionParams, region_cases
from gateway.demo.server import wait_until_ready
from graph import GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.keyring_store import MemoryKeyStore
from graph.neo4j_adapter import Neo4jStore
from graph.queries import after_sync
from graph.queries.baseline import RAW_UPSERT
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.devidp import mint_token
from policies.keys import KeyRing, LocalKeyFile

RESULTS = Path(__file__).parent / "results"
DEFAULT_POLICIES = Path(__file__).parent.parent / "policies" / "defaults"
ENTITY_FIELDS = ("persons", "devices", "accounts", "ips", "media", "series", "victims")
RAW_PREFIX = "raw:"  # the baseline's keys, apart from the hub's when both share one database


@dataclass
class Engine:
    name: str
    hub_uri: str  # what the hub is pointed at (CROSSFORCE_GRAPH_URI)
    user: str | None = None
    password: str | None = None
    falkordb_port: int | None = None
    pid: int | None = None  # the engine's process, when this run started it

    def raw_store(self) -> GraphStore:
        return self.store("raw")

    def store(self, falkordb_graph: str) -> GraphStore:
        """The engine; on FalkorDB, the named graph (the hub's is `api`, the baseline's `raw`)."""
        if self.falkordb_port is not None:
            return FalkorDBStore(
                "127.0.0.1", self.falkordb_port, graph_name=falkordb_graph, query_timeout=300
            )
        return Neo4jStore(self.hub_uri, user=self.user, password=self.password, query_timeout=300)


# --- the region, written once per force -----------------------------------------------------------


def write_region(params: RegionParams, directory: Path) -> tuple[dict[str, Path], float]:
    """One JSON Lines file per force; the seconds generation and writing took."""
    directory.mkdir(parents=True, exist_ok=True)
    files = {code: directory / f"{code}.jsonl" for code in params.force_codes}
    handles: dict[str, IO[bytes]] = {code: path.open("wb") for code, path in files.items()}
    started = time.perf_counter()
    try:
        for case in region_cases(params):
            handles[case["force"]].write(orjson.dumps(case, option=orjson.OPT_APPEND_NEWLINE))
    finally:
        for handle in handles.values():
            handle.close()
    return files, time.perf_counter() - started


def chunks(path: Path, size: int) -> Iterator[list[bytes]]:
    with path.open("rb") as handle:
        chunk: list[bytes] = []
        for line in handle:
            chunk.append(line)
            if len(chunk) == size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


def round_robin(files: dict[str, Path], size: int) -> Iterator[tuple[str, list[bytes]]]:
    """Batches of every force in turn, as several force systems syncing at once."""
    streams = {force: chunks(path, size) for force, path in files.items()}
    while streams:
        for force in list(streams):
            batch = next(streams[force], None)
            if batch is None:
                del streams[force]
            else:
                yield force, batch


# --- the hub and its policies ---------------------------------------------------------------------


def policy_dir(forces: tuple[str, ...], directory: Path) -> Path:
    """The default policies, with a force client for every force of the region."""
    if set(forces) <= {"AS", "GL", "WI", "DC", "DO"}:
        return DEFAULT_POLICIES
    shutil.copytree(DEFAULT_POLICIES, directory)
    clients_file = directory / "clients.yaml"
    clients = yaml.safe_load(clients_file.read_text())
    clients["forces"] = list(dict.fromkeys([*clients.get("forces", []), *forces]))
    for force in forces:
        clients["clients"][f"force-{force}"] = {"scopes": ["sync:write"], "force": force}
    clients_file.write_text(yaml.safe_dump(clients, sort_keys=False))
    return directory


def start_hub(
    engine: Engine,
    data_dir: Path,
    policies: Path,
    port: int,
    workers: int = 1,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = (
        os.environ
        | dict(env or {})
        | {
            "CROSSFORCE_GRAPH_URI": engine.hub_uri,
            "CROSSFORCE_DATA_DIR": str(data_dir),
            "CROSSFORCE_POLICY_DIR": str(policies),
            "CROSSFORCE_PUBLIC_URL": f"http://127.0.0.1:{port}",
            "CROSSFORCE_GRAPH_QUERY_TIMEOUT": "120",
        }
    )
    if engine.user:
        env["CROSSFORCE_GRAPH_USER"] = engine.user
        env["CROSSFORCE_GRAPH_PASSWORD"] = engine.password or ""
    hub = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if wait_until_ready(f"http://127.0.0.1:{port}", 90, alive=lambda: hub.poll() is None):
        return hub
    hub.kill()
    raise RuntimeError("the hub did not become ready")


async def sync_over_http(
    url: str, tokens: dict[str, str], files: dict[str, Path], batch: int, concurrency: int
) -> tuple[float, dict[str, int]]:
    work = round_robin(files, batch)
    statuses: dict[str, int] = {}

    async def worker(http: httpx.AsyncClient) -> None:
        for force, lines in work:  # one shared iterator: each batch goes to one worker
            body = gzip.compress(b"".join(lines), 1)
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


async def after_sync_settled(store: GraphStore) -> float:
    """Seconds until the hub's background after-sync step (links, regrade alerts) has run for
    every case synced: counted in the API's time, so no work is left out of it."""
    started = time.perf_counter()
    try:
        while True:
            if not (await store.read(after_sync.PENDING_COUNT, timeout=300))[0]["n"]:
                break
            await asyncio.sleep(1.0)  # the count scans every case: asked often, it slows the step
    finally:
        await store.close()
    return time.perf_counter() - started


def cpu_seconds(pid: int | None) -> float:
    """CPU time, user and system, of a running process and its children (Linux `/proc`); 0 when
    unknown (another system, or an engine this run did not start)."""
    if pid is None:
        return 0.0
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    own = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return own + sum(cpu_seconds(int(child)) for child in children)


def cpu_sample(hub: int | None, engine: int | None) -> dict[str, float]:
    """CPU seconds so far of the hub, the graph engine and this client: the difference of two
    samples tells where a path's time went, which its rate alone does not."""
    return {"hub": cpu_seconds(hub), "engine": cpu_seconds(engine),
            "client": time.process_time()}  # fmt: skip


def cpu_per_record(
    before: dict[str, float], after: dict[str, float], records: int
) -> dict[str, float]:
    """Milliseconds of CPU per record, by process."""
    return {part: (after[part] - before[part]) * 1000 / records for part in before}


# --- the baseline ---------------------------------------------------------------------------------


def apart(row: Any) -> Any:
    """The row under keys of its own, so it never merges into what the hub wrote."""
    row["key"] = RAW_PREFIX + row["key"]
    row["props"]["key"] = row["key"]
    for victim in row["victims"]:
        victim["key"] = victim["props"]["key"] = RAW_PREFIX + victim["key"]
    for pair in (*row["depicts"], *row["contactPersons"], *row["contactAccounts"]):
        pair["victim"] = RAW_PREFIX + pair["victim"]
    return row


async def write_raw(
    store: GraphStore, files: dict[str, Path], batch: int, data_dir: Path
) -> tuple[float, int]:
    """Seconds spent writing (preparing rows is not timed) and entity links written."""
    keyring = KeyRing(MemoryKeyStore(), LocalKeyFile(data_dir / "raw-kek.key"))
    cipher, blind = FieldCipher(keyring), BlindIndex(os.urandom(32))
    now, rules = datetime.now(UTC), default_case_rules()
    seconds, links = 0.0, 0
    for _, lines in round_robin(files, batch):
        rows = [
            apart(
                await prepare_case(
                    json.loads(line), blind=blind, cipher=cipher, now=now, rules=rules
                )
            )
            for line in lines
        ]
        links += sum(len(row[field]) for row in rows for field in ENTITY_FIELDS)
        started = time.perf_counter()
        await store.write(RAW_UPSERT, {"cases": rows}, timeout=300)
        seconds += time.perf_counter() - started
    return seconds, links


# --- engines --------------------------------------------------------------------------------------


@contextmanager
def falkordb(directory: Path) -> Iterator[Engine]:
    embedded = EmbeddedFalkorDB(directory, authenticate=False)
    embedded.start()
    try:
        yield Engine("falkordb", f"falkordb://127.0.0.1:{embedded.port}/api",
                     falkordb_port=embedded.port, pid=embedded.pid)  # fmt: skip
    finally:
        embedded.stop()


@asynccontextmanager
async def neo4j(args: argparse.Namespace) -> AsyncIterator[Engine]:
    if args.neo4j_uri:
        engine = Engine("neo4j", args.neo4j_uri, args.neo4j_user, args.neo4j_password)
        await scratch(engine, clear=args.clear)
        yield engine
        return
    from tests.neo4j_server.server import Neo4jServer, java_available

    if not java_available():
        raise SystemExit("--engine neo4j needs Java 17+ and Maven, or --neo4j-uri")
    server = Neo4jServer()
    try:
        uri = server.start()
        yield Engine("neo4j", uri, pid=server.pid)
    finally:
        server.stop()


async def scratch(engine: Engine, *, clear: bool) -> None:
    store = engine.raw_store()
    try:
        held = await store.read("MATCH (c:Case) RETURN count(c) AS n")
        if held[0]["n"] and not clear:
            raise SystemExit(f"{engine.hub_uri} holds cases: pass --clear to delete everything")
        if clear:
            await store.write("MATCH (n) DETACH DELETE n", timeout=3600)
    finally:
        await store.close()


@asynccontextmanager
async def engine_for(args: argparse.Namespace, directory: Path) -> AsyncIterator[Engine]:
    if args.engine == "falkordb":
        with falkordb(directory) as engine:
            yield engine
    else:
        async with neo4j(args) as engine:
            yield engine


# --- the run --------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    params = RegionParams(seed=args.seed, forces=args.forces, cases=args.cases)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="crossforce-bench-") as tmp:
        work = Path(tmp)
        files, generate_seconds = write_region(params, work / "region")
        policies = policy_dir(params.force_codes, work / "policies")
        async with engine_for(args, work / "engine") as engine:
            port = free_port()
            url, hub_dir = f"http://127.0.0.1:{port}", work / "hub"
            tokens = {
                force: mint_token(hub_dir, url, "crossforce", f"force-{force}", policy_dir=policies)
                for force in files
            }  # also creates the issuer's keys before the hub starts
            hub = start_hub(engine, hub_dir, policies, port, args.workers)
            try:
                before = cpu_sample(hub.pid, engine.pid)
                api_seconds, statuses = await sync_over_http(
                    url, tokens, files, args.batch, args.concurrency
                )
                settle_seconds = await after_sync_settled(engine.store("api"))
                api_seconds += settle_seconds
                api_cpu = cpu_per_record(before, cpu_sample(hub.pid, engine.pid), args.cases)
            finally:
                hub.terminate()
                hub.wait(60)
            store = engine.raw_store()
            try:
                await store.migrate()
                before = cpu_sample(None, engine.pid)
                raw_seconds, entities = await write_raw(store, files, args.batch, work)
                raw_engine_cpu = cpu_per_record(before, cpu_sample(None, engine.pid), args.cases)
                # the client's CPU here is mostly preparing rows, which the baseline does not time
                raw_cpu = {"engine": raw_engine_cpu["engine"]}
            finally:
                await store.close()
    return {
        "benchmark": "sync",
        "engine": engine.name,
        "cases": args.cases,
        "forces": args.forces,
        "seed": args.seed,
        "input": "gateway.demo.region (synthetic region generator)",
        "entity_links": entities,
        "batch": args.batch,
        "concurrency": args.concurrency,
        "workers": args.workers,
        "statuses": statuses,
        "generate": {"seconds": generate_seconds, "records_per_s": args.cases / generate_seconds},
        "api": {"seconds": api_seconds, "records_per_s": args.cases / api_seconds,
                "entities_per_s": entities / api_seconds,
                # of `seconds`: after the last answer, until every case's alerts were fed
                "after_sync_wait_seconds": settle_seconds,
                "cpu_ms_per_record": api_cpu},
        "raw": {"seconds": raw_seconds, "records_per_s": args.cases / raw_seconds,
                "entities_per_s": entities / raw_seconds, "cpu_ms_per_record": raw_cpu},
        "api_to_raw": raw_seconds / api_seconds,
        # The machine may be shared: the ratio above is what to compare between runs.
        "load_average": {"before": load_before, "after": os.getloadavg()[0],
                         "cpus": os.cpu_count()},
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
            f"# Sync: {result['cases']} cases of {result['forces']} forces on {result['engine']}",
            "",
            f"`{result['command']}`",
            "",
            "| path | seconds | records/s | entity links/s |",
            "|---|---:|---:|---:|",
            row("HTTP API", api),
            row("raw UNWIND MERGE", raw),
            "",
            f"API rate as a share of the raw rate: {result['api_to_raw']:.0%} "
            f"(statuses: {result['statuses']}; {result['entity_links']} entity links). "
            f"Input: the region generator, {result['generate']['records_per_s']:.0f} cases/s "
            "generated and written. "
            f"Hub: {result.get('workers', 1)} process(es); {result['concurrency']} requests of "
            f"{result['batch']} records in flight; the baseline writes {result['batch']} "
            "records per statement.",
            cpu_line(result),
            load_line(result),
            "",
        ]
    )


def cpu_line(result: dict[str, Any]) -> str:
    """CPU per record by process, where the run could read it (Linux, an engine it started)."""
    api, raw = result["api"].get("cpu_ms_per_record"), result["raw"].get("cpu_ms_per_record")
    if not api or not api["engine"]:
        return ""
    return (
        f"CPU per record: the API path {api['hub']:.2f} ms in the hub, {api['engine']:.2f} ms "
        f"in the graph engine and {api['client']:.2f} ms in this client (gzip, HTTP); "
        f"the baseline {raw['engine']:.2f} ms in the graph engine."
    )


def load_line(result: dict[str, Any]) -> str:
    """The machine's load during a run, for the results' Markdown (both benchmarks)."""
    load = result.get("load_average")
    if not load:
        return ""
    return (
        f"Load average {load['before']:.1f} before and {load['after']:.1f} after, "
        f"on {load['cpus']} CPUs."
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--cases", type=int, default=10_000, help="cases in the region")
    p.add_argument("--forces", type=int, default=5, help="forces in the region (5..43)")
    p.add_argument("--seed", type=int, default=7, help="the region's seed")
    p.add_argument("--engine", choices=("falkordb", "neo4j"), default="falkordb")
    p.add_argument(
        "--neo4j-uri",
        default=os.environ.get("CROSSFORCE_TEST_NEO4J_URI"),
        help="an existing scratch Neo4j (default: start one from Maven Central jars)",
    )
    p.add_argument("--neo4j-user", default=os.environ.get("CROSSFORCE_TEST_NEO4J_USER"))
    p.add_argument("--neo4j-password", default=os.environ.get("CROSSFORCE_TEST_NEO4J_PASSWORD"))
    p.add_argument(
        "--clear", action="store_true", help="delete everything in the --neo4j-uri database first"
    )
    p.add_argument("--batch", type=int, default=500, help="records per request and per UNWIND")
    p.add_argument("--concurrency", type=int, default=2, help="requests in flight")
    p.add_argument("--workers", type=int, default=1, help="hub processes (serve --workers)")
    return p  # fmt: skip


def main() -> None:
    args = parser().parse_args()
    if min(args.cases, args.batch, args.concurrency, args.workers) < 1:
        raise SystemExit("--cases, --batch, --concurrency and --workers must be at least 1")
    result = asyncio.run(run(args))
    RESULTS.mkdir(exist_ok=True)
    workers = f"-w{args.workers}" if args.workers > 1 else ""
    name = f"sync-{result['engine']}-{args.cases}{workers}"
    (RESULTS / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
