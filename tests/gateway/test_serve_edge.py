"""`crossforce serve` at its edge, as a client meets it: a request whose headers grow without end
or arrive too slowly is closed, not held, and no query string reaches the server's output."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from graph.embedded import EmbeddedFalkorDB, free_port

MARKER = "Qmarker7f3a9c"
HEADER_TIMEOUT = 2


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, falkordb_server: EmbeddedFalkorDB
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("serve-edge")
    port = free_port()
    env = {
        **os.environ,
        "CROSSFORCE_GRAPH_URI": f"falkordb://127.0.0.1:{falkordb_server.port}/edge",
        "CROSSFORCE_DATA_DIR": str(tmp / "hub"),
        "CROSSFORCE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "CROSSFORCE_LOG_LEVEL": "debug",
    }
    log = tmp / "serve.log"
    command = [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    hub = Served(port, process, log)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert process.poll() is None, hub.output()
            try:
                if httpx.get(f"{hub.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("crossforce serve was not ready")
        yield hub
    finally:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answer_within(sock: socket.socket, seconds: float) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and how long that took; fails if
    the connection is still open after `seconds`."""
    started = time.monotonic()
    sock.settimeout(seconds)
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"connection still open after {seconds} s")
    except ConnectionResetError:
        pass
    return received, time.monotonic() - started


def test_an_over_long_header_line_is_refused_and_closed_at_once(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Long: ")
        try:
            for _ in range(64):  # up to 4 MB of one header, never ended
                sock.sendall(b"a" * 65536)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server closed it while we were still sending
        received, seconds = answer_within(sock, 5)
    assert received == b"" or received.split(b" ")[1] in (b"400", b"431")
    assert seconds < 5


def test_headers_that_never_finish_are_closed_after_the_header_timeout(served: Served) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n")
        received, seconds = answer_within(sock, HEADER_TIMEOUT + 5)
    assert received == b"" or received.startswith(b"HTTP/1.1 408")
    assert seconds >= HEADER_TIMEOUT - 0.5  # the deadline, not an error


def test_a_kept_alive_connection_gets_the_same_deadline_for_its_next_request(
    served: Served,
) -> None:
    with socket.create_connection(("127.0.0.1", served.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\n\r\n")
        sock.settimeout(5)
        first = b""
        while not first.endswith(b'{"status":"ok"}'):
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: hub\r\nX-Slow: ")
        for _ in range(HEADER_TIMEOUT * 4):  # a byte at a time, never a whole request
            try:
                sock.sendall(b"a")
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.5)
        received, _ = answer_within(sock, 5)
    assert time.monotonic() - started < HEADER_TIMEOUT + 5
    assert received == b"" or received.startswith(b"HTTP/1.1 408")


def test_query_strings_never_reach_the_servers_output(served: Served) -> None:
    httpx.get(f"{served.url}/healthz", params={"q": MARKER}, timeout=5)
    httpx.get(f"{served.url}/federation/v1/changes", params={"since": MARKER}, timeout=5)
    ws_url = f"ws://127.0.0.1:{served.port}/graphql?token={MARKER}"
    try:
        with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=5):  # type: ignore[list-item]
            pass
    except InvalidStatus:
        pass  # refused or accepted, the handshake was logged either way
    time.sleep(0.5)
    output = served.output()
    assert "WebSocket /graphql" in output  # the handshake was logged, without its query
    assert MARKER not in output


def test_a_websocket_message_far_over_the_graphql_body_limit_is_refused_unread(
    served: Served,
) -> None:
    """The hub closes a socket on a message over the GraphQL body limit (4413); uvicorn must not
    first buffer megabytes of it: past twice the limit the server closes the socket (1009)."""
    from websockets.exceptions import ConnectionClosed

    huge = '{"type":"connection_init","payload":{"pad":"' + "a" * (3 * 256 * 1024) + '"}}'
    with connect(
        f"ws://127.0.0.1:{served.port}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=5,
        max_size=None,
    ) as socket_:
        socket_.send(huge)
        with pytest.raises(ConnectionClosed) as closed:
            socket_.recv(timeout=5)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1009
