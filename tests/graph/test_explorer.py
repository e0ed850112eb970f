"""The explorer repository on both engines: a case's entities, an entity's cases and forces, case
heads and shortest paths, read back typed from cases written as the federation API prepares them."""

from __future__ import annotations

from pathlib import Path

from federation.prepare import tombstone
from graph import GraphStore
from graph.cases import case_key, tombstone_cases
from graph.explorer import CaseEntity, CaseHead, EntityCase, EntityForces, Explorer, NodeKey
from tests.graph.summaries import ENTITY_LISTS, Prepared, bare, entity_keys, two_forces

CASE = "Case"


async def test_a_case_reads_as_its_entities_and_an_entity_as_its_cases(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    first, second = two_forces()
    lone = bare("WI", "WI-1")
    rows = await Prepared.under(tmp_path).write(graph_store, first, second, lone)
    explorer = Explorer(graph_store)
    a, b = (case_key(r["force"], r["caseRef"]) for r in (first, second))
    heads = {
        a: CaseHead(a, "AS", first["caseRef"], first["risk"]["level"]),
        b: CaseHead(b, "GL", second["caseRef"], second["risk"]["level"]),
    }

    entities = await explorer.entities_of([a, b, "WI:WI-1"])

    assert sorted(entities, key=repr) == sorted(
        (
            CaseEntity(key, relation, NodeKey(label, entity))
            for key in (a, b)
            for kind, (label, relation) in ENTITY_LISTS.items()
            for entity in entity_keys(rows[key], kind)
        ),
        key=repr,
    )  # every entity written, once per relationship; victims are not among them
    shared = {e.entity for e in entities if e.case == a} & {
        e.entity for e in entities if e.case == b
    }
    assert shared

    held = await explorer.cases_of([*sorted(e.key for e in shared), "no-such-entity"])

    assert sorted(held, key=repr) == sorted(
        (EntityCase(e.entity, e.relation, heads[e.case]) for e in entities if e.entity in shared),
        key=repr,
    )
    assert await explorer.heads([a, b, "WI:WI-1", "AS:none"]) == heads | {
        "WI:WI-1": CaseHead("WI:WI-1", "WI", "WI-1", lone["risk"]["level"])
    }


async def test_forces_of_an_entity_are_every_force_holding_it(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    first, second = two_forces()
    rows = await Prepared.under(tmp_path).write(graph_store, first, second)
    a, b = (case_key(r["force"], r["caseRef"]) for r in (first, second))
    explorer = Explorer(graph_store)
    mine = {k for kind in ENTITY_LISTS for k in entity_keys(rows[a], kind)}
    theirs = {k for kind in ENTITY_LISTS for k in entity_keys(rows[b], kind)}

    found = await explorer.forces_of([*sorted(mine | theirs), "no-such-entity"])

    assert {f.entity.key: f.forces for f in found} == {
        key: frozenset({"AS"} if key in mine else set()) | ({"GL"} if key in theirs else set())
        for key in mine | theirs
    }
    assert all(isinstance(f, EntityForces) and f.entity.label != CASE for f in found)

    await tombstone_cases(graph_store, [tombstone(second | {"version": second["version"] + 1})])

    after = await explorer.forces_of(sorted(mine | theirs))
    assert {f.entity.key: f.forces for f in after} == dict.fromkeys(mine, frozenset({"AS"}))
    assert await explorer.heads([b]) == {}
    assert await explorer.cases_of(sorted(theirs - mine)) == []


async def test_a_shortest_path_crosses_a_shared_entity(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    first, second = two_forces()
    rows = await Prepared.under(tmp_path).write(graph_store, first, second, bare("WI", "WI-1"))
    a, b = (case_key(r["force"], r["caseRef"]) for r in (first, second))
    explorer = Explorer(graph_store)
    shared = {
        (label, key)
        for kind, (label, _) in ENTITY_LISTS.items()
        for key in entity_keys(rows[a], kind) & entity_keys(rows[b], kind)
    }

    path = await explorer.shortest_path(NodeKey(CASE, a), NodeKey(CASE, b), 2)

    assert path is not None and len(path) == 3
    assert (path[0], path[2]) == (NodeKey(CASE, a), NodeKey(CASE, b))
    assert (path[1].label, path[1].key) in shared
    assert await explorer.shortest_path(NodeKey(CASE, a), NodeKey(CASE, b), 1) is None
    assert await explorer.shortest_path(NodeKey(CASE, a), NodeKey(CASE, "WI:WI-1"), 6) is None
    assert await explorer.shortest_path(NodeKey(CASE, a), NodeKey(CASE, "AS:none"), 6) is None
