"""The hub in a thread of this process, for the demo, the tests and the benchmarks."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx
import uvicorn

from gateway.app import create_app
from gateway.config import Settings


def wait_until_ready(
    url: str, timeout: float = 60.0, alive: Callable[[], bool] = lambda: True
) -> bool:
    """Whether the hub at `url` answered `/readyz` with 200 within `timeout` seconds; gives up
    early once `alive` says the hub's process has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    return False


class BackgroundServer:
    """Uvicorn in a thread, so the demo can talk to the hub it started."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        # A connection left open (a keep-alive, a subscription) does not hold the stop up.
        config = uvicorn.Config(
            create_app(settings),
            host=host,
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self, timeout: float = 60.0) -> None:
        self.thread.start()
        if not wait_until_ready(self.url, timeout):
            raise RuntimeError(f"the hub was not ready at {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)
