"""Victim identification across forces: groups from shared images and series, the work queue,
and recorded actions on every member force's change feed."""

from __future__ import annotations

from typing import Any

import pytest

from policies.devidp import Officer
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, summary, sync_all

IMAGE = "9c1185a5c5e9fc54612808977ee8f548b2258d31"

GROUPS = """
{ victimGroups { totalCount edges { node {
    id forces unidentified categories sharedImages sharedSeries
    victims { force caseRef ref ageBand identified }
    claim { force stale } actions { kind force referredTo outcome } } } } }
"""

CLAIM = "mutation C($g: ID!) { claimVictimGroup(groupId: $g) { claim { force } } }"
HAND_OVER = "mutation H($g: ID!) { handOverVictimGroup(groupId: $g) { claim { force } } }"
REFER = """
mutation R($g: ID!, $v: VictimRef!) {
  recordSafeguardingReferral(groupId: $g, victim: $v, referredTo: NSPCC, outcome: ACCEPTED) {
    actions { kind force referredTo outcome }
  }
}
"""


def victim(ref: str, age: str = "8-12") -> dict[str, object]:
    return {"ref": ref, "identified": False, "ageBand": age}


@pytest.fixture
async def region(hub: Hub) -> Hub:
    await sync_all(
        hub,
        [
            summary("AS", 1, victims=[victim("V1")],
                    media=[{"sha1": IMAGE.upper(), "category": "A", "depicts": ["V1"]}]),
            summary("GL", 2, victims=[victim("V7", "13-15")],
                    media=[{"sha1": IMAGE, "category": "B", "seriesRef": "S-44",
                            "depicts": ["V7"]}]),
            summary("WI", 3, victims=[victim("V2")],
                    media=[{"md5": "e" * 32, "seriesRef": "s-44", "depicts": ["V2"]}]),
            summary("DC", 4, victims=[victim("V9")],
                    media=[{"md5": "f" * 32, "depicts": ["V9"]}]),  # shares nothing
        ],
    )  # fmt: skip
    return hub


async def groups(hub: Hub, client: str) -> list[dict[str, object]]:
    result = await data(hub, client, GROUPS)
    return [edge["node"] for edge in result["victimGroups"]["edges"]]


async def test_victims_group_across_forces_by_shared_image_and_series(region: Hub) -> None:
    (group,) = await groups(region, "analyst-AS")
    assert group["forces"] == ["AS", "GL", "WI"]
    assert group["unidentified"] == 3
    assert group["sharedImages"] == 1 and group["sharedSeries"] == 1
    assert group["categories"] == ["A", "B", "UNGRADED"]
    victims = {v["force"]: v for v in group["victims"]}  # type: ignore[attr-defined]
    assert victims["AS"]["ageBand"] == "8-12" and victims["AS"]["ref"] == "V1"
    assert victims["GL"]["ageBand"] is None and victims["GL"]["ref"] is None  # existence only


async def test_a_claimed_group_is_others_only_after_a_hand_over(region: Hub) -> None:
    (group,) = await groups(region, "analyst-AS")
    ids = {"g": group["id"]}
    claimed = await data(region, "analyst-AS", CLAIM, ids)
    assert claimed["claimVictimGroup"]["claim"] == {"force": "AS"}
    refused = (await graphql(region, "analyst-GL", CLAIM, ids)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = (await graphql(region, "analyst-GL", HAND_OVER, ids)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    released = await data(region, "analyst-AS", HAND_OVER, ids)
    assert released["handOverVictimGroup"]["claim"] is None
    taken = await data(region, "analyst-GL", CLAIM, ids)
    assert taken["claimVictimGroup"]["claim"] == {"force": "GL"}


async def test_a_recorded_referral_reaches_every_member_forces_feed(region: Hub) -> None:
    (group,) = await groups(region, "analyst-GL")
    variables = {"g": group["id"], "v": {"force": "AS", "caseRef": "AS-T-0001", "ref": "V1"}}
    result = await data(region, "analyst-GL", REFER, variables)
    assert result["recordSafeguardingReferral"]["actions"] == [
        {"kind": "SAFEGUARDING_REFERRAL", "force": "GL", "referredTo": "NSPCC",
         "outcome": "ACCEPTED"}
    ]  # fmt: skip
    for force, case_ref in (("AS", "AS-T-0001"), ("GL", "GL-T-0002"), ("WI", "WI-T-0003")):
        feed = (await region.changes(f"force-{force}")).json()["changes"]
        mine = [c for c in feed if c["kind"] == "VICTIM_SAFEGUARDING_REFERRAL"]
        assert [(c["caseRef"], c["group"], c["otherForce"]) for c in mine] == [
            (case_ref, group["id"], "GL")
        ]
        # The victim's case is named to its own force only.
        named = [r for c in mine for r in c["reasons"] if "AS-T-0001" in r]
        assert named == ([] if force != "AS" else [mine[0]["reasons"][0]])
    dc_feed = (await region.changes("force-DC")).json()["changes"]
    assert not [c for c in dc_feed if c["kind"].startswith("VICTIM")]


async def test_recording_needs_the_victim_id_scope_and_a_member_victim(region: Hub) -> None:
    (group,) = await groups(region, "analyst-AS")
    outsider = {"g": group["id"], "v": {"force": "DC", "caseRef": "DC-T-0004", "ref": "V9"}}
    payload = (await graphql(region, "analyst-AS", REFER, outsider)).json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    member = {"g": group["id"], "v": {"force": "AS", "caseRef": "AS-T-0001", "ref": "V1"}}
    payload = (await graphql(region, "coordinator", REFER, member)).json()
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_queue_puts_groups_no_force_holds_first_then_most_unidentified(
    hub: Hub,
) -> None:
    # Two groups: AS and GL share an image of three victims; WI and DC one of one victim.
    three = [victim(f"V{n}") for n in (1, 2, 3)]
    await sync_all(
        hub,
        [
            summary("AS", 1, victims=three,
                    media=[{"sha1": IMAGE, "depicts": ["V1", "V2", "V3"]}]),
            summary("GL", 2, victims=[victim("V1")], media=[{"sha1": IMAGE, "depicts": ["V1"]}]),
            summary("WI", 3, victims=[victim("V1")],
                    media=[{"md5": "e" * 32, "depicts": ["V1"]}]),
            summary("DC", 4, victims=[victim("V1")],
                    media=[{"md5": "e" * 32, "depicts": ["V1"]}]),
        ],
    )  # fmt: skip
    queue = await groups(hub, "analyst-AS")
    assert [g["unidentified"] for g in queue] == [4, 2]
    await data(hub, "analyst-AS", CLAIM, {"g": queue[0]["id"]})
    after = await groups(hub, "analyst-AS")
    assert [g["id"] for g in after] == [queue[1]["id"], queue[0]["id"]]
    assert after[1]["claim"] == {"force": "AS", "stale": False}


SAM = Officer("pc-1234", "Sam Patel")
ROBIN = Officer("dc-0077", "Robin Hale")
HISTORY = """
query { victimGroups { edges { node {
  id unidentified claim { force officer officerName }
  victims { force caseRef ref identified }
  actions { id kind force outcome }
  history { kind force officer officerName note toForce toOfficer outcome } } } } }
"""
HAND_TO = """
mutation H($g: ID!, $to: HandOverTo, $note: String) {
  handOverVictimGroup(groupId: $g, to: $to, note: $note) { claim { force officer } }
}
"""
IDENTIFY = """
mutation I($g: ID!, $v: VictimRef!) { recordIdentification(groupId: $g, victim: $v) {
  unidentified victims { ref identified } } }
"""
REFER_PENDING = """
mutation R($g: ID!, $v: VictimRef!) {
  recordSafeguardingReferral(groupId: $g, victim: $v, referredTo: NSPCC, outcome: PENDING) {
    actions { id kind outcome }
  }
}
"""
UPDATE = """
mutation U($r: ID!) { updateSafeguardingReferral(referralId: $r, outcome: CHILD_SAFEGUARDED) {
  actions { id kind outcome } history { kind outcome } } }
"""
V1_OF_AS = {"force": "AS", "caseRef": "AS-T-0001", "ref": "V1"}


async def history_of(hub: Hub, client: str, officer: Officer | None = None) -> dict[str, Any]:
    result = await data(hub, client, HISTORY, officer=officer)
    node: dict[str, Any] = result["victimGroups"]["edges"][0]["node"]
    return node


async def test_a_group_is_handed_to_a_named_officer_with_a_note_and_its_history_kept(
    region: Hub,
) -> None:
    group = (await history_of(region, "analyst-AS"))["id"]
    await data(region, "analyst-AS", CLAIM, {"g": group}, officer=SAM)
    note = "School photo requested; call before visiting."
    handed = await data(
        region, "analyst-AS", HAND_TO,
        {"g": group, "to": {"force": "GL", "officer": ROBIN.subject}, "note": note},
        officer=SAM,
    )  # fmt: skip
    assert handed["handOverVictimGroup"]["claim"] == {"force": "GL", "officer": "dc-0077"}
    # The group is now GL's: AS cannot take it back, GL's officer may hand it on.
    refused = (await graphql(region, "analyst-AS", CLAIM, {"g": group}, officer=SAM)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    seen = await history_of(region, "analyst-GL", ROBIN)
    assert seen["history"] == [
        {"kind": "CLAIMED", "force": "AS", "officer": "pc-1234", "officerName": "Sam Patel",
         "note": None, "toForce": None, "toOfficer": None, "outcome": None},
        {"kind": "HANDED_OVER", "force": "AS", "officer": "pc-1234", "officerName": "Sam Patel",
         "note": note, "toForce": "GL", "toOfficer": "dc-0077", "outcome": None},
    ]  # fmt: skip
    # Told on the recipient's feed, for its own case in the group.
    feed = (await region.changes("force-GL")).json()["changes"]
    told = [c for c in feed if c["kind"] == "VICTIM_HANDED_OVER"]
    assert [(c["caseRef"], c["otherForce"], c["group"]) for c in told] == [
        ("GL-T-0002", "AS", group)
    ]
    # Name and note are sealed at rest: neither is in the graph in clear.
    rows = await region.store.read(
        "MATCH (a:VictimAction {group: $g}) RETURN a.sealed AS sealed", {"g": group}
    )
    stored = " ".join(str(row["sealed"]) for row in rows)
    assert "Sam Patel" not in stored and "School photo" not in stored and stored.strip()


async def test_a_hand_over_names_a_force_of_the_region(region: Hub) -> None:
    group = (await history_of(region, "analyst-AS"))["id"]
    await data(region, "analyst-AS", CLAIM, {"g": group})
    payload = (
        await graphql(region, "analyst-AS", HAND_TO, {"g": group, "to": {"force": "ZZ"}})
    ).json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    long_note = {"g": group, "to": {"force": "GL"}, "note": "x" * 2001}
    payload = (await graphql(region, "analyst-AS", HAND_TO, long_note)).json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_an_identification_counts_once_and_a_second_force_is_told_who_made_it(
    region: Hub,
) -> None:
    group = await history_of(region, "analyst-AS")
    before = group["unidentified"]
    variables = {"g": group["id"], "v": V1_OF_AS}
    first = await data(region, "analyst-GL", IDENTIFY, variables, officer=ROBIN)
    assert first["recordIdentification"]["unidentified"] == before - 1
    again = (await graphql(region, "analyst-WI", IDENTIFY, variables)).json()
    assert again["errors"][0]["extensions"]["code"] == "CONFLICT"
    assert "GL" in again["errors"][0]["message"]
    after = await history_of(region, "analyst-AS")
    assert after["unidentified"] == before - 1
    assert {"force": "AS", "caseRef": "AS-T-0001", "ref": "V1", "identified": True} in after[
        "victims"
    ]
    assert [(a["kind"], a["force"]) for a in after["actions"]] == [("IDENTIFIED", "GL")]
    # A later sync of the group's cases keeps the hub's identification in the count.
    await sync_all(
        region,
        [summary("WI", 3, victims=[victim("V2")],
                 media=[{"md5": "e" * 32, "seriesRef": "s-44", "depicts": ["V2"]}],
                 version=2)],
    )  # fmt: skip
    assert (await history_of(region, "analyst-AS"))["unidentified"] == before - 1


async def test_a_referral_outcome_is_updated_by_its_maker_and_told_to_the_victims_force(
    region: Hub,
) -> None:
    group = (await history_of(region, "analyst-AS"))["id"]
    made = await data(region, "analyst-GL", REFER_PENDING, {"g": group, "v": V1_OF_AS})
    (referral,) = made["recordSafeguardingReferral"]["actions"]
    assert referral["outcome"] == "PENDING"
    refused = (await graphql(region, "analyst-AS", UPDATE, {"r": referral["id"]})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    updated = await data(region, "analyst-GL", UPDATE, {"r": referral["id"]})
    result = updated["updateSafeguardingReferral"]
    assert result["actions"] == [
        {"id": referral["id"], "kind": "SAFEGUARDING_REFERRAL", "outcome": "CHILD_SAFEGUARDED"}
    ]
    assert [s["kind"] for s in result["history"]] == ["SAFEGUARDING_REFERRAL", "REFERRAL_UPDATED"]
    feed = (await region.changes("force-AS")).json()["changes"]
    told = [c for c in feed if c["kind"] == "VICTIM_SAFEGUARDING_OUTCOME"]
    assert [(c["caseRef"], c["otherForce"]) for c in told] == [("AS-T-0001", "GL")]
    assert "CHILD_SAFEGUARDED" in told[0]["reasons"][0]
    wi_feed = (await region.changes("force-WI")).json()["changes"]
    assert not [c for c in wi_feed if c["kind"] == "VICTIM_SAFEGUARDING_OUTCOME"]
    missing = (await graphql(region, "analyst-GL", UPDATE, {"r": "nope"})).json()
    assert missing["errors"][0]["extensions"]["code"] == "NOT_FOUND"
