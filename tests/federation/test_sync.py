"""Force systems sync case summaries through the HTTP API, on both engines, end to end."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from graph.queries import links
from policies.crypto import is_sealed
from tests.federation.conftest import Hub, examples

# Every sync request is audited: a replay adds an audit entry and nothing else.
NODES_BESIDE_THE_AUDIT_LOG = (
    "MATCH (n) WHERE NOT n:AuditEntry AND NOT n:AuditHead RETURN count(n) AS n"
)

BLIND_INDEX = re.compile(r"[0-9a-f]{64}")


async def sync_examples(hub: Hub) -> tuple[dict[str, Any], dict[str, Any]]:
    as_case, gl_case = examples()
    for client, record in (("force-AS", as_case), ("force-GL", gl_case)):
        response = await hub.sync(client, [record])
        assert response.status_code == 200, response.text
        assert response.json()["results"][0]["status"] == "applied"
    return as_case, gl_case


async def case_links(hub: Hub, key: str) -> set[tuple[str, str, str]]:
    rows = await hub.store.read(links.CASE_LINKS, {"keys": [key]})
    return {(r["label"], r["force"], r["caseRef"]) for r in rows}


async def test_examples_sync_and_link_through_differently_written_identifiers(hub: Hub) -> None:
    await sync_examples(hub)
    # Phone (07700 900123 / +447700900123), name+dob (John Doe / JOHN DOE), IMEI in two
    # notations and the image hash in two cases: all meet at shared nodes.
    assert await case_links(hub, "AS:AS-2026-0042") == {
        ("Person", "GL", "GL/26/1187"),
        ("Device", "GL", "GL/26/1187"),
        ("Media", "GL", "GL/26/1187"),
    }


async def test_replay_changes_nothing_and_older_versions_are_stale(hub: Hub) -> None:
    as_case, _ = await sync_examples(hub)
    await hub.changes("force-AS")  # by then the sync's regrade alerts are on the feed
    before = await hub.store.read(NODES_BESIDE_THE_AUDIT_LOG)
    replay = await hub.sync("force-AS", [as_case])
    assert replay.json()["results"] == [
        {"index": 0, "caseRef": "AS-2026-0042", "status": "stale", "schema": "v1"}
    ]
    assert await hub.store.read(NODES_BESIDE_THE_AUDIT_LOG) == before
    newer = copy.deepcopy(as_case) | {"version": 5, "status": "ENFORCED"}
    older = copy.deepcopy(as_case) | {"version": 4, "status": "NEW"}
    response = await hub.sync("force-AS", [newer, older], gzipped=False, ndjson=False)
    assert [r["status"] for r in response.json()["results"]] == ["applied", "stale"]
    late = await hub.sync("force-AS", [older])
    assert late.json()["results"][0]["status"] == "stale"
    rows = await hub.store.read("MATCH (c:Case {key: 'AS:AS-2026-0042'}) RETURN c.status AS s")
    assert rows == [{"s": "ENFORCED"}]


async def test_tombstone_removes_the_case_and_its_links(hub: Hub) -> None:
    as_case, _ = await sync_examples(hub)
    kept = ("schema", "force", "caseRef", "referral", "risk", "status", "openedAt")
    withdrawn = {k: as_case[k] for k in kept} | {"version": 2, "deleted": True}
    response = await hub.sync("force-AS", [withdrawn])
    assert response.json()["results"][0]["status"] == "applied"
    assert await hub.store.read("MATCH (c:Case {force: 'AS'}) RETURN c.key AS k") == []
    assert await case_links(hub, "GL:GL/26/1187") == set()
    # The GL case still holds its own phone, device and image.
    assert (await hub.store.read("MATCH (:Case)-->(e) RETURN count(e) AS n"))[0]["n"] >= 3


async def test_a_record_for_another_force_is_rejected_and_audited(hub: Hub) -> None:
    as_case, _ = examples()
    response = await hub.sync("force-GL", [as_case])
    assert response.status_code == 422
    result = response.json()["results"][0]
    assert result["status"] == "rejected"
    assert {"path": "/force", "message": "must be the force of the sending client"} in result[
        "errors"
    ]
    entries = await hub.store.read(
        "MATCH (e:AuditEntry) RETURN e.action AS action, e.actor AS actor, e.outcome AS outcome"
    )
    assert {"action": "sync.write_other_force", "actor": "force-GL", "outcome": "denied"} in entries
    assert await hub.store.read("MATCH (c:Case) RETURN c.key AS k") == []


async def test_every_invalid_record_gets_its_path_and_message(hub: Hub) -> None:
    good, _ = examples()
    bad_level = copy.deepcopy(good) | {"caseRef": "AS-BAD-1"}
    bad_level["risk"]["level"] = "SEVERE"
    unknown = copy.deepcopy(good) | {"caseRef": "AS-BAD-2", "colour": "blue"}
    dangling = copy.deepcopy(good) | {"caseRef": "AS-BAD-3"}
    dangling["devices"][0]["usedBy"] = ["NOBODY"]
    future = copy.deepcopy(good) | {"caseRef": "AS-BAD-4", "openedAt": "2999-01-01T00:00:00Z"}
    bad_phone = copy.deepcopy(good) | {"caseRef": "AS-BAD-5"}
    bad_phone["suspects"][0]["phones"] = ["not a phone"]
    response = await hub.sync("force-AS", [good, bad_level, unknown, dangling, future, bad_phone])
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == ["applied"] + ["rejected"] * 5
    assert [r["errors"] for r in results[1:]] == [
        [{"path": "/risk/level", "message": "must be one of VERY_HIGH, HIGH, MEDIUM, LOW"}],
        [{"path": "/colour", "message": "unknown field"}],
        [{"path": "/devices/0/usedBy/0", "message": "does not name an item of this case"}],
        [{"path": "/openedAt", "message": "must not be in the future"}],
        [
            {
                "path": "/suspects/0/phones/0",
                "message": "is not a valid phone: must be digits, spaces, ()-./ and a leading +",
            }
        ],
    ]
    assert "not a phone" not in response.text.replace("not a phone number", "")


def links_in(feed: dict[str, Any]) -> list[dict[str, Any]]:
    """The feed's cross-force links (it also carries regrade alerts and victim actions)."""
    return [c for c in feed["changes"] if c["kind"] == "LINK"]


async def test_change_feed_gives_each_force_exactly_its_links(hub: Hub) -> None:
    await sync_examples(hub)
    as_feed = (await hub.changes("force-AS")).json()
    gl_feed = (await hub.changes("force-GL")).json()
    wi_feed = (await hub.changes("force-WI")).json()
    as_links, gl_links = links_in(as_feed), links_in(gl_feed)
    seen_by_as = {(c["caseRef"], c["otherForce"], c["otherCaseRef"], c["via"]) for c in as_links}
    assert seen_by_as == {
        ("AS-2026-0042", "GL", "GL/26/1187", via) for via in ("PERSON", "DEVICE", "MEDIA")
    }
    assert {(c["caseRef"], c["otherForce"], c["via"]) for c in gl_links} == {
        ("GL/26/1187", "AS", via) for via in ("PERSON", "DEVICE", "MEDIA")
    }
    assert wi_feed == {"changes": [], "next": "0"}
    # GL learns whom to call at AS; AS learns GL's officer (who has no e-mail on file).
    assert {c["contact"] for c in gl_links} == {"DC Example One <dc.one@as.police.example>"}
    assert {c["contact"] for c in as_links} == {"DC Example Two"}
    # Paging: nothing new after the last cursor, and a replay adds no duplicate links.
    await hub.sync("force-AS", [examples()[0] | {"version": 2}])
    again = (await hub.changes("force-AS", as_feed["next"])).json()
    assert again["changes"] == []


def stored_strings(value: Any) -> list[str]:
    """Every string the sync stored, except sealed values and blind indexes (random-looking
    material in which a short clear value could appear by chance)."""
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            if key == "sealed":
                sealed = json.loads(item)
                assert all(is_sealed(v) for v in sealed.values())
                continue
            out.extend(stored_strings(item))
        return out
    if isinstance(value, list):
        return [s for item in value for s in stored_strings(item)]
    if isinstance(value, str) and not is_sealed(value) and not BLIND_INDEX.fullmatch(value):
        return [value.lower()]
    return []


async def test_no_clear_personal_value_is_stored(hub: Hub) -> None:
    await sync_examples(hub)
    rows = await hub.store.read(
        "MATCH (n) WHERE n:Case OR n:Victim OR n:Person OR n:Device OR n:Account OR n:IPAddress"
        " OR n:Media OR n:Series OR n:Change RETURN properties(n) AS p"
    )
    rows += await hub.store.read("MATCH (:Case)-[r]->() RETURN properties(r) AS p")
    stored = "\n".join(stored_strings([r["p"] for r in rows]))
    assert "as-2026-0042" in stored  # the scan sees what was stored
    clear_values = (
        *("john", "doe", "07700", "7700900123", "j.doe", "bs1 4dj", "35-209900"),
        *("352099001761481", "jd_coach81", "81.2.69.160", "youth football", "nca-pkg-55120"),
        *("3f786850e387550fdab836ed7e6dc881de23001b", "0cc175b9c0f1b6a831c399e269772661"),
        *("dc example", "chat logs"),
    )
    for clear in clear_values:
        assert clear not in stored, clear


async def test_tokens_and_scopes_are_enforced(hub: Hub) -> None:
    as_case, _ = examples()
    no_token = await hub.http.post("/federation/v1/cases", json=[as_case])
    assert no_token.status_code == 401
    analyst = await hub.http.post(
        "/federation/v1/cases",
        json=[as_case],
        headers={"Authorization": f"Bearer {hub.token('analyst-AS')}"},
    )
    assert analyst.status_code == 403
    empty = await hub.http.post(
        "/federation/v1/cases",
        content=b"",
        headers={"Authorization": f"Bearer {hub.token('force-AS')}"},
    )
    assert empty.status_code == 400


async def test_a_number_out_of_range_is_a_400_that_says_so(hub: Hub) -> None:
    response = await hub.http.post(
        "/federation/v1/cases",
        content=b"[" + b"1" + b"0" * 400 + b"]",
        headers={"Authorization": f"Bearer {hub.token('force-AS')}"},
    )
    assert response.status_code == 400
    assert "number out of range" in response.json()["error"]
