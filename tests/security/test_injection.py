"""Cypher injection in every free string field of a case summary reaches the graph only as a
parameter: the graph holds exactly the case's nodes, and each value comes back byte for byte."""

from __future__ import annotations

import pytest

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

pytestmark = pytest.mark.security

PAYLOADS = [
    "x'}) MATCH (n) DETACH DELETE n //",
    'x"}) CREATE (:Pwned) RETURN 1 //',
    "`) WITH 1 AS a CALL db.labels() YIELD label RETURN label //",
    "$key ${injected} {{template}} \\u0000 '; DROP GRAPH e2e; --",
]

REVEAL = """
mutation R($c: String!, $f: String!) {
  reveal(force: "AS", caseRef: $c, field: $f, purpose: "injection check of stored values")
}
"""


@pytest.mark.parametrize("payload", PAYLOADS)
async def test_injection_in_string_fields_is_stored_as_data(hub: Hub, payload: str) -> None:
    record = summary(
        "AS", 1,
        summary=payload,
        officer={"name": payload, "email": "officer@as.police.example"},
        suspects=[{"ref": "P1", "givenName": payload, "familyName": payload,
                   "dateOfBirth": "1980-01-01"}],
        accounts=[{"ref": "A1", "platform": "chat", "handle": payload}],
        risk={"level": "HIGH", "assessedAt": "2026-11-01T10:00:00Z", "tool": payload,
              "rationale": payload},
    )  # fmt: skip
    await sync_all(hub, [record])
    labels = await hub.store.read(
        "MATCH (n) WHERE NOT n:SchemaVersion AND NOT n:DataKey AND NOT n:AuditEntry "
        "AND NOT n:AuditHead AND NOT n:Counter AND NOT n:Change AND NOT n:IntakeDay "
        "RETURN labels(n)[0] AS label, count(n) AS n ORDER BY label"
    )
    assert {r["label"]: r["n"] for r in labels} == {"Account": 1, "Case": 1, "Person": 1}
    for pointer in ("/summary", "/suspects/0/familyName", "/accounts/0/handle", "/risk/rationale"):
        revealed = await data(hub, "analyst-AS", REVEAL, {"c": record["caseRef"], "f": pointer})
        assert revealed["reveal"] == payload
