"""`crossforce serve --workers N`: several hub processes on one port, sharing one graph server
as replicas do; refused on the embedded graph, which belongs to one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from gateway.demo.server import wait_until_ready
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import mint_token
from tests.federation.conftest import examples


def serve(env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "gateway.cli", "serve", *args]
    return subprocess.Popen(command, env=os.environ | env, stderr=subprocess.PIPE)


def test_workers_share_the_keys_and_the_graph(graph: EmbeddedFalkorDB, tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = tmp_path / "hub"  # fresh: the parent makes the development keys once
    env = {"CROSSFORCE_GRAPH_URI": f"falkordb://127.0.0.1:{graph.port}/workers",
           "CROSSFORCE_DATA_DIR": str(data_dir), "CROSSFORCE_LOG_LEVEL": "warning"}  # fmt: skip
    hub = serve(env, "--port", str(port), "--workers", "2")
    try:
        assert wait_until_ready(url, 120), "the hub did not start"
        children = subprocess.run(
            ["pgrep", "-P", str(hub.pid)], capture_output=True, text=True, check=False
        ).stdout.split()
        assert len(children) >= 2  # the workers (and uvicorn's own helper, if any)
        token = mint_token(data_dir, url, "crossforce", "force-AS")
        headers = {"Authorization": f"Bearer {token}"}
        body = "\n".join(json.dumps(r) for r in examples() if r["force"] == "AS")
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            # Connections land on either worker: every one accepts the token and sees the graph.
            for _ in range(6):
                with httpx.Client(base_url=url, headers=headers, timeout=30) as fresh:
                    answer = fresh.post("/federation/v1/cases", content=body)
                    assert answer.status_code == 200, answer.text
            feed = http.get("/federation/v1/changes")
            assert feed.status_code == 200
    finally:
        hub.terminate()
        _, stderr = hub.communicate(timeout=60)
    assert hub.returncode == 0
    assert b"Traceback" not in stderr, stderr.decode()[-2000:]


def test_workers_need_a_graph_server(tmp_path: Path) -> None:
    env = {"CROSSFORCE_DATA_DIR": str(tmp_path / "hub")}
    hub = serve(env, "--port", str(free_port()), "--workers", "2")
    _, stderr = hub.communicate(timeout=60)
    assert hub.returncode != 0
    assert b"needs CROSSFORCE_GRAPH_URI" in stderr
    assert not (tmp_path / "hub" / "graph").exists()  # no embedded graph was started
