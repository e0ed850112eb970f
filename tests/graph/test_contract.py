"""The graph contract, run against both engines: the same answers from Neo4j and FalkorDB."""

from __future__ import annotations

import pytest

from graph import GraphError, GraphStore
from graph.cases import stored_versions, tombstone_cases, upsert_cases
from graph.queries import links, oversight
from tests.graph.builders import case_row


async def count(store: GraphStore, label: str) -> int:
    rows = await store.read(f"MATCH (n:{label}) RETURN count(n) AS n")
    return int(rows[0]["n"])


async def case_links(store: GraphStore, key: str) -> set[tuple[str, str, str]]:
    rows = await store.read(links.CASE_LINKS, {"keys": [key]})
    return {(row["label"], row["force"], row["caseRef"]) for row in rows}


async def test_upsert_writes_a_case_with_its_entities(graph_store: GraphStore) -> None:
    row = case_row(
        "AS", "AS-1", persons=("p1", "p2"), devices=("d1",), accounts=("a1",), ips=("i1",),
        media=("m1",), series=("s1",), victims=("V1",), depicts=(("m1", "V1"),),
    )  # fmt: skip
    assert await upsert_cases(graph_store, [row]) == {"AS:AS-1"}
    rows = await graph_store.read(
        "MATCH (c:Case {key: $key})-[r]->(e) RETURN type(r) AS rel, e.key AS key ORDER BY rel, key",
        {"key": "AS:AS-1"},
    )
    assert [(r["rel"], r["key"]) for r in rows] == [
        ("CONTAINS_MEDIA", "m1"),
        ("HAS_VICTIM", "AS:AS-1:V1"),
        ("IN_SERIES", "s1"),
        ("SEEN_FROM", "i1"),
        ("SUSPECT", "p1"),
        ("SUSPECT", "p2"),
        ("USES_ACCOUNT", "a1"),
        ("USES_DEVICE", "d1"),
    ]
    depicted = await graph_store.read(
        "MATCH (:Media {key: 'm1'})-[:DEPICTS]->(v) RETURN v.key AS k"
    )
    assert depicted == [{"k": "AS:AS-1:V1"}]


async def test_lower_or_equal_version_changes_nothing(graph_store: GraphStore) -> None:
    await upsert_cases(graph_store, [case_row("AS", "AS-1", 3, persons=("p1",), risk="HIGH")])
    assert await upsert_cases(graph_store, [case_row("AS", "AS-1", 3, persons=("p9",))]) == set()
    assert await upsert_cases(graph_store, [case_row("AS", "AS-1", 2, risk="LOW")]) == set()
    rows = await graph_store.read(
        "MATCH (c:Case {key: 'AS:AS-1'})-->(p:Person) RETURN c.version AS v, c.riskLevel AS risk,"
        " p.key AS person"
    )
    assert rows == [{"v": 3, "risk": "HIGH", "person": "p1"}]
    assert await stored_versions(graph_store, ["AS:AS-1", "AS:nope"]) == {
        "AS:AS-1": 3,
        "AS:nope": 0,
    }


async def test_newer_version_replaces_links_and_drops_unused_entities(
    graph_store: GraphStore,
) -> None:
    await upsert_cases(graph_store, [case_row("AS", "AS-1", 1, persons=("p1",), victims=("V1",))])
    await upsert_cases(graph_store, [case_row("AS", "AS-1", 2, persons=("p2",))])
    assert await count(graph_store, "Person") == 1
    assert await count(graph_store, "Victim") == 0
    rows = await graph_store.read("MATCH (:Case)-[:SUSPECT]->(p) RETURN p.key AS k")
    assert rows == [{"k": "p2"}]


async def test_shared_entity_links_two_forces(graph_store: GraphStore) -> None:
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "AS-1", persons=("phone-x",), devices=("imei-y",), media=("sha-z",)),
            case_row("GL", "GL/1", persons=("phone-x",), devices=("imei-y",), media=("sha-z",)),
            case_row("WI", "WI-9", persons=("someone-else",)),
        ],
    )
    assert await count(graph_store, "Person") == 2
    assert await case_links(graph_store, "AS:AS-1") == {
        ("Person", "GL", "GL/1"),
        ("Device", "GL", "GL/1"),
        ("Media", "GL", "GL/1"),
    }
    assert await case_links(graph_store, "WI:WI-9") == set()


async def test_tombstone_removes_the_case_but_keeps_shared_entities(
    graph_store: GraphStore,
) -> None:
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "AS-1", 1, persons=("shared", "only-as"), victims=("V1",)),
            case_row("GL", "GL/1", 1, persons=("shared",)),
        ],
    )
    tomb = {"key": "AS:AS-1", "force": "AS", "version": 2}
    assert await tombstone_cases(graph_store, [tomb]) == {"AS:AS-1"}
    persons = await graph_store.read("MATCH (p:Person) RETURN p.key AS k")
    assert persons == [{"k": "shared"}]
    assert await count(graph_store, "Case") == 1
    assert await count(graph_store, "Victim") == 0
    # A late copy of the withdrawn case stays out; a newer version brings it back.
    assert await upsert_cases(graph_store, [case_row("AS", "AS-1", 2)]) == set()
    assert await tombstone_cases(graph_store, [tomb]) == set()
    assert await upsert_cases(graph_store, [case_row("AS", "AS-1", 3)]) == {"AS:AS-1"}
    assert await count(graph_store, "Tombstone") == 0


async def test_one_and_two_hop_links(graph_store: GraphStore) -> None:
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "A", devices=("d1",)),
            case_row("GL", "B", devices=("d1",), accounts=("a1",)),
            case_row("WI", "C", accounts=("a1",)),
        ],
    )
    assert await case_links(graph_store, "AS:A") == {("Device", "GL", "B")}
    rows = await graph_store.read(links.CASES_TWO_HOPS, {"key": "AS:A"})
    assert rows == [{"key": "WI:C", "via": "GL:B"}]


async def test_shortest_path_between_entities(graph_store: GraphStore) -> None:
    # p1 <- A -> d1 <- B -> a1 <- C -> i1 : four case hops, six relationships.
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "A", persons=("p1",), devices=("d1",)),
            case_row("GL", "B", devices=("d1",), accounts=("a1",)),
            case_row("WI", "C", accounts=("a1",), ips=("i1",)),
            case_row("DC", "D", ips=("lonely",)),
        ],
    )
    path = await graph_store.shortest_path(("Person", "p1"), ("IPAddress", "i1"), 6)
    assert path is not None
    assert [(n["label"], n["key"]) for n in path] == [
        ("Person", "p1"),
        ("Case", "AS:A"),
        ("Device", "d1"),
        ("Case", "GL:B"),
        ("Account", "a1"),
        ("Case", "WI:C"),
        ("IPAddress", "i1"),
    ]
    assert await graph_store.shortest_path(("Person", "p1"), ("IPAddress", "i1"), 5) is None
    assert await graph_store.shortest_path(("Person", "p1"), ("IPAddress", "lonely"), 6) is None


async def test_aggregation_by_force_and_risk(graph_store: GraphStore) -> None:
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "1", risk="HIGH"),
            case_row("AS", "2", risk="HIGH", open_=False),
            case_row("AS", "3", risk="LOW"),
            case_row("GL", "1", risk="HIGH"),
        ],
    )
    rows = await graph_store.read(oversight.CASES_BY_FORCE_AND_RISK)
    assert rows == [
        {"force": "AS", "riskLevel": "HIGH", "cases": 2, "open": 1},
        {"force": "AS", "riskLevel": "LOW", "cases": 1, "open": 1},
        {"force": "GL", "riskLevel": "HIGH", "cases": 1, "open": 1},
    ]


async def test_failed_batch_writes_no_case(graph_store: GraphStore) -> None:
    good = case_row("AS", "1", persons=("p1",))
    bad = case_row("AS", "2", persons=("p2",))
    bad["props"]["nested"] = {"maps": "are not property values"}
    with pytest.raises(GraphError):
        await upsert_cases(graph_store, [good, bad])
    assert await count(graph_store, "Case") == 0
    assert await count(graph_store, "Person") == 0
