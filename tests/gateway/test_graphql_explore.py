"""The graph explorer's neighbourhoods and paths, within the agreement."""

from __future__ import annotations

import pytest

from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import data, graphql, summary, sync_all

NEIGHBOURHOOD = """
query N($start: NodeRef!, $depth: Int!, $first: Int!, $after: String) {
  neighbourhood(start: $start, depth: $depth, first: $first, after: $after) {
    totalCount truncated
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id kind distance force caseRef riskLevel heldBy existenceOnly } }
    links { source target relation }
  }
}
"""
AS_START = {"force": "AS", "caseRef": "AS-2026-0042"}
GL_START = {"force": "GL", "caseRef": "GL/26/1187"}


@pytest.fixture
async def two_forces(hub: Hub) -> Hub:
    await sync_all(hub, examples())
    return hub


async def neighbourhood(hub: Hub, start: dict[str, str], depth: int, first: int = 100,
                        after: str | None = None) -> dict[str, object]:  # fmt: skip
    variables = {"start": start, "depth": depth, "first": first, "after": after}
    result: dict[str, object] = (await data(hub, "analyst-AS", NEIGHBOURHOOD, variables))[
        "neighbourhood"
    ]
    return result


async def test_two_hops_from_a_case_reach_the_other_forces_case(two_forces: Hub) -> None:
    result = await neighbourhood(two_forces, AS_START, 2)
    nodes = [e["node"] for e in result["edges"]]  # type: ignore[attr-defined]
    cases = {(n["force"], n["caseRef"], n["distance"]) for n in nodes if n["kind"] == "CASE"}
    assert cases == {("AS", "AS-2026-0042", 0), ("GL", "GL/26/1187", 2)}
    shared = [n for n in nodes if n["heldBy"] == ["AS", "GL"]]
    assert {n["kind"] for n in shared} == {"PERSON", "DEVICE", "MEDIA"}
    assert not any(n["existenceOnly"] for n in shared)  # AS sees its own identifiers masked
    gl_case = next(n["id"] for n in nodes if n["force"] == "GL")
    assert any(link["source"] == gl_case for link in result["links"])  # type: ignore[attr-defined]


async def test_another_forces_own_entities_are_existence_only(two_forces: Hub) -> None:
    own = summary(
        "GL", 77,
        suspects=[{"ref": "P1", "givenName": "Alex", "familyName": "Roe",
                   "dateOfBirth": "1990-02-03"}],
        accounts=[{"ref": "A1", "platform": "kik", "handle": "only_in_gl", "usedBy": ["P1"]}],
    )  # fmt: skip
    await sync_all(two_forces, [own])
    result = await neighbourhood(two_forces, {"force": "GL", "caseRef": own["caseRef"]}, 1)
    entities = [e["node"] for e in result["edges"] if e["node"]["kind"] != "CASE"]  # type: ignore[attr-defined]
    assert {n["kind"] for n in entities} == {"PERSON", "ACCOUNT"}
    assert all(n["heldBy"] == ["GL"] and n["existenceOnly"] for n in entities)


async def test_pages_cover_the_neighbourhood_once(two_forces: Hub) -> None:
    whole = await neighbourhood(two_forces, AS_START, 3)
    seen: list[str] = []
    after = None
    while True:
        part = await neighbourhood(two_forces, AS_START, 3, first=3, after=after)
        seen += [e["node"]["id"] for e in part["edges"]]  # type: ignore[attr-defined]
        if not part["pageInfo"]["hasNextPage"]:  # type: ignore[index]
            break
        after = part["pageInfo"]["endCursor"]  # type: ignore[index]
    assert seen == [e["node"]["id"] for e in whole["edges"]]  # type: ignore[attr-defined]
    assert len(seen) == whole["totalCount"]


async def test_path_between_cases_of_two_forces(two_forces: Hub) -> None:
    query = """query P($a: NodeRef!, $b: NodeRef!) { path(start: $a, end: $b) { kind force } }"""
    result = await data(two_forces, "analyst-AS", query, {"a": AS_START, "b": GL_START})
    kinds = [n["kind"] for n in result["path"]]
    assert len(kinds) == 3 and kinds[0] == kinds[2] == "CASE"
    assert kinds[1] in {"PERSON", "DEVICE", "MEDIA", "ACCOUNT", "IP_ADDRESS", "SERIES"}


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"start": AS_START, "depth": 4, "first": 10}, "BAD_USER_INPUT"),
        ({"start": {"id": "Person:" + "0" * 64}, "depth": 1, "first": 10}, "NOT_FOUND"),
        ({"start": {"id": "Victim:x"}, "depth": 1, "first": 10}, "BAD_USER_INPUT"),
    ],
)
async def test_bad_starts_and_depths_are_refused(
    two_forces: Hub, variables: dict[str, object], code: str
) -> None:
    payload = (await graphql(two_forces, "analyst-AS", NEIGHBOURHOOD, variables)).json()
    assert payload["errors"][0]["extensions"]["code"] == code


async def test_a_path_from_a_node_to_itself_is_that_node_on_every_engine(two_forces: Hub) -> None:
    query = """query P($a: NodeRef!, $b: NodeRef!) { path(start: $a, end: $b) { id kind force } }"""
    result = await data(two_forces, "analyst-AS", query, {"a": AS_START, "b": AS_START})
    assert [(n["kind"], n["force"]) for n in result["path"]] == [("CASE", "AS")]
    drawn = (await neighbourhood(two_forces, AS_START, 1))["edges"]
    node = next(e["node"]["id"] for e in drawn if e["node"]["kind"] != "CASE")  # type: ignore[attr-defined]
    ends = {"a": {"id": node}, "b": {"id": node}}
    assert [n["id"] for n in (await data(two_forces, "analyst-AS", query, ends))["path"]] == [node]
    made_up = {"id": "Person:" + "0" * 64}
    unknown = await data(two_forces, "analyst-AS", query, {"a": made_up, "b": made_up})
    assert unknown["path"] is None  # no oracle for whether the hub holds an identifier


async def test_held_by_names_every_holder_however_shallow_the_drawing(two_forces: Hub) -> None:
    deep = await neighbourhood(two_forces, AS_START, 2)
    shared = {
        e["node"]["id"]
        for e in deep["edges"]  # type: ignore[attr-defined]
        if e["node"]["heldBy"] == ["AS", "GL"]
    }
    assert shared
    shallow = await neighbourhood(two_forces, AS_START, 1)
    nodes = {e["node"]["id"]: e["node"] for e in shallow["edges"]}  # type: ignore[attr-defined]
    assert not any(n["force"] == "GL" for n in nodes.values())  # GL's case is not drawn
    assert {nid for nid, n in nodes.items() if n["heldBy"] == ["AS", "GL"]} == shared


async def test_a_path_names_every_holder_of_its_entities(two_forces: Hub) -> None:
    query = """query P($a: NodeRef!, $b: NodeRef!) { path(start: $a, end: $b) { kind heldBy } }"""
    result = await data(two_forces, "analyst-AS", query, {"a": AS_START, "b": AS_START})
    assert result["path"] == [{"kind": "CASE", "heldBy": []}]
    between = await data(two_forces, "analyst-AS", query, {"a": AS_START, "b": GL_START})
    assert between["path"][1]["heldBy"] == ["AS", "GL"]
