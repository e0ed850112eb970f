"""Two (or more) hub replicas as separate processes on one Neo4j, as the Helm chart runs them.

The region's identity provider runs in the test process (as an external issuer would), so that
the replicas share it and any one of them can be killed; they share the data dir too (the
key-encryption key, the audit key), as replicas share their Secrets. The graph is the session's
Neo4j, emptied before and after each test.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.config import Settings
from gateway.protection import build_protection
from graph import GraphStore
from graph.embedded import free_port
from policies.devidp import load_client_secrets, mint_token, provider
from policies.scopes import load_clients
from tests.conftest import CLEAR, DROP_DATA_KEYS
from tests.federation.pull_fixtures import ThreadServer

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICY_DIR = ROOT / "policies" / "defaults"
SOAK = os.environ.get("CROSSFORCE_PROFILE") == "soak"
# Short bounds for the tests; the defaults (docs/operations.md) are the same rules, longer.
LEASE_SECONDS = 3.0
STALE_SECONDS = 2.0
KEY_RECHECK_SECONDS = 1.0
METRIC = re.compile(r'^(\w+)\{force="(\w+)"(?:,result="(\w+)")?\} ([0-9.e+-]+)$', re.M)


class Replica:
    """One hub process; `kill` ends it outright, as a lost node would."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Replica:
        code = f"from tests.replicas.hub import serve; serve({self.port})"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-c", code], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        return self

    def wait_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None and self.process.poll() is None, self.tail()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"replica did not become ready: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text()[-3000:] if self.log.exists() else ""

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

    def metrics(self, force: str) -> dict[str, float]:
        """This replica's Prometheus series of one force, by name (and `:result` where the series
        has one); development hubs serve them without a token."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return {
            f"{name}:{result}" if result else name: float(value)
            for name, owner, result, value in METRIC.findall(text)
            if owner == force
        }


@dataclass
class Region:
    uri: str
    store: GraphStore
    data_dir: Path
    issuer: str
    tmp: Path
    replicas: list[Replica] = field(default_factory=list)

    def token(self, client_id: str) -> str:
        return mint_token(self.data_dir, self.issuer, "crossforce", client_id)

    def env(self, **extra: str) -> dict[str, str]:
        return (
            dict(os.environ)
            | {
                "CROSSFORCE_GRAPH_URI": self.uri,
                "CROSSFORCE_DATA_DIR": str(self.data_dir),
                "CROSSFORCE_OIDC_ISSUER": self.issuer,
                "CROSSFORCE_LOG_LEVEL": "warning",
                "CROSSFORCE_PULL_LEASE_SECONDS": str(LEASE_SECONDS),
                "CROSSFORCE_AFTER_SYNC_STALE_SECONDS": str(STALE_SECONDS),
                "CROSSFORCE_KEY_RECHECK_SECONDS": str(KEY_RECHECK_SECONDS),
            }
            | extra
        )

    def launch(self, **extra: str) -> Replica:
        """One more replica, started (not yet ready); `extra` adds to its environment."""
        replica = Replica(self.env(**extra), self.tmp / f"replica-{len(self.replicas)}.log")
        self.replicas.append(replica.start())
        return replica

    def start(self, count: int, **extra: str) -> list[Replica]:
        """`count` replicas, started side by side and ready."""
        started = [self.launch(**extra) for _ in range(count)]
        for replica in started:
            replica.wait_ready()
        return started

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`crossforce ...` as an operator runs it beside the replicas (same graph and keys)."""
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args],
            cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip


@pytest.fixture
async def region(neo4j_store: GraphStore, neo4j_uri: str, tmp_path: Path) -> AsyncIterator[Region]:
    await neo4j_store.write(CLEAR)
    await neo4j_store.write(DROP_DATA_KEYS)
    data_dir = tmp_path / "hub"
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    # The data dir as the first replica would make it: signing key, client secrets, the KEK
    # and the audit key, made once here rather than raced for by two starting replicas.
    idp = provider(data_dir, issuer=issuer, policy_dir=DEFAULT_POLICY_DIR)
    load_client_secrets(data_dir, load_clients(DEFAULT_POLICY_DIR / "clients.yaml"))
    protection = build_protection(Settings(data_dir=data_dir, public_url=issuer), neo4j_store)
    await protection.aclose()
    issuer_server = ThreadServer(Starlette(routes=idp.routes()), port=port).start()
    region = Region(neo4j_uri, neo4j_store, data_dir, issuer, tmp_path)
    try:
        yield region
    finally:
        for replica in region.replicas:
            replica.stop()
        issuer_server.stop()
        await neo4j_store.write(CLEAR)
        await neo4j_store.write(DROP_DATA_KEYS)


async def wait_until(check: Any, timeout: float, every: float = 0.05) -> float:
    """Seconds until `check()` (sync or async) was true; AssertionError after `timeout`."""
    started = time.monotonic()
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not reached within {timeout} s")
        await asyncio.sleep(every)


def secret_of(data_dir: Path, client_id: str) -> str:
    return load_client_secrets(data_dir, load_clients(DEFAULT_POLICY_DIR / "clients.yaml"))[
        client_id
    ]


def cases(force: str, count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """`count` valid case summaries of `force`; case i has phone i and IMEI i, and nothing else
    it shares with other cases: the same i in two forces links them, by two kinds of entity."""
    from tests.federation.conftest import examples

    template = examples()[0]
    made = []
    for i in range(start, start + count):
        case = {k: v for k, v in template.items() if k not in ("victims", "media")}
        case |= {"force": force, "caseRef": f"{force}-R-{i:04d}", "accounts": [], "ipAddresses": []}
        case["suspects"] = [
            {"ref": "P1", "givenName": "Sam", "familyName": f"Case{force}{i}",
             "dateOfBirth": "1980-01-01", "phones": [f"07700 7{i:05d}"], "emails": [],
             "postcodes": []}
        ]  # fmt: skip
        case["devices"] = [{"ref": "D1", "type": "PHONE", "imei": f"35209977{i:06d}",
                            "usedBy": ["P1"]}]  # fmt: skip
        made.append(case)
    return made


def ndjson(records: Iterable[dict[str, Any]]) -> bytes:
    import json

    return "\n".join(json.dumps(r) for r in records).encode()
