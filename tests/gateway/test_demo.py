"""`crossforce demo`, as `make demo` runs it: the hub starts, a region syncs, the story prints."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROLES = ("coordinator", "analyst-AS", "analyst-GL", "admin")


def crossforce_env(data_dir: Path) -> dict[str, str]:
    """A terminal of 80 columns, as a newcomer's may be; the demo's own data dir."""
    env = {k: v for k, v in os.environ.items() if k not in ("CROSSFORCE_PUBLIC_URL", "COLUMNS")}
    return env | {"CROSSFORCE_DATA_DIR": str(data_dir), "COLUMNS": "80"}


def test_demo_syncs_a_region_and_shows_what_to_look_at_first(tmp_path: Path) -> None:
    env = crossforce_env(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--exit", "--cases", "400"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    applied = [int(n) for n in re.findall(r"force-[A-Z]{2}: (\d+) applied", out)]
    pulled = re.search(r"WI is pulled: (\d+) records applied, 0 rejected", out)
    assert pulled is not None, out
    assert len(applied) == 4 and sum(applied) + int(pulled.group(1)) == 400
    assert "force-WI: pulled by the hub from its Graphene connector" in out
    assert "0 rejected" in out and not re.search(r"[1-9]\d* rejected", out)
    for title in (
        "Coordinator: cases against",
        "Regrade alerts:",
        "Analyst (analyst-AS):",
        "Cross-force links found",
    ):
        assert title in out
    assert re.search(r"│ AS\s+│\s+[1-9]\d*\s+│ (DC|DO|GL|WI)", out)  # AS links to other forces
    assert not (tmp_path / "graph" / "server.json").exists()  # the embedded graph stopped
    feeds = tmp_path / "demo-connector"  # where the pulled force's connector read its records
    assert feeds.is_dir() and not list(feeds.glob("*.jsonl"))  # and they are not kept


def test_without_the_connectors_environment_the_demo_says_how_to_get_it(tmp_path: Path) -> None:
    env = crossforce_env(tmp_path) | {"CROSSFORCE_CONNECTOR_PYTHON": str(tmp_path / "none")}
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--exit", "--cases", "50"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 1, done.stdout + done.stderr[-2000:]
    said = " ".join(done.stdout.split())
    assert "The demo's pulled force cannot start" in said and "make demo" in said
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "graph" / "server.json").exists()  # no hub was left behind


def test_the_demo_in_exit_mode_says_the_hub_stopped_and_prints_whole_secrets(
    tmp_path: Path,
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--exit", "--cases", "50"],
        env=crossforce_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "Sign in at http" not in out  # no address of a hub that has already stopped
    assert "The hub has stopped" in " ".join(out.split())
    secrets = json.loads((tmp_path / "devidp" / "client-secrets.json").read_text())
    lines = out.splitlines()
    for role in ROLES:  # each secret on one line with its role, to copy whole at 80 columns
        assert any(role in line and secrets[role] in line for line in lines), (role, out)


def test_the_demo_hub_takes_tokens_from_crossforce_token_until_ctrl_c(tmp_path: Path) -> None:
    env = crossforce_env(tmp_path)
    log = tmp_path / "demo.log"
    demo = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--serve", "--cases", "50"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        # Ctrl-C as a terminal delivers it: a suite started in the background by a shell
        # without job control runs with SIGINT ignored, which a child would inherit.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert demo.stdout is not None
    try:
        out, deadline = "", time.monotonic() + 150
        while "Serving until Ctrl-C." not in out and time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            out += line
        sign_in = re.search(r"Sign in at (http://127\.0\.0\.1:\d+)/", out)
        assert sign_in is not None, out
        token = subprocess.run(
            [sys.executable, "-m", "gateway.cli", "token", "--client", "analyst-AS"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert token.returncode == 0, token.stderr
        answer = httpx.post(
            f"{sign_in.group(1)}/graphql",
            json={"query": "{ priorityQueue(first: 1) { force caseRef } }"},
            headers={"Authorization": f"Bearer {token.stdout.strip()}"},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["priorityQueue"]
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.communicate()
            said = log.read_text()[-4000:]
            raise AssertionError(f"the demo did not stop on Ctrl-C:\n{said}") from None
    assert demo.returncode == 0, log.read_text()[-4000:]
