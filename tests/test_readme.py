"""README.md as a newcomer reads it in a fresh clone: every link resolves inside the repository,
and every command in its code blocks runs, exit 0, against a real hub.

How the commands run:
- as written, by bash, in a fresh directory holding a `.venv` link to this test's environment
  and nothing else, with no `CROSSFORCE_*` variables: the data dir is `./.crossforce`, as for a
  person in a fresh clone;
- `crossforce serve` starts in the background with `--port` on a free port (8000 may be taken on
  a shared machine); the commands after it find the hub through the data dir, as written;
- `make demo` runs what it calls, `crossforce demo --exit` (with `--cases 50`, for time), in a
  fresh directory of its own; `make test` cannot run the suite from inside it, so it runs as
  `make -n test`: the target exists and calls ruff, mypy and pytest;
- a block that is a template for the reader to fill in (Neo4j's address) is in TEMPLATES, with
  the reason, and must still be in the README.

It runs in `make test` unmarked, as the demo's own test does: a README that stops working is
what a newcomer meets first.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.demo.server import wait_until_ready
from graph.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
BLOCK = re.compile(r"^```sh\n(.*?)^```", re.S | re.M)

TEMPLATES = {
    "export CROSSFORCE_GRAPH_URI=neo4j+s://xxxx.databases.neo4j.io": "the reader's Neo4j",
    "export CROSSFORCE_GRAPH_USER=neo4j CROSSFORCE_GRAPH_PASSWORD=...": "the reader's Neo4j",
    ".venv/bin/crossforce serve --host 0.0.0.0 --port 8000": "serves the Neo4j above",
}
# The operator's commands run beside the hub, on the graph it holds (docs/operations.md).
BESIDE_THE_HUB = ("crossforce keys ", "crossforce audit ")


def command_lines(block: str) -> Iterator[str]:
    """The block's commands: continuation lines joined, blank lines left out."""
    for line in block.replace("\\\n", " ").splitlines():
        if line.strip():
            yield line.strip()


def readme_commands() -> list[str]:
    return [line for block in BLOCK.findall(README.read_text()) for line in command_lines(block)]


def template(line: str) -> bool:
    return any(line.startswith(start) for start in TEMPLATES)


@dataclass
class Ran:
    line: str
    returncode: int
    stdout: str
    stderr: str


class Newcomer:
    """A fresh directory with `.venv`, a clean environment, and the hub once `serve` ran."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        (directory / ".venv").symlink_to(Path(sys.prefix))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CROSSFORCE_")}
        self.hub: subprocess.Popen[bytes] | None = None

    def bash(self, script: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", "set -euo pipefail\n" + script],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def serve(self, line: str) -> Ran:
        command = line.split("#")[0].strip()
        port = free_port()
        log = (self.directory / "serve.log").open("wb")
        self.hub = subprocess.Popen(
            ["bash", "-c", f"exec {command} --port {port}"],
            cwd=self.directory,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        hub = self.hub
        ready = wait_until_ready(f"http://127.0.0.1:{port}", 120, alive=lambda: hub.poll() is None)
        return Ran(line, 0 if ready else 1, "", "" if ready else "the hub did not get ready")

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.terminate()
            self.hub.wait(60)


@pytest.fixture
def newcomer(tmp_path: Path) -> Iterator[Newcomer]:
    person = Newcomer(tmp_path / "clone")
    yield person
    person.stop()


def run_make(line: str, tmp_path: Path) -> Ran:
    if line.startswith("make demo"):
        demo = Newcomer(tmp_path / "demo")
        done = demo.bash(".venv/bin/crossforce demo --exit --cases 50", timeout=180)
        ok = done.returncode == 0 and "The hub has stopped" in " ".join(done.stdout.split())
        return Ran(line, done.returncode if ok else 1, done.stdout, done.stderr)
    if line.startswith("make test"):
        done = subprocess.run(
            ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        calls = all(tool in done.stdout for tool in ("ruff check", "mypy", "pytest"))
        return Ran(line, done.returncode if calls else 1, done.stdout, done.stderr)
    raise AssertionError(f"a make target this test does not know how to run: {line}")


def run_readme(newcomer: Newcomer, tmp_path: Path) -> list[Ran]:
    """Every command's outcome. `make` targets run in directories of their own, beside the rest
    (the demo takes as long as all the others together)."""
    ran: list[Ran | Future[Ran]] = []
    with ThreadPoolExecutor(max_workers=1) as beside:
        for block in BLOCK.findall(README.read_text()):
            run_block(block, newcomer, ran, lambda line: beside.submit(run_make, line, tmp_path))
    return [r if isinstance(r, Ran) else r.result() for r in ran]


def run_block(
    block: str,
    newcomer: Newcomer,
    ran: list[Ran | Future[Ran]],
    make: Callable[[str], Future[Ran]],
) -> None:
    assignments: list[str] = []  # `TOKEN=$(...)` lines, for the block's later commands
    for line in command_lines(block):
        if template(line):
            continue
        if line.startswith("make "):
            ran.append(make(line))
        elif re.match(r"^\.venv/bin/crossforce serve(\s+#.*)?$", line):
            ran.append(newcomer.serve(line))
        else:
            done = newcomer.bash("\n".join([*assignments, line]))
            ran.append(Ran(line, done.returncode, done.stdout, done.stderr))
            if re.match(r"^[A-Z_]+=", line):
                assignments.append(line)


def test_every_command_in_the_readme_runs(newcomer: Newcomer, tmp_path: Path) -> None:
    ran = run_readme(newcomer, tmp_path)
    assert {r.line for r in ran} | {c for c in readme_commands() if template(c)} == set(
        readme_commands()
    )
    for start in TEMPLATES:  # a template that left the README leaves this list too
        assert any(c.startswith(start) for c in readme_commands()), start
    operator = [r for r in ran if any(s in r.line for s in BESIDE_THE_HUB)]
    others = [r for r in ran if r not in operator]
    failed = [f"{r.line}\n{r.stdout[-800:]}\n{r.stderr[-1500:]}" for r in others if r.returncode]
    assert not failed, "\n\n".join(failed)
    by_start = {r.line.split("#")[0].strip(): r for r in others}
    token = by_start[".venv/bin/crossforce token --client coordinator"].stdout.strip()
    assert token.count(".") == 2  # only the token on stdout
    queue = next(r for r in others if r.line.startswith("curl "))
    assert '"priorityQueue":[{' in queue.stdout.replace(" ", ""), queue.stdout
    assert operator, "the README shows the operator's keys and audit commands"
    broken = [f"{r.line}\n{r.stderr[-1500:]}" for r in operator if r.returncode]
    assert not broken, "\n\n".join(broken)


def test_every_relative_link_in_the_docs_resolves_inside_the_repository() -> None:
    missing = []
    for doc in DOCS:
        text = doc.read_text()
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # https:, mailto:, an anchor in the same page
            path = (doc.parent / target.split("#")[0]).resolve()
            if not (path.is_relative_to(ROOT) and path.exists()):
                missing.append(f"{doc.relative_to(ROOT)}: {target}")
        for quoted in CODE.findall(text):  # a path shown as code must not leave the clone either
            if quoted.startswith("../") and not (doc.parent / quoted).resolve().is_relative_to(
                ROOT
            ):
                missing.append(f"{doc.relative_to(ROOT)}: `{quoted}`")
    assert not missing, "links that a clone cannot follow:\n" + "\n".join(missing)
