"""Every node the hub looks up by a property has an index on it: without one, each lookup scans
every node of the label, and a sync that merges into a growing label slows with the region."""

from __future__ import annotations

import re
from pathlib import Path

from graph.migrations import MIGRATIONS

GRAPH = Path(__file__).resolve().parents[2] / "graph"
LOOKUP = re.compile(r"\(\w*:([A-Z]\w+) \{(\w+):")
# Labels with one node, or one per force: a scan is as cheap as an index.
SINGLETONS = {("SchemaVersion", "key")}


def looked_up() -> set[tuple[str, str]]:
    return {
        (label, prop)
        for path in GRAPH.rglob("*.py")
        for label, prop in LOOKUP.findall(path.read_text())
    }


def indexed() -> set[tuple[str, str]]:
    return {(step.label, step.prop) for m in MIGRATIONS for step in m.steps}


def test_every_property_the_hub_looks_nodes_up_by_is_indexed() -> None:
    lookups = looked_up()
    assert ("ImageCluster", "key") in lookups  # the scan finds what it is meant to
    assert lookups - SINGLETONS - indexed() == set()
