"""How `crossforce serve` runs uvicorn: bounded headers, bounded waits, no query strings logged.

uvicorn's defaults let a client hold memory and a connection for as long as it likes: with
httptools a header line grows without limit, and no uvicorn option bounds the time a client
takes to send its request headers (`timeout_keep_alive` only covers the idle time between
requests and is reset by every byte). So the hub runs h11, whose parser refuses a request whose
headers outgrow `MAX_HEADER_BYTES` (a 400, then the connection is closed), through
`HeaderDeadlineH11`, which closes a connection whose request headers are not complete within
`HEADER_TIMEOUT_SECONDS` of its opening or of the previous response.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.config import Settings

# A request's line and headers together: a bearer token is about a kilobyte, browsers send a few.
MAX_HEADER_BYTES = 32 * 1024
# Seconds for a client to send its request line and headers.
HEADER_TIMEOUT_SECONDS = 10.0
# Seconds an idle keep-alive connection stays open between requests.
KEEP_ALIVE_SECONDS = 5

REQUEST_TIMEOUT = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"

log = logging.getLogger("crossforce.server")


class HeaderDeadlineH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers (see the module)."""

    timeout: float = HEADER_TIMEOUT_SECONDS

    _deadline: asyncio.TimerHandle | None = None
    _armed_for: object = None

    def _arm(self) -> None:
        self._disarm()
        self._armed_for = self.cycle  # a new request replaces it once its headers are parsed
        self._deadline = self.loop.call_later(self.timeout, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_too_slow(self) -> None:
        self._deadline = None
        if self.cycle is self._armed_for and not self.transport.is_closing():
            log.warning("closed a connection whose request headers took too long")
            if self.conn.our_state is h11.IDLE:
                self.transport.write(REQUEST_TIMEOUT)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def handle_events(self) -> None:
        super().handle_events()
        if self._deadline is not None and self.cycle is not self._armed_for:
            self._disarm()  # a request's headers arrived

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._disarm()
        super().handle_websocket_upgrade(event)

    def on_response_complete(self) -> None:
        # Armed before the next request is looked for: a pipelined one disarms it at once.
        if not self.transport.is_closing():
            self._arm()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def configure_server(settings: Settings) -> None:
    """Apply the settings that live in the protocol class (each `--workers` process calls it)."""
    HeaderDeadlineH11.timeout = settings.header_timeout_seconds


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for the hub. Its access log is off: it prints paths with their query
    strings; the gateway's middleware logs each request by route template instead."""
    configure_server(settings)
    return {
        "http": HeaderDeadlineH11,
        "h11_max_incomplete_event_size": MAX_HEADER_BYTES,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # A WebSocket message is a GraphQL request: the hub closes the socket on one over the
        # GraphQL body limit (4413); uvicorn refuses one over twice that before buffering it
        # whole (1009), rather than at its own 16 MiB default.
        "ws_max_size": 2 * settings.graphql_max_body_bytes,
        "limit_concurrency": settings.max_connections,
        "log_config": None,
        "log_level": settings.log_level,
        "access_log": False,
        "timeout_graceful_shutdown": int(settings.graceful_shutdown_seconds),
    }
