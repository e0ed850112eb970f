"""A graph that cannot write to its disk: the hub says it is not ready and answers syncs 503
with Retry-After, applying nothing, instead of a traceback or records "rejected".

The full disk is the graph server's own refusal: its data directory is gone, so a snapshot
fails, and with snapshots configured the server refuses every write (and PING) with "MISCONF",
as it does when the disk is full."""

from __future__ import annotations

import asyncio
import gzip
import json
import shutil
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from gateway.config import Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from policies.devidp import mint_token
from tests.federation.conftest import examples


@dataclass
class FullDiskHub:
    settings: Settings
    graph: EmbeddedFalkorDB
    store: FalkorDBStore
    http: httpx.AsyncClient

    def token(self, client_id: str) -> str:
        url = self.settings.public_url or ""
        return mint_token(self.settings.data_dir, url, self.settings.audience, client_id)

    async def sync(self, records: list[dict[str, Any]]) -> httpx.Response:
        body = gzip.compress(b"".join(json.dumps(r).encode() + b"\n" for r in records))
        headers = {
            "Authorization": f"Bearer {self.token('force-AS')}",
            "Content-Encoding": "gzip",
        }
        return await self.http.post("/federation/v1/cases", content=body, headers=headers)

    async def case_count(self) -> int:
        rows = await self.store.read("MATCH (c:Case) RETURN count(c) AS n")
        return int(rows[0]["n"]) if rows else 0

    async def fill_the_disk(self) -> None:
        await asyncio.to_thread(fill_the_disk, self.graph)


def fill_the_disk(server: EmbeddedFalkorDB) -> None:
    """Leave the server unable to persist, as a full disk does: writes then fail MISCONF."""
    shutil.rmtree(server.data_dir)
    client = redis.Redis(host="127.0.0.1", port=server.port)
    client.config_set("save", "3600 1")
    client.bgsave()
    for _ in range(100):
        if client.info("persistence")["rdb_last_bgsave_status"] == "err":
            return
        time.sleep(0.05)
    raise AssertionError("the snapshot did not fail")


@pytest.fixture
async def full_disk_hub(tmp_path: Path) -> AsyncIterator[FullDiskHub]:
    graph = EmbeddedFalkorDB(tmp_path / "graph", authenticate=False)
    graph.start()
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{graph.port}/full",
        data_dir=tmp_path / "hub",
        public_url=f"http://127.0.0.1:{port}",
        graph_retry_for=0.2,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    store = FalkorDBStore("127.0.0.1", graph.port, graph_name="full")
    try:
        async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=30) as http:
            yield FullDiskHub(settings, graph, store, http)
    finally:
        await store.close()
        server.stop()
        graph.data_dir.mkdir(parents=True, exist_ok=True)
        graph.kill()


async def test_readiness_is_a_short_503_when_the_graph_refuses_writes(
    full_disk_hub: FullDiskHub,
) -> None:
    await full_disk_hub.fill_the_disk()
    response = await full_disk_hub.http.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Traceback" not in response.text
    assert len(response.text) < 200


async def test_a_sync_the_graph_cannot_write_is_a_503_with_nothing_applied(
    full_disk_hub: FullDiskHub,
) -> None:
    record = next(r for r in examples() if r["force"] == "AS")
    records = [{**record, "caseRef": f"AS-2026-{n:04d}"} for n in range(900, 905)]
    first = await full_disk_hub.sync(records[:1])  # the force's data key now exists
    assert first.status_code == 200, first.text
    await full_disk_hub.fill_the_disk()
    response = await full_disk_hub.sync(records[1:])
    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert "results" not in response.json()
    assert await full_disk_hub.case_count() == 1
