"""Serve case summaries from a JSON-lines file: the connector as a process of its own.

`python -m crossforce_connector.serve --feed cases.jsonl --issuer https://hub.example` serves
the file at `http://HOST:PORT/crossforce/graphql` under the standard library's threading WSGI
server, so it needs nothing beyond the connector. Each complete line of the file is one record
(a case summary, a new version, a tombstone) and its line number is its position: records are
added by appending lines, and the file is read again for every page. A line still being
written (no newline yet) is not served.

This is how the hub's demo and tests run a force's connector, in an environment of its own
(the hub's own does not hold Graphene), and a way for a force to try the protocol before
embedding the library. For seeing how a hub copes with a force system that misbehaves,
`--delay` answers every request late and `--fail-status` answers every request with that HTTP
status. `--asked` appends a line for each page served (`{"since", "entries", "hasNextPage"}`):
how far the hub has read.

Once listening it prints its URL on one line of standard output. It stops on SIGTERM or SIGINT
and, with `--until-stdin-closes`, when its standard input closes (its parent has gone).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from socketserver import ThreadingMixIn
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from crossforce_connector import connector
from crossforce_connector.feed import FeedPage, IterableFeed, Position
from crossforce_connector.http import StartResponse, wsgi_app

PATH = "/crossforce/graphql"
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def read_lines(path: Path) -> Iterator[tuple[Position, Any]]:
    """(line number, record) for each complete line of `path`; blank lines are skipped."""
    with path.open("rb") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.endswith(b"\n"):
                return
            if line.strip():
                yield number, json.loads(line)


class FileFeed:
    """The records of a JSON-lines file as a feed; notes each `since` asked in `asked`."""

    def __init__(self, path: Path, asked: Path | None = None) -> None:
        self._feed = IterableFeed(lambda: read_lines(path))
        self._asked = asked
        self._lock = threading.Lock()

    def page(self, since: str | None, first: int) -> FeedPage:
        page = self._feed.page(since, first)
        if self._asked is not None:
            note = {"since": since, "entries": len(page.entries), "hasNextPage": page.has_next_page}
            with self._lock, self._asked.open("a") as log:
                log.write(json.dumps(note) + "\n")
        return page


def misbehaving(app: WsgiApp, *, delay: float, fail_status: int | None) -> WsgiApp:
    """`app` answering each request `delay` seconds late, or always `fail_status`."""

    def wrapped(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        time.sleep(delay)
        if fail_status is None:
            return app(environ, start_response)
        headers = [("content-type", "text/plain"), ("retry-after", "0")]
        start_response(f"{fail_status} Unavailable", headers)
        return [b"down for maintenance"]

    return wrapped


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a slow request does not hold the process when it is told to stop


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Requests are not logged: the records they carry are not this process's to log."""


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m crossforce_connector.serve",
        description="Serve the case summaries of a JSON-lines file to a Crossforce hub.",
    )
    parser.add_argument("--feed", type=Path, required=True, help="JSON lines, one record each")
    parser.add_argument("--issuer", required=True, help="the hub's identity provider")
    parser.add_argument("--audience", default="crossforce")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--asked", type=Path, help="append the since of each page served here")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument("--fail-status", type=int, help="answer every request with this status")
    parser.add_argument("--until-stdin-closes", action="store_true")
    return parser.parse_args(argv)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: Sequence[str] | None = None) -> None:
    options = _arguments(argv)
    endpoint = connector(
        FileFeed(options.feed, options.asked), issuer=options.issuer, audience=options.audience
    )
    app = misbehaving(wsgi_app(endpoint), delay=options.delay, fail_status=options.fail_status)
    server = make_server(
        options.host, options.port, app, _ThreadingServer, handler_class=_QuietHandler
    )
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if options.until_stdin_closes:
        threading.Thread(target=_shutdown_at_eof, args=(server,), daemon=True).start()
    print(f"http://{options.host}:{server.server_port}{PATH}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()


def _shutdown_at_eof(server: WSGIServer) -> None:
    # The descriptor, not `sys.stdin`: a buffered reader left waiting in a daemon thread would
    # abort the interpreter's exit.
    while os.read(sys.stdin.fileno(), 4096):
        pass
    server.shutdown()


if __name__ == "__main__":
    main()
