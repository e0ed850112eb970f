"""Operators' commands (`keys`, `audit`) as run beside a hub: on its embedded graph while it
runs, with force codes as people type them."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.demo.server import wait_until_ready
from graph import open_graph
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.keyring_store import GraphKeyStore

runner = CliRunner()


def crossforce(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gateway.cli", *args]
    return subprocess.run(
        command, env=os.environ | env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`crossforce serve` on the embedded graph of a fresh data dir; the environment to reach it."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {"CROSSFORCE_DATA_DIR": str(tmp_path / "data"), "CROSSFORCE_PUBLIC_URL": url,
           "CROSSFORCE_LOG_LEVEL": "warning"}  # fmt: skip
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
    hub = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=clean | env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until_ready(url, 120), "the hub did not start"
        yield clean | env
    finally:
        hub.terminate()
        hub.wait(timeout=60)


async def wrapped_key(data_dir: Path, force: str, version: int) -> bytes:
    """The wrapped data key as the running hub's graph holds it (joining its server)."""
    connection = open_graph(None, data_dir=data_dir, attach=True)
    try:
        stored = await GraphKeyStore(connection.store).get(force, version)
        assert stored is not None and stored.wrapped is not None
        return stored.wrapped
    finally:
        await connection.close()


def graph_files_holding(data_dir: Path, wrapped: bytes) -> list[Path]:
    needles = (wrapped, base64.b64encode(wrapped))
    files = [path for path in (data_dir / "graph").rglob("*") if path.is_file()]
    return [path for path in files if any(needle in path.read_bytes() for needle in needles)]


def test_keys_and_audit_commands_work_while_the_hub_runs(running_hub: dict[str, str]) -> None:
    data_dir = Path(running_hub["CROSSFORCE_DATA_DIR"])
    rotated = crossforce(running_hub, "keys", "rotate", "--force", "AS")
    assert rotated.returncode == 0, rotated.stderr
    assert "AS: now data key version 1" in rotated.stdout
    wrapped = asyncio.run(wrapped_key(data_dir, "AS", 1))
    assert graph_files_holding(data_dir, wrapped)  # the append-only file has it, until shredded

    shredded = crossforce(running_hub, "keys", "shred", "--force", "AS", "--version", "1", "--yes")
    assert shredded.returncode == 0, shredded.stderr
    assert "rewrote the graph's append-only file" in shredded.stdout
    assert graph_files_holding(data_dir, wrapped) == []  # while the hub's server still runs
    verified = crossforce(running_hub, "audit", "verify")
    assert verified.returncode == 0, verified.stderr
    assert "intact: 2 entries" in verified.stdout
    for run in (rotated, shredded, verified):
        assert "Traceback" not in run.stderr


def test_force_codes_are_read_in_any_case_and_must_be_of_the_region(
    falkordb_server: EmbeddedFalkorDB, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph = f"falkordb://127.0.0.1:{falkordb_server.port}/admin{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", graph)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CROSSFORCE_POLICY_DIR", raising=False)

    lower = runner.invoke(app, ["keys", "rotate", "--force", "as"])
    assert lower.exit_code == 0, lower.output
    assert "AS: now data key version 1" in lower.stdout

    for command in ("rotate", "reseal"):
        unknown = runner.invoke(app, ["keys", command, "--force", "ZZ"])
        assert unknown.exit_code == 2
        assert unknown.stderr == (
            f"crossforce keys {command}: unknown force ZZ; "
            "the region's forces: AS, GL, WI, DC, DO\n"
        )
    everything = runner.invoke(app, ["keys", "rotate"])
    assert everything.stdout.startswith("AS: now data key version 2\n")
    assert "ZZ" not in everything.stdout


def test_an_unreachable_graph_is_one_line_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", f"falkordb://127.0.0.1:{free_port()}")
    monkeypatch.setenv("CROSSFORCE_GRAPH_RETRY_FOR", "0.2")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    for command in (["keys", "rotate", "--force", "AS"], ["audit", "verify"]):
        result = runner.invoke(app, command)
        assert result.exit_code == 1
        assert result.stderr == f"crossforce {' '.join(command[:2])}: graph engine unreachable\n"
