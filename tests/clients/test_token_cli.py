"""`crossforce token` beside a hub started by `crossforce serve` on a port of its own: the token is
for that hub, and a token for another hub is refused with both issuers named."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.demo.server import wait_until_ready
from graph.embedded import free_port
from policies.devidp import mint_token

OVERSIGHT = {"query": "{ oversight { byForce { force open } } }"}


@dataclass
class Served:
    url: str
    env: dict[str, str]
    data_dir: Path


def crossforce(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`crossforce serve --port N` on the embedded graph, as a person would start it."""
    data_dir = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("CROSSFORCE_PUBLIC_URL", "CROSSFORCE_GRAPH_URI", "CROSSFORCE_URL")
    }
    env |= {"CROSSFORCE_DATA_DIR": str(data_dir), "CROSSFORCE_LOG_LEVEL": "warning"}
    hub = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until_ready(url, 120, alive=lambda: hub.poll() is None), "hub did not start"
        yield Served(url, env, data_dir)
    finally:
        hub.terminate()
        hub.wait(60)


def test_a_token_without_flags_is_accepted_by_a_hub_on_any_port(served: Served) -> None:
    done = crossforce(served.env, "token", "--client", "coordinator")
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    answer = httpx.post(
        f"{served.url}/graphql",
        json=OVERSIGHT,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    assert "errors" not in answer.json()


def test_an_explicit_public_url_wins_over_the_hubs_recorded_address(served: Served) -> None:
    env = served.env | {"CROSSFORCE_PUBLIC_URL": "http://127.0.0.1:1"}
    done = crossforce(env, "token", "--client", "coordinator")
    assert done.returncode == 0, done.stderr
    answer = httpx.post(
        f"{served.url}/graphql",
        json=OVERSIGHT,
        headers={"Authorization": f"Bearer {done.stdout.strip()}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert "http://127.0.0.1:1" in answer.text


def test_a_token_of_another_issuer_is_refused_naming_both_issuers(served: Served) -> None:
    elsewhere = "http://127.0.0.1:8000"
    token = mint_token(served.data_dir, elsewhere, "crossforce", "coordinator")
    answer = httpx.post(
        f"{served.url}/graphql",
        json=OVERSIGHT,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert answer.status_code == 401
    assert "wrong issuer" in answer.text
    assert served.url in answer.text and elsewhere in answer.text
    assert token not in answer.text


def test_the_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"crossforce {version('crossforce')}"
