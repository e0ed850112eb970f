"""The embedded FalkorDB launcher: persistence, clean stop, no orphans after a crash, a password."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import redis.exceptions as redis_errors

from graph import GraphError, open_graph
from graph.embedded import EmbeddedFalkorDB, EmbeddedGraphError, _alive, find_binaries
from graph.falkordb_adapter import FalkorDBStore


def wait_until(predicate: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


async def test_data_survives_a_restart(tmp_path: Path) -> None:
    with EmbeddedFalkorDB(tmp_path) as server:
        store = FalkorDBStore(server.host, server.port, password=server.password)
        await store.write("CREATE (:Person {key: 'kept'})")
        await store.close()
    assert not (tmp_path / "graph" / "server.json").exists()
    with EmbeddedFalkorDB(tmp_path) as server:
        store = FalkorDBStore(server.host, server.port, password=server.password)
        assert await store.read("MATCH (p:Person) RETURN p.key AS k") == [{"k": "kept"}]
        await store.close()


async def test_acknowledged_writes_survive_a_crash_of_the_server(tmp_path: Path) -> None:
    server = EmbeddedFalkorDB(tmp_path)
    server.start()
    store = FalkorDBStore(server.host, server.port, password=server.password)
    await store.write("UNWIND range(1, 100) AS i CREATE (:Device {key: toString(i)})")
    await store.close()
    server.kill()  # SIGKILL: no chance to save
    server.start()
    store = FalkorDBStore(server.host, server.port, password=server.password)
    assert await store.read("MATCH (d:Device) RETURN count(d) AS n") == [{"n": 100}]
    await store.close()
    server.stop()


def test_server_dies_with_a_crashed_parent(tmp_path: Path) -> None:
    script = (
        "import sys, time; from pathlib import Path; from graph.embedded import EmbeddedFalkorDB\n"
        f"s = EmbeddedFalkorDB(Path({str(tmp_path)!r})); s.start(); print(s.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    pid = int(parent.stdout.readline())
    assert _alive(pid)
    parent.kill()
    parent.wait()
    assert wait_until(lambda: not _alive(pid))


def test_orphan_from_an_earlier_crash_is_stopped_on_start(tmp_path: Path) -> None:
    binaries = find_binaries()
    graph_dir = tmp_path / "graph"
    graph_dir.mkdir()
    orphan = subprocess.Popen(
        [str(binaries.server), "--port", "0", "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    dead_parent = subprocess.Popen(["true"])
    dead_parent.wait()
    (graph_dir / "server.json").write_text(
        json.dumps({"pid": orphan.pid, "parent": dead_parent.pid})
    )
    with EmbeddedFalkorDB(tmp_path) as server:
        assert orphan.wait(timeout=10) is not None
        assert server.pid != orphan.pid


def test_a_data_dir_in_use_by_a_live_process_is_refused(tmp_path: Path) -> None:
    graph_dir = tmp_path / "graph"
    graph_dir.mkdir()
    holder = subprocess.Popen(["sleep", "30"])
    try:
        (graph_dir / "server.json").write_text(
            json.dumps({"pid": holder.pid, "parent": os.getppid()})
        )
        with pytest.raises(EmbeddedGraphError, match="in use"):
            EmbeddedFalkorDB(tmp_path).start()
    finally:
        holder.kill()
        holder.wait()


def test_the_graph_refuses_a_connection_without_its_password(tmp_path: Path) -> None:
    with EmbeddedFalkorDB(tmp_path) as server:
        stranger = redis.Redis(host=server.host, port=server.port, socket_timeout=5)
        with pytest.raises(redis_errors.AuthenticationError):
            stranger.execute_command("GRAPH.LIST")
        with pytest.raises(redis_errors.AuthenticationError):
            stranger.set("written-by", "a stranger")
        stranger.close()
        guesser = redis.Redis(host=server.host, port=server.port, password="guess")
        with pytest.raises(redis_errors.AuthenticationError):
            guesser.ping()
        guesser.close()
        owner = redis.Redis(host=server.host, port=server.port, password=server.password)
        assert owner.ping()
        owner.close()


def test_the_password_is_in_a_private_file_and_not_on_the_command_line(tmp_path: Path) -> None:
    with EmbeddedFalkorDB(tmp_path) as server:
        password_file = tmp_path / "graph" / "password"
        assert password_file.stat().st_mode & 0o777 == 0o600
        assert (tmp_path / "graph").stat().st_mode & 0o777 == 0o700
        password = password_file.read_text().strip()
        assert len(password) >= 32 and server.password == password
        command_line = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert password.encode() not in command_line
    with EmbeddedFalkorDB(tmp_path) as again:  # the same password across restarts
        assert again.password == password


def test_a_password_file_others_may_read_is_refused(tmp_path: Path) -> None:
    (tmp_path / "graph").mkdir(mode=0o700)
    (tmp_path / "graph" / "password").write_text("readable-by-all")
    (tmp_path / "graph" / "password").chmod(0o644)
    with pytest.raises(EmbeddedGraphError, match="chmod 600"):
        EmbeddedFalkorDB(tmp_path).start()


async def test_a_falkordb_uri_takes_the_graph_password(tmp_path: Path) -> None:
    with EmbeddedFalkorDB(tmp_path) as server:
        uri = f"falkordb://{server.host}:{server.port}/standalone"
        given = open_graph(uri, data_dir=tmp_path, password=server.password)
        await given.store.write("CREATE (:Person {key: 'p'})")
        await given.close()
        in_uri = open_graph(
            f"falkordb://:{server.password}@{server.host}:{server.port}/standalone",
            data_dir=tmp_path,
        )
        assert await in_uri.store.read("MATCH (p:Person) RETURN p.key AS k") == [{"k": "p"}]
        await in_uri.close()
        without = open_graph(uri, data_dir=tmp_path)
        with pytest.raises(GraphError, match="refused the password"):
            await without.store.read("MATCH (p:Person) RETURN p.key AS k")
        await without.close()
