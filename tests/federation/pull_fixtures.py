"""What the pull tests share: force connectors on loopback (each a process of its own, from the
connector's environment), a puller beside the hub, case data."""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from federation.ingest import Ingest
from federation.pull import Puller, PullState
from gateway.config import Settings
from gateway.demo.connector import ConnectorProcess, write_feed
from gateway.demo.server import BackgroundServer
from gateway.protection import Protection, build_protection
from graph import GraphStore
from graph.embedded import free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from policies.pull import PullSource
from tests.federation.conftest import _graph_uri as graph_uri
from tests.federation.conftest import examples

AsgiApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]


class ThreadServer:
    """Uvicorn in a thread on a free loopback port."""

    def __init__(self, app: AsgiApp, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> ThreadServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def pulled_cases(force: str, count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """`count` valid case summaries of `force`, each with its own phone and IMEI."""
    template = examples()[0]
    cases = []
    for i in range(start, start + count):
        case = copy.deepcopy(template)
        case["force"] = force
        case["caseRef"] = f"{force}-PULL-{i:05d}"
        case["suspects"][0]["phones"] = [f"07700 8{i:05d}"]
        case["devices"][0]["imei"] = f"35209911{i:06d}"
        cases.append(case)
    return cases


@dataclass
class Source:
    """A force system's data: summaries with a change sequence, as its database would hold,
    written to the JSON-lines file its connector serves (the line number is the sequence)."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    folder: tempfile.TemporaryDirectory[str] = field(
        default_factory=lambda: tempfile.TemporaryDirectory(prefix="crossforce-pull-")
    )

    @property
    def feed(self) -> Path:
        return Path(self.folder.name) / "feed.jsonl"

    def put(self, *summaries: dict[str, Any]) -> None:
        with self.lock:
            for summary in summaries:
                self.rows.append((len(self.rows) + 1, copy.deepcopy(summary)))
            write_feed(self.feed, [summary for _, summary in self.rows])

    def snapshot(self) -> list[tuple[int, dict[str, Any]]]:
        with self.lock:
            return [(seq, copy.deepcopy(summary)) for seq, summary in self.rows]

    def newest(self) -> dict[str, dict[str, Any]]:
        """caseRef -> the newest version held."""
        best: dict[str, dict[str, Any]] = {}
        for _, summary in self.snapshot():
            held = best.get(summary["caseRef"])
            if held is None or summary["version"] > held["version"]:
                best[summary["caseRef"]] = summary
        return best


def connector_for(
    source: Source, issuer: str, *, delay: float = 0.0, fail: bool = False
) -> ConnectorProcess:
    """The connector over `source` in a process of its own (not started), optionally slow or
    answering 503 to everything."""
    if not source.feed.exists():
        write_feed(source.feed, [])
    return ConnectorProcess(source.feed, issuer, delay=delay, fail_status=503 if fail else None)


@contextmanager
def serving(
    source: Source, issuer: str, *, delay: float = 0.0, fail: bool = False
) -> Iterator[ConnectorProcess]:
    connector = connector_for(source, issuer, delay=delay, fail=fail).start()
    try:
        yield connector
    finally:
        connector.stop()


def cursor_position(cursor: str) -> Any:
    """The feed position a connector's cursor names (the test knows the connector's format)."""
    text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    return json.loads(text)[0]


def pull_source(force: str, connector_url: str, settings: Settings, **options: Any) -> PullSource:
    """A pull.yaml entry for `force`, with the hub's `hub` client of its development issuer."""
    entry: dict[str, Any] = {
        "force": force,
        "url": connector_url,
        "issuer": settings.public_url,
        "client_id": "hub",
        "client_secret": {
            "file": str(settings.data_dir / "devidp" / "client-secrets.json"),
            "key": "hub",
        },
        "interval": 0.2,
        "page_size": 10,
        "timeout": 5,
        "backoff": {"initial": 0.1, "max": 1.0},
    }
    entry.update(options)
    return PullSource.model_validate(entry)


def ingest_beside(settings: Settings, store: GraphStore) -> tuple[Ingest, Protection]:
    """The ingest a second hub replica would use: same graph, same data dir."""
    protection = build_protection(settings, store)
    ingest = Ingest(
        store,
        blind=protection.blind,
        cipher=protection.cipher,
        audit=protection.audit,
        rules=protection.case_rules,
    )
    return ingest, protection


async def wait_for(
    check: Callable[[], Awaitable[bool]], timeout: float = 60.0, every: float = 0.1
) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(every)


def caught_up(puller: Puller, force: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        state: PullState = puller.state()[force]
        return state.caught_up_at is not None

    return check


def write_policy_dir(target: Path, sources: list[dict[str, Any]]) -> Path:
    """Default clients and sharing agreements, plus a pull.yaml listing `sources`."""
    defaults = Path(__file__).resolve().parents[2] / "policies" / "defaults"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("clients.yaml", "sharing.yaml"):
        (target / name).write_text((defaults / name).read_text())
    (target / "pull.yaml").write_text(json.dumps({"forces": sources}))
    return target


def started_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The federation tests' hub, given longer to become ready: a Neo4j started on a loaded
    machine can take more than a minute to migrate."""
    port = free_port()
    settings = Settings(
        graph_uri=graph_uri(request),
        data_dir=tmp_path_factory.mktemp("hub"),
        public_url=f"http://127.0.0.1:{port}",
    )
    # Data keys left by another module's hub are wrapped by another data dir's key: start clean,
    # and leave clean for the next module.
    asyncio.run(wipe(settings.graph_uri or ""))
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.thread.start()
    deadline = time.monotonic() + 150
    while not _ready(server.url):
        # A server that could not bind its port (taken since `free_port`) ends its thread.
        if time.monotonic() > deadline or not server.thread.is_alive():
            server.stop()
            raise RuntimeError(f"the hub at {server.url} did not become ready")
        time.sleep(0.2)
    yield settings
    server.stop()
    asyncio.run(wipe(settings.graph_uri or ""))


async def wipe(uri: str) -> None:
    """Delete everything but the schema version from the graph a test hub used."""
    store: GraphStore
    if uri.startswith("falkordb://"):
        address, _, name = uri.removeprefix("falkordb://").partition("/")
        store = FalkorDBStore("127.0.0.1", int(address.rsplit(":", 1)[1]), graph_name=name)
    else:
        store = Neo4jStore(uri)
    try:
        await store.write("MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n")
    finally:
        await store.close()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def serve_with_pull(port: int) -> None:
    """`crossforce serve` (settings from the environment): the app starts the puller that
    `pull.yaml` in the policy dir names. Run in a subprocess by the crash test."""
    from gateway.app import create_app

    uvicorn.run(create_app(Settings()), host="127.0.0.1", port=port, log_level="warning")
