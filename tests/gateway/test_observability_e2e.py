"""Operations end to end: a real hub on each engine syncs the two-force example with structured
logging on; its logs and its metrics hold no clear personal value. And `crossforce serve`,
sent SIGTERM mid-sync, answers that sync completely before it exits."""

from __future__ import annotations

import asyncio
import gzip
import io
import itertools
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
import uvicorn
from prometheus_client import REGISTRY

from federation.sensitive import sensitive_values
from gateway.app import create_app
from gateway.config import Settings
from gateway.demo.region import RegionParams, region_cases
from gateway.demo.server import wait_until_ready
from gateway.observability import configure_logging, install
from graph import GraphConnection, GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.metrics import MeasuredGraphStore
from graph.neo4j_adapter import Neo4jStore
from policies.devidp import mint_token
from tests.conftest import ENGINES

EXAMPLES = Path(__file__).parents[1] / "federation" / "data" / "two-forces.jsonl"
CLEAR = "MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n"
LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "httpx", "httpcore")


def examples() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EXAMPLES.read_text().splitlines() if line.strip()]


def clear_values(records: list[dict[str, Any]]) -> set[str]:
    """Every sensitive value the records hold, as written and in the plain forms a careless
    log line might use (lower case, without spaces)."""
    found: set[str] = set()
    for record in records:
        for _, value in sensitive_values(record):
            found |= {value, value.lower(), value.replace(" ", "")}
    return {v for v in found if v}


def leaks(text: str, values: set[str]) -> list[str]:
    """Values found in `text`; short ones only as whole words, so "Doe" is not found in "does"."""
    return sorted(
        v
        for v in values
        if (re.search(rf"(?<![\w]){re.escape(v)}(?![\w])", text) if len(v) < 6 else v in text)
    )


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


class ThreadedHub:
    """The composed app with observability installed, under uvicorn in a thread, its process
    logging going to `stream` exactly as `crossforce serve` configures it."""

    def __init__(self, settings: Settings, graph: GraphConnection, port: int) -> None:
        app = create_app(settings, graph=graph)
        install(app, settings)
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.thread.start()
        # Neo4j's first migrations take a while on a busy two-core machine.
        if not wait_until_ready(self.url, 180):
            raise RuntimeError("hub not ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@dataclass
class LoggedHub:
    url: str
    settings: Settings
    logs: io.StringIO
    engine: str


@pytest.fixture
def process_logs() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(lg.handlers[:], lg.level, lg.propagate) for lg in loggers]
    configure_logging(Settings(log_format="json", log_level="debug"), stream)
    yield stream
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate
    structlog.reset_defaults()


def _store(request: pytest.FixtureRequest) -> GraphStore:
    if request.param == "falkordb":
        server: EmbeddedFalkorDB = request.getfixturevalue("falkordb_server")
        return FalkorDBStore("127.0.0.1", server.port, graph_name="observability")
    return Neo4jStore(request.getfixturevalue("neo4j_uri"))


@pytest.fixture(params=ENGINES)
async def logged_hub(
    request: pytest.FixtureRequest, tmp_path: Path, process_logs: io.StringIO
) -> AsyncIterator[LoggedHub]:
    store = _store(request)
    await store.migrate()
    await store.write(CLEAR)
    # The hub's own client of the same graph: it runs on the server thread's event loop.
    hub_store = _store(request)
    port = free_port()
    settings = Settings(
        data_dir=tmp_path / "hub",
        public_url=f"http://127.0.0.1:{port}",
        log_format="json",
        log_level="debug",
    )
    # The graph wrapped as the composition root wraps it, so graph latency is measured too.
    hub = ThreadedHub(settings, GraphConnection(MeasuredGraphStore(hub_store)), port)
    await asyncio.to_thread(hub.start)
    try:
        yield LoggedHub(hub.url, settings, process_logs, store.engine)
    finally:
        await asyncio.to_thread(hub.stop)
        # Its data keys are wrapped by this test's own key: on Neo4j, whose one database later
        # modules' hubs share, they would not unwrap there.
        await store.write(CLEAR)
        await store.close()


def token(settings: Settings, client_id: str) -> str:
    return mint_token(settings.data_dir, settings.public_url or "", settings.audience, client_id)


async def sync_examples(hub: LoggedHub, http: httpx.AsyncClient) -> dict[str, int]:
    """Each force pushes its own records (NDJSON, gzip) and reads its change feed."""
    by_force: dict[str, list[dict[str, Any]]] = {}
    for record in examples():
        by_force.setdefault(record["force"], []).append(record)
    for force, records in sorted(by_force.items()):
        headers = {
            "Authorization": f"Bearer {token(hub.settings, f'force-{force}')}",
            "Content-Encoding": "gzip",
            "X-Request-Id": f"sync-{force}-0001",
        }
        body = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records))
        response = await http.post("/federation/v1/cases", content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["x-request-id"] == f"sync-{force}-0001"
        assert {r["status"] for r in response.json()["results"]} == {"applied"}
        changes = await http.get("/federation/v1/changes", headers=headers)
        assert changes.status_code == 200
    return {force: len(records) for force, records in by_force.items()}


async def test_a_full_sync_logs_and_measures_without_clear_personal_data(
    logged_hub: LoggedHub,
) -> None:
    values = clear_values(examples())
    assert len(values) > 20  # the scan looks for something
    before = {
        force: sample("crossforce_sync_records_total", force=force, result="applied")
        for force in ("AS", "GL")
    }
    async with httpx.AsyncClient(base_url=logged_hub.url, timeout=60) as http:
        counts = await sync_examples(logged_hub, http)
        # A refused request is logged too, with its token in the header only.
        refused = await http.post(
            "/federation/v1/cases",
            content=b'{"familyName": "Doe"}',
            headers={"Authorization": "Bearer not-a-token"},
        )
        assert refused.status_code == 401
        exposition = (await http.get("/metrics")).text

    logs = logged_hub.logs.getvalue()
    lines = [json.loads(line) for line in logs.splitlines()]
    synced = [
        line
        for line in lines
        if line.get("route") == "/federation/v1/cases" and line.get("status") == 200
    ]
    assert [line["request_id"] for line in synced] == ["sync-AS-0001", "sync-GL-0001"]
    assert leaks(logs, values) == []
    assert leaks(exposition, values) == []

    for force, count in counts.items():
        applied = sample("crossforce_sync_records_total", force=force, result="applied")
        assert applied - before[force] == count
    assert 'crossforce_sync_records_total{force="AS",result="applied"}' in exposition
    assert (
        sample(
            "crossforce_graph_query_duration_seconds_count",
            engine=logged_hub.engine,
            call="write",
            outcome="ok",
        )
        > 0
    )
    assert sample("crossforce_audit_entries_total", action="key.create", outcome="ok") >= 2
    assert sample("crossforce_data_key_version", force="AS") >= 1


# --- Graceful shutdown -----------------------------------------------------------------------


def serve(tmp_path: Path, graph_uri: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CROSSFORCE_GRAPH_URI": graph_uri,
        "CROSSFORCE_DATA_DIR": str(tmp_path / "hub"),
        "CROSSFORCE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "CROSSFORCE_GRACEFUL_SHUTDOWN_SECONDS": "120",
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    with log.open("wb") as output:  # a file, not a pipe nobody drains
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)


async def wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    async with httpx.AsyncClient(timeout=2) as http:
        for _ in range(300):
            assert process.poll() is None, "crossforce serve exited early"
            try:
                if (await http.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError("crossforce serve was not ready")


async def case_count(store: GraphStore) -> int:
    rows = await store.read("MATCH (c:Case) RETURN count(c) AS n")
    return int(rows[0]["n"])


async def test_sigterm_mid_sync_finishes_the_sync_before_exiting(
    tmp_path: Path, falkordb_server: EmbeddedFalkorDB
) -> None:
    graph = f"shutdown{time.monotonic_ns()}"
    store = FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name=graph)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    region = region_cases(RegionParams(cases=10_000))
    records = list(itertools.islice((c for c in region if c["force"] == "AS"), 2000))
    body = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records))
    log = tmp_path / "serve.log"
    process = serve(tmp_path, f"falkordb://127.0.0.1:{falkordb_server.port}/{graph}", port, log)
    try:
        await wait_ready(url, process)
        access = mint_token(tmp_path / "hub", url, "crossforce", "force-AS")
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            sync = asyncio.create_task(
                http.post(
                    "/federation/v1/cases",
                    content=body,
                    headers={"Authorization": f"Bearer {access}", "Content-Encoding": "gzip"},
                )
            )
            while await case_count(store) == 0:  # the hub is applying the batch
                assert not sync.done(), "the sync ended before any record was stored"
                await asyncio.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            stored_at_signal = await case_count(store)
            response = await sync
        exit_code = await asyncio.to_thread(process.wait, 120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = log.read_text()
    assert stored_at_signal < len(records), "the sync finished before SIGTERM: nothing proven"
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert len(results) == len(records)
    assert {r["status"] for r in results} == {"applied"}
    # uvicorn re-raises the signal once it has shut down cleanly: "killed by SIGTERM" is a clean
    # exit here; a timeout or a crash would show otherwise.
    assert exit_code in (0, -signal.SIGTERM), output
    assert "Waiting for connections to close" in output
    assert await case_count(store) == len(records)
    await store.close()
