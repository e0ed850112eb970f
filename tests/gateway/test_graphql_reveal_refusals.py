"""A reveal answers the same whether or not the case or its value exists, audits every refusal
with its purpose bounded, and says so plainly when the value's data key was shredded."""

from __future__ import annotations

from typing import Any

import pytest

from policies.principal import Principal
from tests.conftest import ENGINES
from tests.federation.conftest import Hub, examples
from tests.federation.pull_fixtures import ingest_beside, started_hub
from tests.federation.test_ingest_pipeline import stream
from tests.gateway.graphql_client import graphql, sync_all

# A hub of this module's own: a test shreds a data key, which no other module should meet.
hub_server = pytest.fixture(scope="module", params=ENGINES, name="hub_server")(started_hub)

REVEAL = """
mutation Reveal($force: String!, $caseRef: String!, $field: String!, $purpose: String!) {
  reveal(force: $force, caseRef: $caseRef, field: $field, purpose: $purpose)
}
"""
DENIED = (
    "MATCH (e:AuditEntry) WHERE e.action = 'access.denied' "
    "RETURN e.actor AS actor, e.target AS target, e.purpose AS purpose ORDER BY e.seq"
)
FAMILY_NAME = "/suspects/0/familyName"


async def reveal(hub: Hub, client: str, variables: dict[str, str]) -> dict[str, Any]:
    response = await graphql(hub, client, REVEAL, variables)
    assert response.status_code == 200, response.text
    payload: dict[str, Any] = response.json()
    assert payload["data"]["reveal"] is None
    [error] = payload["errors"]
    return {"code": error["extensions"]["code"], "message": error["message"]}


async def test_absent_cases_and_values_are_refused_as_hidden_fields_and_audited(
    hub: Hub,
) -> None:
    await sync_all(hub, examples())
    purpose = {"purpose": "linked case enquiry"}
    hidden = {"force": "GL", "caseRef": "GL/26/1187", "field": FAMILY_NAME} | purpose
    no_case = {"force": "GL", "caseRef": "GL/26/9999", "field": FAMILY_NAME} | purpose
    no_value = {"force": "AS", "caseRef": "AS-2026-0042", "field": "/suspects/7/familyName"}

    answers = [
        await reveal(hub, "analyst-AS", hidden),
        await reveal(hub, "analyst-AS", no_case),
        await reveal(hub, "analyst-AS", no_value | purpose),
    ]

    assert answers[0]["code"] == "FORBIDDEN"
    assert answers[1] == answers[0] and answers[2] == answers[0]
    assert await hub.store.read(DENIED) == [
        {"actor": "analyst-AS", "target": f"case:GL/GL/26/1187#{FAMILY_NAME}"} | purpose,
        {"actor": "analyst-AS", "target": f"case:GL/GL/26/9999#{FAMILY_NAME}"} | purpose,
        {"actor": "analyst-AS", "target": "case:AS/AS-2026-0042#/suspects/7/familyName"} | purpose,
    ]


async def test_an_over_long_purpose_is_refused_and_audited_by_its_length(hub: Hub) -> None:
    await sync_all(hub, examples())
    variables = {"force": "AS", "caseRef": "AS-2026-0042", "field": FAMILY_NAME}
    answer = await reveal(hub, "analyst-AS", variables | {"purpose": "x" * 200_000})
    assert answer["code"] == "FORBIDDEN" and "purpose" in answer["message"]
    [entry] = await hub.store.read(DENIED)
    assert entry["purpose"] == "purpose of 200000 characters"


async def test_a_reveal_of_a_shredded_value_says_so_and_is_audited_as_shredded(
    hub: Hub,
) -> None:
    # Written and then shredded by a second replica, so the serving hub has cached no key.
    ingest, protection = ingest_beside(hub.settings, hub.store)
    as_case, _ = examples()
    case = as_case | {"force": "DO", "caseRef": "DO-SHRED-1"}
    force_do = Principal(client_id="force-DO", scopes=frozenset({"sync:write"}), force="DO")
    [written] = await ingest.apply(force_do, stream([case]))
    assert written.status == "applied"
    await protection.keyring.shred("DO", None, actor="cli:operator")
    await protection.aclose()

    variables = {"force": "DO", "caseRef": "DO-SHRED-1", "field": FAMILY_NAME}
    answer = await reveal(hub, "analyst-DO", variables | {"purpose": "arrest planning today"})

    assert answer["code"] == "SHREDDED"
    assert "shredded" in answer["message"]
    rows = await hub.store.read(
        "MATCH (e:AuditEntry) WHERE e.action = 'reveal' RETURN e.outcome AS outcome"
    )
    assert rows == [{"outcome": "shredded"}]
