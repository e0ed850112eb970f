"""`crossforce demo`: start the hub on the embedded graph and show where to look."""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections import defaultdict
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table

from clients.sdk import CrossforceClient
from clients.sync_cli import devidp_secrets_file
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


def example_cases() -> list[dict[str, Any]]:
    text = resources.files("clients.data").joinpath("two-forces.jsonl").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def tour(url: str, data_dir: Path) -> None:
    """Each force system pushes its cases with its own client; then each reads its feed."""
    secrets = json.loads(devidp_secrets_file(data_dir).read_text())
    by_force: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in example_cases():
        by_force[case["force"]].append(case)
    for force, cases in sorted(by_force.items()):
        client_id = f"force-{force}"
        async with CrossforceClient(url, client_id, secrets[client_id]) as client:
            report = await client.sync(cases)
        console.print(
            f"  {client_id}: {report.applied} applied, {report.stale} already held, "
            f"{report.rejected} rejected"
        )
    table = Table(title="Cross-force links found (each force's change feed)")
    for column in ("force", "its case", "other force", "other case", "shared", "contact"):
        table.add_column(column)
    for force in sorted(by_force):
        client_id = f"force-{force}"
        async with CrossforceClient(url, client_id, secrets[client_id]) as client:
            page = await client.changes()
        for change in page.changes:
            table.add_row(
                force,
                change["caseRef"],
                change["otherForce"],
                change["otherCaseRef"],
                change["via"],
                change.get("contact", ""),
            )
    console.print(table)
    console.print("Tokens: .venv/bin/crossforce token --client coordinator (or analyst-AS, ...)")
    console.print(f"Client secrets of the development issuer: {devidp_secrets_file(data_dir)}")


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
        asyncio.run(tour(server.url, settings.data_dir))
        if keep_serving:
            console.print("Serving until Ctrl-C.")
            while server.thread.is_alive():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
