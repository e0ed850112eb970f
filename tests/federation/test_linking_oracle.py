"""A force system cannot use sync as a linking oracle (issue 20, item 5).

The attack: one request of 2,000 invented one-phone cases covering two 1,000-number ranges, then
the change feed tells the force which other forces hold which numbers, with their case references
and officers. The case rules' intake ceiling holds those link events and alerts the region; a
sync of a force's usual size still links as before; an administrator's release lets them through.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from graph.audit_store import GraphAuditStore
from tests.federation.conftest import Hub

# Two ranges of 1,000 numbers each; the other force holds a few numbers in each.
RANGES = ("07700 900{:03d}", "07911 123{:03d}")
HELD_BY_GL = {"GL/ORACLE/1": RANGES[0].format(123), "GL/ORACLE/2": RANGES[0].format(808),
              "GL/ORACLE/3": RANGES[1].format(5), "GL/ORACLE/4": RANGES[1].format(999)}  # fmt: skip


def one_phone_case(force: str, case_ref: str, phone: str, officer: str) -> dict[str, Any]:
    return {
        "schema": "crossforce/case-summary/v1", "force": force, "caseRef": case_ref, "version": 1,
        "referral": {"source": "NCA", "receivedAt": "2026-10-02T09:15:00Z"},
        "risk": {"level": "MEDIUM", "assessedAt": "2026-10-02T12:00:00Z"},
        "status": "ALLOCATED", "openedAt": "2026-10-02T09:20:00Z",
        "officer": {"name": officer},
        "suspects": [{"ref": "P1", "phones": [phone]}],
    }  # fmt: skip


async def seed_other_force(hub: Hub) -> None:
    cases = [one_phone_case("GL", ref, phone, "DC Gee") for ref, phone in HELD_BY_GL.items()]
    response = await hub.sync("force-GL", cases)
    assert response.status_code == 200, response.text


def invented_cases(force: str) -> list[dict[str, Any]]:
    return [
        one_phone_case(force, f"{force}-PROBE-{r}-{n:03d}", pattern.format(n), "DC Probe")
        for r, pattern in enumerate(RANGES)
        for n in range(1000)
    ]


def links_to_gl(feed: dict[str, Any]) -> set[str]:
    return {c["otherCaseRef"] for c in feed["changes"] if c.get("otherForce") == "GL"}


async def audit_actions(hub: Hub) -> list[dict[str, Any]]:
    rows = await GraphAuditStore(hub.store).entries(0, 100_000)
    return [dict(row) for row in rows]


async def test_a_sync_of_usual_size_links_as_before(hub: Hub) -> None:
    await seed_other_force(hub)
    normal = [one_phone_case("DC", "DC-1", HELD_BY_GL["GL/ORACLE/1"], "DC Dee")]
    assert (await hub.sync("force-DC", normal)).status_code == 200
    feed = (await hub.changes("force-DC")).json()
    assert links_to_gl(feed) == {"GL/ORACLE/1"}
    assert {c["contact"] for c in feed["changes"] if c["kind"] == "LINK"} == {"DC Gee"}
    assert not [e for e in await audit_actions(hub) if e["action"] == "sync.ceiling_exceeded"]


async def test_sync_as_a_linking_oracle_is_held_and_alerted(hub: Hub) -> None:
    await seed_other_force(hub)
    before = (await hub.changes("force-AS")).json()["next"]

    response = await hub.sync("force-AS", invented_cases("AS"))

    assert response.status_code == 200
    assert {r["status"] for r in response.json()["results"]} == {"applied"}
    feed = (await hub.changes("force-AS", before)).json()
    assert links_to_gl(feed) == set()
    assert "DC Gee" not in json.dumps(feed)
    # GL does not hear of the invented cases either, until an administrator looks.
    assert not [c for c in (await hub.changes("force-GL")).json()["changes"] if c["kind"] == "LINK"]
    # The region's administrators are alerted: an audit entry, a metric, both without values.
    entries = await audit_actions(hub)
    alerts = [e for e in entries if e["action"] == "sync.ceiling_exceeded"]
    assert [(e["actor"], e["outcome"]) for e in alerts] == [("force-AS", "held")]
    # Alerted once, by the batch that crossed the ceiling of new cases (floor 1,000).
    assert alerts[0]["target"] == "force:AS"
    assert re.fullmatch(r"new_cases=\d+/1000 new_identifiers=\d+/10000", alerts[0]["detail"])
    syncs = [e["detail"] for e in entries if e["action"] == "sync" and e["actor"] == "force-AS"]
    assert syncs == [
        "received=2000 applied=2000 stale=0 rejected=0 other_force=0 new_cases=2000 "
        "new_identifiers=1996 linking_identifiers=4"
    ]
    metrics = (await hub.http.get("/metrics")).text
    assert 'crossforce_sync_ceiling_exceeded_total{force="AS"}' in metrics
    assert "+44" not in json.dumps(entries) and "07700" not in json.dumps(entries)


async def test_a_held_force_stays_held_when_it_syncs_its_cases_again(hub: Hub) -> None:
    await seed_other_force(hub)
    probes = invented_cases("AS")
    before = (await hub.changes("force-AS")).json()["next"]
    await hub.sync("force-AS", probes)
    numbers = set(HELD_BY_GL.values())
    hits = [c | {"version": 2} for c in probes if c["suspects"][0]["phones"][0] in numbers]
    assert len(hits) == 4
    await hub.sync("force-AS", hits)  # not new cases, not new identifiers: still held
    assert links_to_gl((await hub.changes("force-AS", before)).json()) == set()


runner = CliRunner()


async def test_an_administrator_releases_the_held_links(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed_other_force(hub)
    before = (await hub.changes("force-AS")).json()["next"]
    await hub.sync("force-AS", invented_cases("AS"))
    await hub.changes("force-AS")  # the after-sync step has run
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", hub.settings.graph_uri or "")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(hub.settings.data_dir))

    held = await asyncio.to_thread(runner.invoke, app, ["links", "held"])
    assert held.exit_code == 0, held.output
    assert held.stdout.startswith("AS: held since ")
    released = await asyncio.to_thread(runner.invoke, app, ["links", "release", "--force", "AS"])
    assert released.exit_code == 0, released.output

    feed = (await hub.changes("force-AS", before)).json()
    assert links_to_gl(feed) == set(HELD_BY_GL)
    assert {c["contact"] for c in feed["changes"] if c.get("otherForce") == "GL"} == {"DC Gee"}
    gl_links = [c for c in (await hub.changes("force-GL")).json()["changes"] if c["kind"] == "LINK"]
    assert len(gl_links) == 4
    assert [e["action"] for e in await audit_actions(hub)].count("links.release") == 1
    # Released: the rest of the day counts afresh, so a usual sync links at once.
    again = (await hub.changes("force-AS")).json()["next"]
    normal = [one_phone_case("AS", "AS-REAL-1", HELD_BY_GL["GL/ORACLE/3"], "DC Ay")]
    await hub.sync("force-AS", normal)
    assert links_to_gl((await hub.changes("force-AS", again)).json()) == {"GL/ORACLE/3"}
