"""GraphQL is no way round the intake ceiling (issue 21): while the change feed holds a force's
link events, `Case.links`, the explorer and the priority queue's link points hide the same links
from everyone, and the held force's analysts learn of no other force's case through any case's
links, until an administrator releases the hold."""

from __future__ import annotations

import asyncio

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.federation.conftest import Hub
from tests.federation.test_linking_oracle import (
    HELD_BY_GL,
    invented_cases,
    one_phone_case,
    seed_other_force,
)
from tests.gateway.graphql_client import after_sync_done, data

pytestmark = pytest.mark.security

LINKS = """query L($f: String!, $c: String!) {
  case(force: $f, caseRef: $c) { links { force caseRef contact } }
}"""
DRAWN = """query N($f: String!, $c: String!) {
  neighbourhood(start: {force: $f, caseRef: $c}, depth: 2, first: 100) {
    edges { node { force caseRef } }
  }
}"""
PATH = """query P($f: String!, $c: String!, $g: String!, $d: String!) {
  path(start: {force: $f, caseRef: $c}, end: {force: $g, caseRef: $d}) { force caseRef }
}"""
QUEUE = "{ priorityQueue(first: 50) { force caseRef score reasons } }"
PROBE = "AS-PROBE-0-123"  # holds the number of GL/ORACLE/1


async def links(hub: Hub, client: str, force: str, case_ref: str) -> set[tuple[str, str]]:
    case = (await data(hub, client, LINKS, {"f": force, "c": case_ref}))["case"]
    assert case is not None
    return {(link["force"], link["caseRef"]) for link in case["links"]}


async def drawn(hub: Hub, client: str, force: str, case_ref: str) -> set[tuple[str, str]]:
    found = await data(hub, client, DRAWN, {"f": force, "c": case_ref})
    nodes = [edge["node"] for edge in found["neighbourhood"]["edges"]]
    return {(n["force"], n["caseRef"]) for n in nodes if n["caseRef"] is not None}


async def path(hub: Hub, client: str, start: tuple[str, str], end: tuple[str, str]) -> object:
    ends = {"f": start[0], "c": start[1], "g": end[0], "d": end[1]}
    return (await data(hub, client, PATH, ends))["path"]


async def link_reasons(hub: Hub, client: str) -> dict[str, list[str]]:
    """The priority queue's reasons that come from links to other forces, by case reference."""
    found = (await data(hub, client, QUEUE))["priorityQueue"]
    return {e["caseRef"]: [r for r in e["reasons"] if "other forces" in r] for e in found}


async def release(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", hub.settings.graph_uri or "")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(hub.settings.data_dir))
    released = await asyncio.to_thread(
        CliRunner().invoke, app, ["links", "release", "--force", "AS"]
    )
    assert released.exit_code == 0, released.output


async def probe(hub: Hub) -> None:
    await seed_other_force(hub)
    honest = one_phone_case("DC", "DC-1", HELD_BY_GL["GL/ORACLE/1"], "DC Dee")
    assert (await hub.sync("force-DC", [honest])).status_code == 200
    response = await hub.sync("force-AS", invented_cases("AS"))
    assert response.status_code == 200
    await after_sync_done(hub)


async def test_a_held_forces_analysts_see_no_other_forces_case_in_links(hub: Hub) -> None:
    await probe(hub)
    assert await links(hub, "analyst-AS", "AS", PROBE) == set()
    # Nor one hop away: another force's case, read by the held force, shows no other force's.
    assert await links(hub, "analyst-AS", "GL", "GL/ORACLE/1") == set()
    # The other side hears nothing of the invented cases either, as on its change feed; links
    # between forces that are not held stay.
    assert await links(hub, "analyst-GL", "GL", "GL/ORACLE/1") == {("DC", "DC-1")}


async def test_the_explorer_draws_no_link_the_change_feed_holds(hub: Hub) -> None:
    await probe(hub)
    assert await drawn(hub, "analyst-AS", "AS", PROBE) == {("AS", PROBE)}
    assert await path(hub, "analyst-AS", ("AS", PROBE), ("GL", "GL/ORACLE/1")) is None
    gl = await drawn(hub, "analyst-GL", "GL", "GL/ORACLE/1")
    assert gl == {("GL", "GL/ORACLE/1"), ("DC", "DC-1")}
    assert await path(hub, "analyst-DC", ("DC", "DC-1"), ("AS", PROBE)) is None


async def test_released_links_show_in_graphql(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> None:
    await probe(hub)
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", hub.settings.graph_uri or "")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(hub.settings.data_dir))
    released = await asyncio.to_thread(
        CliRunner().invoke, app, ["links", "release", "--force", "AS"]
    )
    assert released.exit_code == 0, released.output
    assert await links(hub, "analyst-AS", "AS", PROBE) == {("GL", "GL/ORACLE/1"), ("DC", "DC-1")}
    assert ("GL", "GL/ORACLE/1") in await drawn(hub, "analyst-AS", "AS", PROBE)
    assert await links(hub, "analyst-GL", "GL", "GL/ORACLE/1") == {("AS", PROBE), ("DC", "DC-1")}


async def test_the_priority_queue_gives_no_points_for_a_held_link(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    await probe(hub)
    # The invented cases that matched GL's numbers do not rise to the top of AS's queue, nor
    # do GL's cases rise on links to them; GL and DC's link, not held, still counts.
    held = await link_reasons(hub, "analyst-AS")
    assert not {ref: why for ref, why in held.items() if ref.startswith("AS-") and why}
    for reader in ("analyst-AS", "analyst-GL"):
        gl = await link_reasons(hub, reader)
        assert gl["GL/ORACLE/1"] == ["linked to 1 case in other forces"]  # DC-1
        assert not gl.get("GL/ORACLE/2")

    await release(hub, monkeypatch)

    assert (await link_reasons(hub, "analyst-AS"))[PROBE] == ["linked to 2 cases in other forces"]
    gl = await link_reasons(hub, "analyst-GL")
    assert gl["GL/ORACLE/1"] == ["linked to 2 cases in other forces"]
    assert gl["GL/ORACLE/2"] == ["linked to 1 case in other forces"]
