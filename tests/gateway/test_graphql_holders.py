"""Identifier search (issue 23): "does any force hold this?" through GraphQL on a real hub.

Two forces write the same suspect, device, account, address and image in different notations;
a search in a third notation finds both, the caller's own force included, and every search is
in the audit log with its purpose and kind, never the value searched."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest
from graphql import parse, validate

from gateway.config import Settings
from gateway.graphql.limits import cost_limit
from gateway.graphql.paging import MAX_PAGE
from gateway.graphql.schema import build_schema
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, summary, sync_all

HOLDERS = """query H($kind: IdentifierKind!, $value: String!, $purpose: String!) {
  holders(identifier: {kind: $kind, value: $value}, purpose: $purpose) { force caseRef contact }
}"""
PURPOSE = "new NCA referral deconfliction"
SEARCHES = (
    "MATCH (e:AuditEntry) WHERE e.action IN ['search', 'access.denied'] "
    "RETURN e.actor AS actor, e.action AS action, e.target AS target, e.purpose AS purpose, "
    "e.outcome AS outcome, e.detail AS detail ORDER BY e.seq"
)
SHA1 = "3f786850e387550fdab836ed7e6dc881de23001b"
MD5 = "9e107d9d372bb6826bd81d3542a419d6"
ROUNDS = 30  # searches of each value in the timing test
PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


def suspect(notation: dict[str, str]) -> dict[str, Any]:
    return {
        "ref": "P1",
        "givenName": notation["given"],
        "familyName": notation["family"],
        "dateOfBirth": "1981-04-12",
        "phones": [notation["phone"]],
        "emails": [notation["email"]],
    }


def holding_case(force: str, number: int, notation: dict[str, str]) -> dict[str, Any]:
    """A v1.1 case summary holding one suspect, device, account, address and image."""
    return summary(
        force,
        number,
        schema="crossforce/case-summary/v1.1",
        officer={"name": f"DC {force} Officer", "email": f"dc@{force.lower()}.police.example"},
        suspects=[suspect(notation)],
        devices=[
            {"ref": "D1", "type": "PHONE", "imei": notation["imei"]},
            {
                "ref": "D2",
                "type": "COMPUTER",
                "make": notation["make"],
                "serial": notation["serial"],
            },
        ],
        accounts=[{"ref": "A1", "platform": notation["platform"], "handle": notation["handle"]}],
        ipAddresses=[{"address": notation["ip"]}],
        media=[{"sha1": notation["sha1"], "md5": MD5, "pdq": notation["pdq"], "category": "A"}],
    )


AS_NOTATION = {
    "given": "John", "family": "Smith", "phone": "07700 900123",
    "email": "John.Smith+x@gmail.com", "imei": "35-209900-176148-1", "make": "Samsung",
    "serial": "R58M-12ABCD", "platform": "Snapchat", "handle": "@Kid_Hunter",
    "ip": "203.0.113.7", "sha1": SHA1, "pdq": PDQ,
}  # fmt: skip
GL_NOTATION = {
    "given": "JOHN", "family": "smith", "phone": "+44 (0)7700-900123",
    "email": "johnsmith@googlemail.com", "imei": "352099001761481", "make": "samsung",
    "serial": "r58m12abcd", "platform": "snapchat", "handle": "kid_hunter",
    "ip": "::ffff:203.0.113.7", "sha1": SHA1.upper(), "pdq": PDQ.upper(),
}  # fmt: skip
BOTH = [
    {"force": "AS", "caseRef": "AS-T-0001", "contact": "DC AS Officer <dc@as.police.example>"},
    {"force": "GL", "caseRef": "GL-T-0002", "contact": "DC GL Officer <dc@gl.police.example>"},
]


async def search(hub: Hub, client: str, kind: str, value: str, purpose: str = PURPOSE) -> Any:
    variables = {"kind": kind, "value": value, "purpose": purpose}
    return (await data(hub, client, HOLDERS, variables))["holders"]


async def refused(hub: Hub, kind: str, value: str, purpose: str = PURPOSE) -> dict[str, Any]:
    variables = {"kind": kind, "value": value, "purpose": purpose}
    response = await graphql(hub, "analyst-AS", HOLDERS, variables)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["data"] is None
    [error] = payload["errors"]
    return {"code": error["extensions"]["code"], "message": error["message"]}


async def two_forces(hub: Hub) -> None:
    await sync_all(hub, [holding_case("AS", 1, AS_NOTATION), holding_case("GL", 2, GL_NOTATION)])


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("PHONE", "+447700900123"),
        ("EMAIL", "JOHN.SMITH@gmail.com"),
        ("IMEI", "35 209900 176148 1"),
        ("SERIAL", "Samsung:R58M 12ABCD"),
        ("ACCOUNT", "SnapChat:@KID_HUNTER"),
        ("IP_ADDRESS", "203.0.113.7"),
        ("SHA1", SHA1.upper()),
        ("MD5", MD5),
        ("PDQ", PDQ),
        ("PERSON", "john SMITH 1981-04-12"),
    ],
)
async def test_every_notation_ingest_links_finds_both_forces_cases(
    hub: Hub, kind: str, value: str
) -> None:
    await two_forces(hub)
    assert await search(hub, "analyst-AS", kind, value) == BOTH


async def test_an_email_account_is_found_as_the_email_address(hub: Hub) -> None:
    await two_forces(hub)
    assert await search(hub, "analyst-GL", "ACCOUNT", "email:johnsmith@gmail.com") == BOTH


async def test_a_value_no_force_holds_finds_nothing(hub: Hub) -> None:
    await two_forces(hub)
    assert await search(hub, "analyst-AS", "PHONE", "07700 900456") == []


async def test_a_value_no_force_holds_takes_the_same_time_band_and_is_audited(
    hub: Hub,
) -> None:
    """An empty answer must not come back measurably sooner than a full one, or timing alone
    would tell a caller what the sharing agreement hides. Medians of interleaved searches,
    within a band wide enough for a loaded machine (3x + 20 ms of each other)."""
    await two_forces(hub)
    held, unheld = "07700 900123", "07700 900456"
    timings: dict[str, list[float]] = {held: [], unheld: []}
    answers: dict[str, list[int]] = {held: [], unheld: []}
    for _ in range(ROUNDS):
        for value in (held, unheld):
            started = time.perf_counter()
            found = await search(hub, "analyst-GL", "PHONE", value)
            timings[value].append(time.perf_counter() - started)
            answers[value].append(len(found))

    assert answers == {held: [2] * ROUNDS, unheld: [0] * ROUNDS}
    held_median, unheld_median = (statistics.median(timings[v]) for v in (held, unheld))
    assert unheld_median <= 3 * held_median + 0.020, (held_median, unheld_median)
    assert held_median <= 3 * unheld_median + 0.020, (held_median, unheld_median)
    # Each search, whatever it found, is in the audit log with its purpose.
    entries = await hub.store.read(SEARCHES)
    details = [e["detail"] for e in entries if e["actor"] == "analyst-GL"]
    assert sorted(details) == sorted(["holders=2", "holders=0"] * ROUNDS)
    assert {(e["action"], e["purpose"], e["outcome"]) for e in entries} == {
        ("search", PURPOSE, "ok")
    }


async def test_every_search_is_audited_with_its_purpose_and_kind_never_the_value(
    hub: Hub,
) -> None:
    await two_forces(hub)
    await search(hub, "analyst-AS", "PHONE", "07700 900123")
    entries = await hub.store.read(SEARCHES)
    assert entries == [
        {"actor": "analyst-AS", "action": "search", "target": "identifier:PHONE",
         "purpose": PURPOSE, "outcome": "ok", "detail": "holders=2"},
    ]  # fmt: skip
    assert not any("900123" in str(value) for entry in entries for value in entry.values())


@pytest.mark.parametrize("purpose", ["", "why", "x" * 600])
async def test_a_search_without_a_purpose_is_refused_and_audited(hub: Hub, purpose: str) -> None:
    await two_forces(hub)
    answer = await refused(hub, "PHONE", "07700 900123", purpose)
    assert answer["code"] == "FORBIDDEN" and "purpose" in answer["message"]
    [entry] = await hub.store.read(SEARCHES)
    assert (entry["action"], entry["target"], entry["outcome"]) == (
        "access.denied",
        "identifier:PHONE",
        "denied",
    )


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("PHONE", "07700 900123#"),
        ("IMEI", "35-209900-176148-2"),  # wrong check digit
        ("ACCOUNT", "kid_hunter"),  # no platform
        ("PERSON", "John 1981-04-12"),
        ("SHA1", "not a digest"),
    ],
)
async def test_a_value_that_is_no_identifier_is_a_clear_error(
    hub: Hub, kind: str, value: str
) -> None:
    answer = await refused(hub, kind, value)
    assert answer["code"] == "BAD_USER_INPUT" and kind in answer["message"]
    assert value not in answer["message"]
    assert await hub.store.read(SEARCHES) == []


@pytest.mark.parametrize(
    ("kind", "value"),
    [("IP_ADDRESS", "192.168.1.1"), ("IMEI", "000000000000000"), ("SERIAL", "Acme:unknown")],
)
async def test_a_value_ingest_never_links_is_an_error_not_an_empty_answer(
    hub: Hub, kind: str, value: str
) -> None:
    answer = await refused(hub, kind, value)
    assert answer["code"] == "BAD_USER_INPUT" and "does not link" in answer["message"]


async def test_a_search_needs_cases_read(hub: Hub) -> None:
    variables = {"kind": "PHONE", "value": "07700 900123", "purpose": PURPOSE}
    payload = (await graphql(hub, "coordinator", HOLDERS, variables)).json()
    assert payload["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_search_counts_in_the_cost_limit_as_a_full_page() -> None:
    """No `first` bounds the answer: each holder's three fields count a hundred times."""
    schema = build_schema(Settings())._schema
    document = parse(
        '{ holders(identifier: {kind: PHONE, value: "07700 900123"}, purpose: "a check") '
        "{ force caseRef contact } }"
    )
    assert validate(schema, document, [cost_limit(1 + MAX_PAGE * 3, MAX_PAGE)]) == []
    [error] = validate(schema, document, [cost_limit(MAX_PAGE * 3, MAX_PAGE)])
    assert (error.extensions or {})["code"] == "QUERY_TOO_COSTLY"


async def test_a_sweep_of_many_values_alerts_the_region_once_then_is_refused(hub: Hub) -> None:
    sweeper, other = "analyst-DC", "analyst-DO"
    swept_before = await sweeps_counted(hub, sweeper)
    answered = 0
    refusal = None
    for n in range(200):
        variables = {"kind": "PHONE", "value": f"07700 900{n:03d}", "purpose": PURPOSE}
        response = await graphql(hub, sweeper, HOLDERS, variables)
        if response.status_code != 200:
            refusal = response
            break
        assert "errors" not in response.json(), response.json()
        answered += 1
    assert refusal is not None and answered == 100  # the default: 100 distinct values a minute
    assert refusal.status_code == 429 and int(refusal.headers["Retry-After"]) > 0
    assert refusal.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
    again = await graphql(hub, sweeper, HOLDERS, {"kind": "PHONE", "value": "07700 900000",
                                                  "purpose": PURPOSE})  # fmt: skip
    assert again.status_code == 429
    # Another client searches on; the region's administrators were told once, with no value.
    fine = await graphql(hub, other, HOLDERS, {"kind": "PHONE", "value": "07700 900001",
                                               "purpose": PURPOSE})  # fmt: skip
    assert fine.status_code == 200 and "errors" not in fine.json()
    rows = await hub.store.read(
        "MATCH (e:AuditEntry {action: 'search.sweep'}) RETURN e.actor AS actor, "
        "e.target AS target, e.detail AS detail, e.outcome AS outcome"
    )
    assert rows == [
        {"actor": sweeper, "target": f"client:{sweeper}", "detail": "distinct=101 window=60s",
         "outcome": "denied"}
    ]  # fmt: skip
    assert await sweeps_counted(hub, sweeper) == swept_before + 1


async def sweeps_counted(hub: Hub, client: str) -> float:
    """The hub's metric of sweeps found for `client` (hubs of one test run share a process)."""
    metrics = (await hub.http.get("/metrics")).text
    prefix = f'crossforce_search_sweeps_total{{client="{client}"}} '
    lines = [line for line in metrics.splitlines() if line.startswith(prefix)]
    return float(lines[0].removeprefix(prefix)) if lines else 0.0
