"""The graph goes down mid-sync: 503 with Retry-After, and a re-sync loses and doubles nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from clients.demo import BackgroundServer
from gateway.config import Settings
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from tests.federation.conftest import Hub, examples


def synthetic_cases(count: int) -> list[dict[str, Any]]:
    template = examples()[0]
    cases = []
    for i in range(count):
        case = copy.deepcopy(template)
        case["caseRef"] = f"AS-OUT-{i:05d}"
        case["suspects"][0]["phones"] = [f"07700 9{i:05d}"]
        case["devices"][0]["imei"] = f"35209900{i:06d}"
        cases.append(case)
    return cases


@pytest.fixture
def outage_hub(tmp_path: Path) -> Iterator[tuple[Settings, EmbeddedFalkorDB]]:
    graph = EmbeddedFalkorDB(tmp_path / "graph-owner", port=free_port())
    graph.start()
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{graph.port}",
        graph_retry_for=0.5,
        data_dir=tmp_path / "hub",
        public_url=f"http://127.0.0.1:{port}",
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings, graph
    server.stop()
    graph.stop()


async def test_graph_down_gives_503_and_resync_completes(
    outage_hub: tuple[Settings, EmbeddedFalkorDB],
) -> None:
    settings, graph = outage_hub
    cases = synthetic_cases(200)
    store = FalkorDBStore("127.0.0.1", graph.port)
    async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=30) as http:
        hub = Hub(settings.public_url or "", settings, store, http)
        first = await hub.sync("force-AS", cases[:100])
        assert [r["status"] for r in first.json()["results"]] == ["applied"] * 100

        graph.kill()
        down = await hub.sync("force-AS", cases[100:])
        assert down.status_code == 503
        assert down.headers["Retry-After"].isdigit()
        assert (await http.get("/readyz")).status_code == 503

        graph.start()  # same port, same data dir
        again = await hub.sync("force-AS", cases)
        statuses = [r["status"] for r in again.json()["results"]]
        assert statuses == ["stale"] * 100 + ["applied"] * 100

    rows = await store.read(
        "MATCH (c:Case) OPTIONAL MATCH (c)-[r]->() "
        "RETURN c.caseRef AS ref, count(r) AS rels ORDER BY ref"
    )
    assert [r["ref"] for r in rows] == [c["caseRef"] for c in cases]
    # Every case whole: suspect identifiers (name+dob, phone, email, postcode), one device,
    # one account, one IP, two media, one series and one victim; no case half-written.
    assert {r["rels"] for r in rows} == {11}
    await store.close()
