"""The benchmark's raw baseline writes the graph the hub's upsert writes, on both engines: the same
nodes with the same properties, the same relationships between the same keys. Only what the hub
adds for itself (its write clock, sequence numbers, the cases its after-sync step recounts) is
left out of the comparison."""

from __future__ import annotations

from typing import Any, cast

from graph import GraphStore
from graph.cases import CaseRow, upsert_cases
from graph.queries.baseline import RAW_UPSERT
from graph.queries.cases import CASE_ENTITIES
from tests.conftest import CLEAR
from tests.graph.builders import case_row

HUB_OWN = {"syncedAt", "seq", "touched", "afterSyncPending"}

NODES = """
MATCH (n) WHERE NOT n:Counter AND NOT n:SchemaVersion
RETURN labels(n)[0] AS label, n.key AS key, properties(n) AS props
"""
RELATIONSHIPS = """
MATCH (a)-[r]->(b)
RETURN type(r) AS type, a.key AS start, b.key AS end, properties(r) AS props
"""


def cases() -> list[CaseRow]:
    rows = [
        case_row(
            "AS",
            "AS-1",
            persons=("p-shared", "p-as"),
            devices=("d-1",),
            accounts=("a-shared",),
            ips=("i-1",),
            media=("m-1", "m-2"),
            series=("s-1",),
            victims=("V1", "V2"),
            depicts=(("m-1", "V1"), ("m-2", "V1"), ("m-2", "V2")),
        ),
        case_row("GL", "GL-ü", persons=("p-shared",), accounts=("a-shared",), media=("m-1",)),
        case_row("WI", "WI-0"),  # nothing linked
    ]
    rows[0]["contactPersons"] = [{"entity": "p-as", "victim": "AS:AS-1:V2"}]
    rows[0]["contactAccounts"] = [{"entity": "a-shared", "victim": "AS:AS-1:V1"}]
    return rows


async def written(store: GraphStore) -> tuple[list[Any], list[Any]]:
    def kept(props: dict[str, Any]) -> list[tuple[str, Any]]:
        return sorted((name, value) for name, value in props.items() if name not in HUB_OWN)

    nodes = [(r["label"], r["key"], kept(r["props"])) for r in await store.read(NODES)]
    relationships = [
        (r["type"], r["start"], r["end"], kept(r["props"])) for r in await store.read(RELATIONSHIPS)
    ]
    return sorted(nodes), sorted(relationships)


async def test_the_baseline_writes_the_graph_the_hub_upsert_writes(
    graph_store: GraphStore,
) -> None:
    assert await upsert_cases(graph_store, cases()) == {"AS:AS-1", "GL:GL-ü", "WI:WI-0"}
    hub = await written(graph_store)
    await graph_store.write(CLEAR)

    rows = await graph_store.write(RAW_UPSERT, {"cases": cases()})
    raw = await written(graph_store)

    assert rows == [{"written": 3}]
    nodes, relationships = hub
    assert raw[0] == nodes
    assert raw[1] == relationships
    lists = [cast(dict[str, Any], row)[field] for row in cases() for field, _, _ in CASE_ENTITIES]
    entities = {link["key"] for links in lists for link in links}
    victims = {victim["key"] for row in cases() for victim in row["victims"]}
    assert len(nodes) == len(cases()) + len(entities) + len(victims)
    expected = {rel for _, _, rel in CASE_ENTITIES} | {"HAS_VICTIM", "DEPICTS", "CONTACTED"}
    assert {rel[0] for rel in relationships} == expected
    assert ("SUSPECT", "AS:AS-1", "p-shared", [("kind", "phone"), ("ref", "P1")]) in relationships
