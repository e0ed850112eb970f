"""Faults on the embedded engine, with real processes: the graph killed mid-sync, the graph
paused, the gateway killed mid-sync. Afterwards every case is whole: its relationships are exactly
those its summary gives, none lost, none doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from federation.prepare import prepare_case
from gateway.config import Settings
from gateway.demo.region import RegionParams, recent_start, region_cases
from gateway.demo.server import BackgroundServer, wait_until_ready
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.keyring_store import MemoryKeyStore
from policies.blind_index import BlindIndex
from policies.case_rules import default_case_rules
from policies.crypto import FieldCipher
from policies.devidp import mint_token
from policies.keys import KeyRing, LocalKeyFile

pytestmark = pytest.mark.faults

CASES = 1500 if os.environ.get("CROSSFORCE_PROFILE") == "soak" else 400
KINDS = ("persons", "devices", "accounts", "ips", "media", "series", "victims")


def as_cases(count: int) -> list[dict[str, Any]]:
    params = RegionParams(seed=3, forces=5, cases=count * 5, start=recent_start(12))
    return [c for c in region_cases(params) if c["force"] == "AS"][:count]


async def expected_relationships(cases: list[dict[str, Any]], tmp: Path) -> dict[str, int]:
    """What a clean sync of each case writes: its links, counted from the summary itself."""
    cipher = FieldCipher(KeyRing(MemoryKeyStore(), LocalKeyFile(tmp / "kek")))
    blind, now = BlindIndex(os.urandom(32)), datetime.now(UTC)
    counts = {}
    for case in cases:
        row = await prepare_case(
            case, blind=blind, cipher=cipher, now=now, rules=default_case_rules()
        )
        counts[case["caseRef"]] = sum(len(row[kind]) for kind in KINDS)  # type: ignore[literal-required]
    return counts


async def stored_relationships(store: FalkorDBStore) -> dict[str, int]:
    rows = await store.read(
        "MATCH (c:Case) OPTIONAL MATCH (c)-[r]->() RETURN c.caseRef AS ref, count(r) AS rels"
    )
    return {r["ref"]: r["rels"] for r in rows}


async def first_commit(store: FalkorDBStore) -> None:
    """Wait until the sync under way has committed its first batch."""
    for _ in range(1200):
        if await stored_relationships(store):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("nothing was committed within a minute")


def token(settings: Settings, client: str = "force-AS") -> dict[str, str]:
    minted = mint_token(settings.data_dir, settings.public_url or "", settings.audience, client)
    return {"Authorization": f"Bearer {minted}", "Content-Type": "application/x-ndjson"}


def body(cases: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(c).encode() + b"\n" for c in cases)


def settings_for(graph: EmbeddedFalkorDB, tmp_path: Path, **extra: Any) -> Settings:
    port = free_port()
    return Settings(
        graph_uri=f"falkordb://127.0.0.1:{graph.port}/faults",
        data_dir=tmp_path / "hub",
        public_url=f"http://127.0.0.1:{port}",
        **extra,
    )


@pytest.fixture
async def store(graph: EmbeddedFalkorDB) -> AsyncIterator[FalkorDBStore]:
    client = FalkorDBStore("127.0.0.1", graph.port, graph_name="faults")
    await client.migrate()
    yield client
    await client.close()


async def resync_until_whole(settings: Settings, cases: list[dict[str, Any]]) -> None:
    async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=120) as http:
        for _ in range(30):
            try:
                answer = await http.post("/federation/v1/cases", content=body(cases),
                                         headers=token(settings))  # fmt: skip
            except httpx.TransportError:
                await asyncio.sleep(1)
                continue
            if answer.status_code == 200:
                statuses = {r["status"] for r in answer.json()["results"]}
                assert statuses <= {"applied", "stale"}
                return
            await asyncio.sleep(1)
    raise AssertionError("the hub never took the re-sync")


async def test_graph_killed_mid_sync_loses_and_doubles_nothing(
    graph: EmbeddedFalkorDB, store: FalkorDBStore, tmp_path: Path
) -> None:
    cases = as_cases(CASES)
    settings = settings_for(graph, tmp_path, graph_retry_for=0.5)
    server = BackgroundServer(
        settings, "127.0.0.1", int((settings.public_url or "").rsplit(":", 1)[1])
    )
    server.start()
    try:
        async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=120) as http:
            sync = asyncio.create_task(
                http.post("/federation/v1/cases", content=body(cases), headers=token(settings))
            )
            await first_commit(store)
            graph.kill()  # mid-sync: some batches committed, the rest not
            answer = await sync
            assert answer.status_code == 503
        graph.start()
        await resync_until_whole(settings, cases)
    finally:
        server.stop()
    assert await stored_relationships(store) == await expected_relationships(cases, tmp_path)


async def test_a_paused_graph_gives_503_within_the_deadline(
    graph: EmbeddedFalkorDB, store: FalkorDBStore, tmp_path: Path
) -> None:
    settings = settings_for(graph, tmp_path, graph_query_timeout=2.0, graph_retry_for=0.5)
    server = BackgroundServer(
        settings, "127.0.0.1", int((settings.public_url or "").rsplit(":", 1)[1])
    )
    server.start()
    pid = graph.pid
    assert pid is not None
    try:
        os.kill(pid, signal.SIGSTOP)
        started = time.monotonic()
        async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=60) as http:
            answer = await http.post("/federation/v1/cases", content=body(as_cases(5)),
                                     headers=token(settings))  # fmt: skip
        waited = time.monotonic() - started
        assert answer.status_code == 503
        assert waited < 2.0 * 2 + 0.5 + 3  # query timeout, one retry window, and slack
    finally:
        os.kill(pid, signal.SIGCONT)
        server.stop()


async def test_gateway_killed_mid_sync_loses_and_doubles_nothing(
    graph: EmbeddedFalkorDB, store: FalkorDBStore, tmp_path: Path
) -> None:
    cases = as_cases(CASES)
    settings = settings_for(graph, tmp_path)
    port = int((settings.public_url or "").rsplit(":", 1)[1])
    env = os.environ | {
        "CROSSFORCE_GRAPH_URI": settings.graph_uri or "",
        "CROSSFORCE_DATA_DIR": str(settings.data_dir),
        "CROSSFORCE_PUBLIC_URL": settings.public_url or "",
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]

    def serve() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        if wait_until_ready(settings.public_url or "", 120):
            return process
        process.kill()
        raise AssertionError("the hub did not start")

    hub = serve()
    try:
        async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=120) as http:
            sync = asyncio.create_task(
                http.post("/federation/v1/cases", content=body(cases), headers=token(settings))
            )
            await first_commit(store)
            hub.send_signal(signal.SIGKILL)
            with pytest.raises(httpx.TransportError):
                await sync
        hub.wait(30)
        hub = serve()
        await resync_until_whole(settings, cases)
    finally:
        hub.kill()
        hub.wait(30)
    assert await stored_relationships(store) == await expected_relationships(cases, tmp_path)
