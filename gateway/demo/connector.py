"""A simulated force system that exposes the connector instead of pushing (for `crossforce demo`).

It serves its case summaries over uvicorn in a thread on a loopback port, notes each `since`
the hub asks with, and can wait until the hub has read its feed to the end. Needs uvicorn.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from crossforce_connector.auth import HubTokenVerifier
from crossforce_connector.feed import FeedPage, IterableFeed
from crossforce_connector.http import Endpoint, asgi_app
from crossforce_connector.schema import build_schema


class _ObservedFeed:
    def __init__(self, summaries: Sequence[Mapping[str, Any]]) -> None:
        order = {id(s): i for i, s in enumerate(summaries)}
        self.feed = IterableFeed(list(summaries), position=lambda s: order[id(s)])
        self.asked: list[str | None] = []

    def page(self, since: str | None, first: int) -> FeedPage:
        self.asked.append(since)
        return self.feed.page(since, first)


class DemoConnector:
    """A force's connector serving `summaries` (in that order) to the hub at `issuer`."""

    def __init__(
        self, force: str, summaries: Sequence[Mapping[str, Any]], *, issuer: str, port: int
    ) -> None:
        self.force = force
        self.url = f"http://127.0.0.1:{port}/crossforce/graphql"
        self._feed = _ObservedFeed(summaries)
        self._last = self._feed.feed.page(None, max(1, len(summaries))).end_cursor
        endpoint = Endpoint(build_schema(self._feed), HubTokenVerifier(issuer))
        config = uvicorn.Config(
            asgi_app(endpoint),
            host="127.0.0.1",
            port=port,
            log_level="warning",
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self, timeout: float = 30.0) -> None:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the {self.force} connector did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    @property
    def pages_served(self) -> int:
        return len(self._feed.asked)

    def caught_up(self) -> bool:
        """The hub has asked for what follows the last summary: it holds them all."""
        return self._last is not None and self._last in self._feed.asked

    def wait_caught_up(self, timeout: float = 60.0) -> bool:
        deadline = time.monotonic() + timeout
        while not self.caught_up():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def pull_entry(
        self, issuer: str, secrets_file: Path, *, interval: float = 5.0
    ) -> dict[str, Any]:
        """This connector as an entry of the hub's pull.yaml (`forces:` list)."""
        return {
            "force": self.force,
            "url": self.url,
            "issuer": issuer,
            "client_id": "hub",
            "client_secret": {"file": str(secrets_file), "key": "hub"},
            "interval": interval,
            "backoff": {"initial": 0.5, "max": 10},
        }


def demo_policy_dir(
    data_dir: Path, defaults: Path, connectors: Sequence[DemoConnector], issuer: str
) -> Path:
    """`<data dir>/demo-policies`: the default policies plus a pull.yaml listing `connectors`,
    with the `hub` client's secret from the development issuer's secrets file."""
    target = data_dir / "demo-policies"
    target.mkdir(parents=True, exist_ok=True)
    for name in ("clients.yaml", "sharing.yaml"):
        shutil.copyfile(defaults / name, target / name)
    secrets = (data_dir / "devidp" / "client-secrets.json").resolve()
    entries = [c.pull_entry(issuer, secrets) for c in connectors]
    (target / "pull.yaml").write_text(json.dumps({"forces": entries}, indent=2))
    return target
