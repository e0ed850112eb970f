"""Identifier search shows each holding case only as the agreement and the intake ceiling allow:
a force the agreement shows only by existence appears once, with no reference or contact; a
hidden force does not appear; and a force over its intake ceiling learns through `holders` of no
other force's case, as through `Case.links`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.federation.conftest import Hub
from tests.federation.test_linking_oracle import HELD_BY_GL
from tests.gateway.graphql_client import summary, sync_all
from tests.gateway.test_graphql_holders import HOLDERS, PURPOSE, search
from tests.security.conftest import LEAD, restricted_token
from tests.security.test_held_links import PROBE, probe

pytestmark = pytest.mark.security

PHONE = "07700 900654"


def phone_case(force: str, number: int) -> dict[str, Any]:
    return summary(
        force,
        number,
        officer={"name": f"DC {force} {number}", "phone": "01000 000000"},
        suspects=[{"ref": "P1", "phones": [PHONE]}],
    )


async def restricted_search(hub: Hub, client: str) -> list[dict[str, Any]]:
    variables = {"kind": "PHONE", "value": "+44 7700 900654", "purpose": PURPOSE}
    token = restricted_token(hub.settings, client)
    response = await hub.http.post(
        "/graphql",
        json={"query": HOLDERS, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    payload = response.json()
    assert "errors" not in payload, payload
    found: list[dict[str, Any]] = payload["data"]["holders"]
    return found


async def test_holders_show_each_force_as_far_as_the_agreement_allows(
    restricted_hub: Hub,
) -> None:
    cases = [phone_case("AS", 1), phone_case("GL", 2), phone_case("WI", 3), phone_case("WI", 4)]
    await sync_all(restricted_hub, [*cases, phone_case("DO", 5)])
    # LEAD acts for AS: WI's cases only by existence, DO's not at all.
    assert await restricted_search(restricted_hub, LEAD) == [
        {"force": "AS", "caseRef": "AS-T-0001", "contact": "DC AS 1 01000 000000"},
        {"force": "GL", "caseRef": "GL-T-0002", "contact": "DC GL 2 01000 000000"},
        {"force": "WI", "caseRef": None, "contact": None},
    ]
    everyone = await restricted_search(restricted_hub, "analyst-GL")
    assert [(h["force"], h["caseRef"]) for h in everyone] == [
        ("AS", "AS-T-0001"), ("DO", "DO-T-0005"), ("GL", "GL-T-0002"),
        ("WI", "WI-T-0003"), ("WI", "WI-T-0004"),
    ]  # fmt: skip


async def test_a_held_force_learns_of_no_other_forces_case_through_holders(hub: Hub) -> None:
    await probe(hub)  # AS over its intake ceiling, its invented cases holding GL's number
    number = HELD_BY_GL["GL/ORACLE/1"]
    own = await search(hub, "analyst-AS", "PHONE", number)
    assert [(h["force"], h["caseRef"]) for h in own] == [("AS", PROBE)]
    # Nor do others hear of the held force's cases; forces not held still find each other.
    others = await search(hub, "analyst-GL", "PHONE", number)
    assert [(h["force"], h["caseRef"]) for h in others] == [("DC", "DC-1"), ("GL", "GL/ORACLE/1")]
