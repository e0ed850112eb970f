"""Schema v1.1 summaries synced end to end, on both engines: what the hub answers and keeps."""

from __future__ import annotations

import copy
import json
from typing import Any

from federation.validation import parse_instant
from graph.queries import links
from tests.federation.conftest import Hub
from tests.federation.test_schema_versions import V1, example

CASE = "MATCH (c:Case {key: $key}) RETURN properties(c) AS c"
EVERYTHING = """
MATCH (n) OPTIONAL MATCH (n)-[r]->()
RETURN properties(n) AS n, collect(properties(r)) AS r
"""


def ms(instant: str) -> int:
    return int(parse_instant(instant).timestamp() * 1000)


async def stored(hub: Hub, key: str) -> dict[str, Any]:
    rows = await hub.store.read(CASE, {"key": key})
    found: dict[str, Any] = rows[0]["c"]
    return found


async def test_the_hub_says_which_schema_each_record_named(hub: Hub) -> None:
    v1 = example("v1")
    v1_1 = example("v1.1") | {"caseRef": "AS-2026-0043"}
    mixed = example("v1.1") | {"caseRef": "AS-2026-0044", "schema": V1}
    response = await hub.sync("force-AS", [v1, v1_1, mixed])
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [(r["index"], r["caseRef"], r["status"], r["schema"]) for r in results] == [
        (0, "AS-2026-0042", "applied", "v1"),
        (1, "AS-2026-0043", "applied", "v1.1"),
        (2, "AS-2026-0044", "rejected", "v1"),
    ]
    assert {e["path"] for e in results[2]["errors"]} >= {"/enforcements", "/outcome", "/team"}


async def test_enforcements_outcome_and_team_are_kept_on_the_case(hub: Hub) -> None:
    v1_1 = example("v1.1")
    assert (await hub.sync("force-AS", [v1_1])).json()["results"][0]["status"] == "applied"

    case = await stored(hub, "AS:AS-2026-0042")

    actions = sorted((ms(a["at"]), a["method"]) for a in v1_1["enforcements"])
    assert case["schemaVersion"] == "v1.1"
    assert case["team"] == "SPECIALIST"
    assert case["enforcementAt"] == actions[0][0]
    assert case["enforcementTimes"] == [at for at, _ in actions]
    assert case["enforcementMethods"] == ["WARRANT", "ARREST", "VOLUNTARY_ATTENDANCE"]
    assert case["outcomeKind"] == "CHARGED"
    assert case["outcomeAt"] == ms(v1_1["outcome"]["at"])
    assert case["resolvedAt"] == ms(v1_1["outcome"]["at"])


async def test_a_v1_enforcement_at_is_kept_as_one_action_of_method_other(hub: Hub) -> None:
    v1 = example("v1") | {"closedAt": "2026-11-30T12:00:00Z", "status": "CLOSED"}
    assert (await hub.sync("force-AS", [v1])).json()["results"][0]["status"] == "applied"

    case = await stored(hub, "AS:AS-2026-0042")

    assert case["schemaVersion"] == "v1"
    assert case["enforcementAt"] == ms(v1["enforcementAt"])
    assert case["enforcementTimes"] == [ms(v1["enforcementAt"])]
    assert case["enforcementMethods"] == ["OTHER"]
    assert "team" not in case and "outcomeKind" not in case
    assert case["resolvedAt"] == ms(v1["closedAt"])


async def test_a_pdq_hash_links_on_an_exact_match_and_is_never_kept_in_clear(hub: Hub) -> None:
    mine = example("v1.1")
    pdq = mine["media"][0]["pdq"]
    theirs = copy.deepcopy(example("v1.1"))
    theirs |= {"force": "GL", "caseRef": "GL/26/0007", "suspects": [], "devices": [],
               "victims": [], "officer": {"name": "DC Example Two"}}  # fmt: skip
    theirs["media"] = [{"md5": "0cc175b9c0f1b6a831c399e269772661", "pdq": pdq.upper()}]
    for client, record in (("force-AS", mine), ("force-GL", theirs)):
        assert (await hub.sync(client, [record])).json()["results"][0]["status"] == "applied"

    rows = await hub.store.read(links.CASE_LINKS, {"keys": ["AS:AS-2026-0042"]})
    assert {(r["label"], r["force"], r["caseRef"]) for r in rows} == {("Media", "GL", "GL/26/0007")}
    held = json.dumps(await hub.store.read(EVERYTHING)).lower()
    assert pdq.lower() not in held
