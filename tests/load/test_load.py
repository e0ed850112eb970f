"""A bounded load test on loopback: syncs from five forces, coordinator dashboards and analyst
queries at once, against a real `crossforce serve`; no errors, and the gateway's memory stays flat.

`make soak` runs the long profile (CROSSFORCE_PROFILE=soak)."""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import DEFAULT_POLICY_DIR
from gateway.demo.region import RegionParams, recent_start, region_cases
from gateway.demo.server import wait_until_ready
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import mint_token

pytestmark = pytest.mark.load

SOAK = os.environ.get("CROSSFORCE_PROFILE") == "soak"
REQUESTS = 6000 if SOAK else 300
WORKERS = 8
GENEROUS = "version: 1\ndefault: {rate: 100000, burst: 100000}\n"
DASHBOARD = (
    "{ oversight { byForce { force riskLevel open pastTarget } forces { force inactive30Days } } }"
)
QUEUE = "{ priorityQueue(first: 20) { force caseRef score reasons } }"
CASE = (
    "query C($f: String!, $c: String!) "
    "{ case(force: $f, caseRef: $c) { riskLevel links { force caseRef contact } } }"
)


@dataclass
class Hub:
    url: str
    pid: int
    data_dir: Path
    public_url: str

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def headers(self, client: str) -> dict[str, str]:
        token = mint_token(self.data_dir, self.public_url, "crossforce", client)
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    root = tmp_path_factory.mktemp("load")
    graph = EmbeddedFalkorDB(root / "graph", port=free_port(), authenticate=False)
    graph.start()
    policies = root / "policies"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    (policies / "limits.yaml").write_text(GENEROUS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "CROSSFORCE_GRAPH_URI": f"falkordb://127.0.0.1:{graph.port}/load",
        "CROSSFORCE_DATA_DIR": str(root / "hub"),
        "CROSSFORCE_PUBLIC_URL": url,
        "CROSSFORCE_POLICY_DIR": str(policies),
        "CROSSFORCE_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(command, env=env, stdout=quiet, stderr=quiet)
    assert wait_until_ready(url, 120), "the hub did not start"
    yield Hub(url, process.pid, root / "hub", url)
    process.terminate()
    process.wait(60)
    graph.stop()


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, kind: str, seconds: float) -> None:
        self.latencies.setdefault(kind, []).append(seconds * 1000)

    def report(self) -> dict[str, Any]:
        out = {}
        for kind, values in sorted(self.latencies.items()):
            ordered = sorted(values)
            out[kind] = {
                "requests": len(values),
                "p50_ms": round(statistics.median(ordered), 1),
                "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
            }
        return out


async def run(
    hub: Hub, requests: int, cases: dict[str, list[dict[str, Any]]], tally: Tally
) -> None:
    rng = random.Random(7)
    headers = {c: hub.headers(c) for c in ["coordinator", "analyst-AS", "analyst-GL"]}
    headers |= {f"force-{f}": hub.headers(f"force-{f}") for f in cases}
    refs = [(c["force"], c["caseRef"]) for batch in cases.values() for c in batch]
    queue = asyncio.Queue[int]()
    for n in range(requests):
        queue.put_nowait(n)

    async def one(http: httpx.AsyncClient, n: int) -> None:
        roll = rng.random()
        started = time.perf_counter()
        if roll < 0.2:
            force = rng.choice(sorted(cases))
            batch = rng.sample(cases[force], 10)
            body = b"".join(json.dumps(c).encode() + b"\n" for c in batch)
            kind, answer = "sync", await http.post("/federation/v1/cases", content=body,
                                                  headers=headers[f"force-{force}"])  # fmt: skip
        elif roll < 0.45:
            kind, answer = "dashboard", await http.post("/graphql", json={"query": DASHBOARD},
                                                       headers=headers["coordinator"])  # fmt: skip
        elif roll < 0.7:
            kind, answer = "queue", await http.post("/graphql", json={"query": QUEUE},
                                                   headers=headers["analyst-AS"])  # fmt: skip
        else:
            force, ref = rng.choice(refs)
            variables = {"f": force, "c": ref}
            kind, answer = "case", await http.post("/graphql",
                                                  json={"query": CASE, "variables": variables},
                                                  headers=headers["analyst-GL"])  # fmt: skip
        tally.add(kind, time.perf_counter() - started)
        if answer.status_code != 200 or "errors" in answer.json():
            tally.errors.append(f"{kind}: {answer.status_code} {answer.text[:200]}")

    async def worker() -> None:
        async with httpx.AsyncClient(base_url=hub.url, timeout=60) as http:
            while not queue.empty():
                await one(http, queue.get_nowait())

    await asyncio.gather(*(worker() for _ in range(WORKERS)))


async def test_mixed_load_is_served_without_errors_and_memory_stays_flat(hub: Hub) -> None:
    params = RegionParams(seed=11, forces=5, cases=1000, start=recent_start(12))
    cases: dict[str, list[dict[str, Any]]] = {}
    for case in region_cases(params):
        cases.setdefault(case["force"], []).append(case)
    async with httpx.AsyncClient(base_url=hub.url, timeout=120) as http:
        for force, batch in cases.items():
            body = b"".join(json.dumps(c).encode() + b"\n" for c in batch)
            answer = await http.post("/federation/v1/cases", content=body,
                                     headers=hub.headers(f"force-{force}"))  # fmt: skip
            assert answer.status_code == 200
    warm = Tally()
    await run(hub, REQUESTS // 4, cases, warm)
    before = hub.rss_kib()
    tally = Tally()
    started = time.perf_counter()
    await run(hub, REQUESTS, cases, tally)
    elapsed = time.perf_counter() - started
    after = hub.rss_kib()
    summary = {
        "requests": REQUESTS, "seconds": round(elapsed, 1),
        "throughput_per_s": round(REQUESTS / elapsed, 1), "errors": len(tally.errors),
        "rss_kib_after_warmup": before, "rss_kib_at_end": after, "by_kind": tally.report(),
    }  # fmt: skip
    print("\nload:", json.dumps(summary))
    assert not tally.errors, tally.errors[:5]
    assert after < before * 1.25 + 20_000, summary  # no leak: flat within noise
