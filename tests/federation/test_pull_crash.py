"""Killing the hub mid-pull: a hub process (SIGKILL, no shutdown) restarted on the same graph and
data dir finishes the pull; every case matches the source, none lost, none doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph import GraphStore
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from graph.pull_cursors import PullCursors
from tests.conftest import ENGINES
from tests.federation.pull_fixtures import (
    Source,
    connector_for,
    cursor_position,
    pulled_cases,
    wait_for,
    write_policy_dir,
)

ROOT = Path(__file__).resolve().parents[2]
CASES = 120
CLEAR = "MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n"


@pytest.fixture(params=ENGINES)
async def graph(request: pytest.FixtureRequest) -> Any:
    """(CROSSFORCE_GRAPH_URI, a store on the same graph) on each engine, emptied."""
    store: GraphStore
    if request.param == "falkordb":
        server: EmbeddedFalkorDB = request.getfixturevalue("falkordb_server")
        uri = f"falkordb://127.0.0.1:{server.port}/pullcrash"
        store = FalkorDBStore("127.0.0.1", server.port, graph_name="pullcrash")
    else:
        uri = request.getfixturevalue("neo4j_uri")
        store = Neo4jStore(uri)
    await store.write(CLEAR)
    yield uri, store
    await store.write(CLEAR)  # data keys of this hub's data dir would be useless to the next
    await store.close()


class HubProcess:
    """The hub with its puller, as a separate process that can be killed outright."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        code = (
            "from tests.federation.pull_fixtures import serve_with_pull; "
            f"serve_with_pull({self.port})"
        )
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        deadline = time.monotonic() + 150  # Neo4j on a loaded machine migrates slowly
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError("hub did not become ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


@pytest.fixture
def hub_process(tmp_path: Path, graph: tuple[str, GraphStore]) -> Iterator[Any]:
    uri, _ = graph
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    source = Source()
    source.put(*pulled_cases("WI", CASES))
    # Slow enough per page that the kill lands mid-pull.
    connector = connector_for(source, issuer, delay=0.1).start()
    data_dir = tmp_path / "hub"
    policy_dir = write_policy_dir(
        tmp_path / "policies",
        [
            {
                "force": "WI",
                "url": connector.url,
                "issuer": issuer,
                "client_id": "hub",
                "client_secret": {
                    "file": str(data_dir / "devidp" / "client-secrets.json"),
                    "key": "hub",
                },
                "interval": 0.2,
                "page_size": 5,
                "backoff": {"initial": 0.1, "max": 1.0},
            }
        ],
    )
    env = dict(os.environ) | {
        "CROSSFORCE_GRAPH_URI": uri,
        "CROSSFORCE_DATA_DIR": str(data_dir),
        "CROSSFORCE_POLICY_DIR": str(policy_dir),
        "CROSSFORCE_PUBLIC_URL": issuer,
        # The killed hub's pull lease runs out before the restarted one may take the force.
        "CROSSFORCE_PULL_LEASE_SECONDS": "2",
    }
    hub = HubProcess(env, port, tmp_path / "hub.log")
    yield hub, source, connector.seen
    hub.stop()
    connector.stop()


async def test_killing_the_hub_mid_pull_loses_and_doubles_nothing(
    hub_process: tuple[HubProcess, Source, Callable[[], list[str | None]]],
    graph: tuple[str, GraphStore],
) -> None:
    hub, source, seen = hub_process
    _, store = graph

    async def count() -> int:
        rows = await store.read("MATCH (c:Case {force: 'WI'}) RETURN count(c) AS n")
        return int(rows[0]["n"])

    async def some_pulled() -> bool:
        return await count() >= 20

    hub.start()
    await wait_for(some_pulled, timeout=90, every=0.02)
    hub.kill()
    at_kill = await count()
    assert 20 <= at_kill < CASES, "the kill should land mid-pull"
    requests_before_restart = len(seen())

    hub.start()

    async def all_pulled() -> bool:
        return await count() == CASES

    await wait_for(all_pulled, timeout=120)
    await asyncio.sleep(1.0)  # a few idle polls more: they must change nothing

    rows = await store.read(
        "MATCH (c:Case {force: 'WI'}) OPTIONAL MATCH (c)-[r]->() "
        "RETURN c.caseRef AS ref, c.version AS version, count(r) AS rels ORDER BY ref"
    )
    assert [(r["ref"], r["version"]) for r in rows] == [
        (ref, s["version"]) for ref, s in sorted(source.newest().items())
    ]
    # Every case whole, no relationship written twice (the same as a pushed case).
    # A postcode links to nothing: 10 of them.
    assert {r["rels"] for r in rows} == {10}
    phones = await store.read("MATCH (c:Case)-[:SUSPECT]->(p:Person) RETURN count(p) AS n")
    persons = await store.read("MATCH (p:Person) RETURN count(p) AS n")
    assert phones[0]["n"] == CASES * 3  # name+dob, phone, email per case
    # One shared name+dob and email; one phone each.
    assert persons[0]["n"] == CASES + 2
    # After the restart the hub went on from its stored cursor, not from the start: at most the
    # page applied when it died (5 records) is read again.
    resumed = seen()[requests_before_restart]
    assert resumed is not None and cursor_position(resumed) >= at_kill - 5
    cursor = await PullCursors(store).cursor("WI")
    assert cursor is not None and cursor_position(cursor) == CASES
