"""A simulated force system that exposes the connector instead of pushing (for `crossforce demo`).

The connector (connector/, Graphene) does not share the hub's environment: Graphene needs an
older graphql-core than the hub's Strawberry. So it runs as a process of its own, from the
connector's environment (`.venv-connector`, built by `make demo` and `make test`; or the
interpreter named by `CROSSFORCE_CONNECTOR_PYTHON`), serving a JSON-lines file the hub writes
(`python -m crossforce_connector.serve`). It notes each page it serves, so the demo can tell
when the hub has read its feed to the end.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

REPOSITORY = Path(__file__).resolve().parents[2]
PYTHON_VARIABLE = "CROSSFORCE_CONNECTOR_PYTHON"


class ConnectorUnavailable(RuntimeError):
    """The connector's environment is missing or its process did not start."""


def connector_python() -> Path:
    """The interpreter of the connector's own environment (not resolved: a venv's `python` is a
    link, and it is through the link that the environment is found)."""
    named = os.environ.get(PYTHON_VARIABLE)
    places = [Path(named)] if named else [Path.cwd(), REPOSITORY]
    for place in places:
        python = place if named else place / ".venv-connector" / "bin" / "python"
        if python.is_file():
            return python
    raise ConnectorUnavailable(
        "the force connector runs in an environment of its own: `make demo` builds it "
        f"(.venv-connector), or set {PYTHON_VARIABLE} to an interpreter that has "
        "`pip install ./connector`"
    )


def write_feed(path: Path, records: Sequence[Any]) -> None:
    """`records` as the connector's JSON-lines feed, one a line (its position), replaced at once
    so that the connector never reads half of it. The file is the force system's own data in
    clear, as a force's case system holds it: readable by this user only."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.writelines(json.dumps(record) + "\n" for record in records)
    partial.replace(path)


class ConnectorProcess:
    """`python -m crossforce_connector.serve` over `feed`, for the hub at `issuer`.

    `delay` and `fail_status` make it a force system that answers late or not at all. The
    process also stops when this one goes (its standard input closes).
    """

    def __init__(
        self,
        feed: Path,
        issuer: str,
        *,
        delay: float = 0.0,
        fail_status: int | None = None,
        python: Path | None = None,
    ) -> None:
        self.feed = feed.resolve()
        self.asked = self.feed.with_name(self.feed.name + ".asked")
        self.issuer = issuer
        self.delay = delay
        self.fail_status = fail_status
        self.python = python or connector_python()
        self.url = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> ConnectorProcess:
        self.asked.write_text("")
        command = [
            str(self.python), "-I", "-m", "crossforce_connector.serve",
            "--feed", str(self.feed), "--issuer", self.issuer, "--asked", str(self.asked),
            "--delay", str(self.delay), "--until-stdin-closes",
        ]  # fmt: skip
        if self.fail_status is not None:
            command += ["--fail-status", str(self.fail_status)]
        self._process = subprocess.Popen(
            command, cwd=self.feed.parent, stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self._process.stdout is not None
        line = _read_line(self._process.stdout, timeout)
        if not line.startswith(b"http://"):
            self.stop()
            raise ConnectorUnavailable(f"the connector over {self.feed.name} did not start")
        self.url = line.decode().strip()
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()

    def pages(self) -> list[dict[str, Any]]:
        """Each page served so far: `since`, `entries` and `hasNextPage`, in order."""
        if not self.asked.exists():
            return []
        lines = self.asked.read_text().splitlines(keepends=True)
        return [json.loads(line) for line in lines if line.endswith("\n")]

    def seen(self) -> list[str | None]:
        """The `since` of each page served, in order."""
        return [page["since"] for page in self.pages()]

    def caught_up(self) -> bool:
        """The hub has asked for what follows the last record and been told there is nothing."""
        return any(p["entries"] == 0 and not p["hasNextPage"] for p in self.pages())


def _read_line(stream: IO[bytes], timeout: float) -> bytes:
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else b""


class DemoConnector:
    """A force's connector serving `summaries` (in that order) to the hub at `issuer`, from a
    feed file in `folder`."""

    def __init__(
        self, force: str, summaries: Sequence[Mapping[str, Any]], *, issuer: str, folder: Path
    ) -> None:
        self.force = force
        self._feed = folder / f"{force}.jsonl"
        write_feed(self._feed, summaries)
        self._process = ConnectorProcess(self._feed, issuer)

    @property
    def url(self) -> str:
        return self._process.url

    def start(self, timeout: float = 60.0) -> None:
        self._process.start(timeout)

    def stop(self) -> None:
        """Stop the connector and remove its feed: the demo force's records are not kept (the
        log of the pages the hub asked for, which holds no record, stays to be read)."""
        self._process.stop()
        self._feed.unlink(missing_ok=True)

    @property
    def pages_served(self) -> int:
        return len(self._process.pages())

    def caught_up(self) -> bool:
        return self._process.caught_up()

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
