"""Every node the hub looks up by a property has an index on it: without one, each lookup scans
every node of the label, and a sync that merges into a growing label slows with the region."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import graph.queries
from graph.migrations import MIGRATIONS

GRAPH = Path(__file__).resolve().parents[2] / "graph"
LOOKUP = re.compile(r"\(\w*:([A-Z]\w+) \{(\w+):")
# Labels with one node, or one per force: a scan is as cheap as an index.
SINGLETONS = {("SchemaVersion", "key")}


def _statements() -> list[str]:
    """Every module's text in graph/, and every statement `graph.queries` builds (some are
    rendered from templates, with the label filled in at import)."""
    texts = [path.read_text() for path in GRAPH.rglob("*.py")]
    for info in pkgutil.iter_modules(graph.queries.__path__):
        module = importlib.import_module(f"graph.queries.{info.name}")
        texts += [value for value in vars(module).values() if isinstance(value, str)]
    return texts


def looked_up() -> set[tuple[str, str]]:
    return {(label, prop) for text in _statements() for label, prop in LOOKUP.findall(text)}


def indexed() -> set[tuple[str, str]]:
    return {(step.label, step.prop) for m in MIGRATIONS for step in m.steps}


def test_every_property_the_hub_looks_nodes_up_by_is_indexed() -> None:
    lookups = looked_up()
    assert ("ImageCluster", "key") in lookups  # the scan finds what it is meant to
    assert lookups - SINGLETONS - indexed() == set()
