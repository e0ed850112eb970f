"""`crossforce demo`: start the hub on the embedded graph and show where to look."""

from __future__ import annotations

import sys
import threading
import time

import httpx
import uvicorn
from rich.console import Console

from gateway.app import create_app
from gateway.config import Settings
from graph.embedded import free_port

console = Console()


class BackgroundServer:
    """Uvicorn in a thread, so the demo can talk to the hub it started."""

    def __init__(self, settings: Settings, host: str, port: int) -> None:
        config = uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self, timeout: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the hub was not ready at {self.url} within {timeout:.0f} s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


def run_demo(keep_serving: bool | None = None, port: int | None = None) -> None:
    host = "127.0.0.1"
    port = port or free_port()
    settings = Settings(public_url=f"http://{host}:{port}")
    started = time.monotonic()
    with console.status("starting the hub on the embedded graph"):
        server = BackgroundServer(settings, host, port)
        server.start()
    console.print(
        f"[bold green]Crossforce hub ready[/] at {server.url} ({time.monotonic() - started:.1f} s)"
    )
    console.print(f"  readiness: {server.url}/readyz")
    console.print(f"  data dir:  {settings.data_dir.resolve()}")
    if keep_serving is None:
        keep_serving = sys.stdin.isatty()
    try:
        if keep_serving:
            console.print("Serving until Ctrl-C.")
            while server.thread.is_alive():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
