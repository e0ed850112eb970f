"""Analysts read cases and links within the sharing agreement, and reveal with a purpose."""

from __future__ import annotations

import pytest

from tests.federation.conftest import Hub, examples
from tests.gateway.graphql_client import data, graphql, sync_all

AS_CASE = {"force": "AS", "caseRef": "AS-2026-0042"}
GL_CASE = {"force": "GL", "caseRef": "GL/26/1187"}

CASE = """
query Case($force: String!, $caseRef: String!) {
  case(force: $force, caseRef: $caseRef) {
    force caseRef riskLevel status
    summary { state value pointer }
    officer { name { state value } }
    suspects { ref familyName { state value pointer } phones { state value } }
    links { via force caseRef contact }
  }
}
"""

REVEAL = """
mutation Reveal($force: String!, $caseRef: String!, $field: String!, $purpose: String!) {
  reveal(force: $force, caseRef: $caseRef, field: $field, purpose: $purpose)
}
"""


@pytest.fixture
async def two_forces(hub: Hub) -> Hub:
    await sync_all(hub, examples())
    return hub


async def test_case_links_name_the_other_forces_case_and_whom_to_call(two_forces: Hub) -> None:
    case = (await data(two_forces, "analyst-AS", CASE, AS_CASE))["case"]
    assert (case["force"], case["caseRef"], case["riskLevel"]) == ("AS", "AS-2026-0042", "HIGH")
    gl_officer = examples()[1]["officer"]
    assert sorted((link["via"], link["force"], link["caseRef"]) for link in case["links"]) == [
        ("DEVICE", "GL", "GL/26/1187"),
        ("MEDIA", "GL", "GL/26/1187"),
        ("PERSON", "GL", "GL/26/1187"),
    ]
    assert all(gl_officer["name"] in (link["contact"] or "") for link in case["links"])


async def test_own_force_sees_sensitive_fields_masked_until_revealed(two_forces: Hub) -> None:
    case = (await data(two_forces, "analyst-AS", CASE, AS_CASE))["case"]
    assert case["summary"] == {"state": "MASKED", "value": None, "pointer": "/summary"}
    family = case["suspects"][0]["familyName"]
    assert family == {"state": "MASKED", "value": None, "pointer": "/suspects/0/familyName"}
    assert case["officer"]["name"]["state"] == "CLEAR"
    assert case["officer"]["name"]["value"] == examples()[0]["officer"]["name"]


async def test_other_forces_suspect_is_existence_only_and_free_text_hidden(
    two_forces: Hub,
) -> None:
    case = (await data(two_forces, "analyst-AS", CASE, GL_CASE))["case"]
    assert case["summary"] is None
    suspect = case["suspects"][0]
    assert suspect["familyName"]["state"] == "EXISTENCE"
    assert suspect["familyName"]["value"] is None
    assert all(p["value"] is None for p in suspect["phones"])
    assert suspect["ref"] is None  # existence: not even the force's own reference


async def test_coordinator_sees_case_metadata_and_no_personal_data(two_forces: Hub) -> None:
    case = (await data(two_forces, "coordinator", CASE, AS_CASE))["case"]
    assert case["riskLevel"] == "HIGH"
    assert case["summary"] is None
    assert case["officer"] is None
    assert case["suspects"] is None


async def test_a_reveal_with_purpose_returns_the_value_and_is_audited(two_forces: Hub) -> None:
    variables = AS_CASE | {"field": "/suspects/0/familyName", "purpose": "arrest planning today"}
    revealed = await data(two_forces, "analyst-AS", REVEAL, variables)
    assert revealed["reveal"] == examples()[0]["suspects"][0]["familyName"]
    rows = await two_forces.store.read(
        "MATCH (a:AuditEntry) WHERE a.action = 'reveal' RETURN a.target AS target, "
        "a.purpose AS purpose, a.actor AS actor ORDER BY a.seq DESC LIMIT 1"
    )
    assert rows[0]["target"] == "case:AS/AS-2026-0042#/suspects/0/familyName"
    assert rows[0]["purpose"] == "arrest planning today"


@pytest.mark.parametrize(
    ("client", "case", "purpose"),
    [
        ("analyst-AS", AS_CASE, "why"),  # no real purpose
        ("analyst-AS", GL_CASE, "linked case enquiry"),  # another force's suspect: existence
        ("coordinator", AS_CASE, "linked case enquiry"),  # no sensitive:reveal scope
    ],
)
async def test_reveals_without_purpose_scope_or_agreement_are_refused(
    two_forces: Hub, client: str, case: dict[str, str], purpose: str
) -> None:
    variables = case | {"field": "/suspects/0/familyName", "purpose": purpose}
    response = await graphql(two_forces, client, REVEAL, variables)
    payload = response.json()
    assert response.status_code == 200
    assert payload["data"]["reveal"] is None
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert examples()[0]["suspects"][0]["familyName"] not in response.text


async def test_case_with_links_and_contacts_costs_a_fixed_number_of_round_trips(
    two_forces: Hub,
) -> None:
    records = [examples()[0] | {"caseRef": f"AS-COPY-{n}"} for n in range(6)]
    await sync_all(two_forces, records)
    query = '{ a: case(force: "AS", caseRef: "AS-COPY-0") { links { caseRef contact } } }'
    few = (await graphql(two_forces, "analyst-AS", query)).json()
    aliases = " ".join(
        f'c{n}: case(force: "AS", caseRef: "AS-COPY-{n}") {{ links {{ caseRef contact }} }}'
        for n in range(6)
    )
    many = (await graphql(two_forces, "analyst-AS", "{" + aliases + "}")).json()
    assert len(many["data"]["c5"]["links"]) == len(few["data"]["a"]["links"]) > 6
    # The cases, then their links with the linked cases' seals: contacts need no third trip.
    assert many["extensions"]["graphRoundTrips"] == few["extensions"]["graphRoundTrips"] == 2
