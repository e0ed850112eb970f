"""Cross-force isolation, generated from the schema and the policy files: for every field of every
type that holds a force's record, and every reader, the API shows no more than the agreement.

New fields are covered without a new test: the query selects every field the schema has, and
each answer is checked against `SharingPolicy.visibility` for that reader and that record's owner.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import strawberry
import websockets
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType, Undefined

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.graphql.schema import build_schema
from gateway.graphql.sharing import ANY_FIELD, RULE, NamesCase, Owned, check_governed
from policies.principal import Principal
from policies.scopes import load_clients
from policies.sharing import FIELDS, RecordView, Visibility, load_sharing
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, iso, summary, sync_all
from tests.security.conftest import LEAD, restricted_token

pytestmark = pytest.mark.security

SCHEMA = build_schema(Settings())
TYPES = SCHEMA._schema.type_map
OWNED = {cls.__name__ for cls in Owned.__subclasses__()}
POLICY = load_sharing(DEFAULT_POLICY_DIR / "sharing.yaml")
CLIENTS = load_clients(DEFAULT_POLICY_DIR / "clients.yaml")
READERS = ["coordinator", "analyst-AS", "analyst-GL", "analyst-WI"]

FULL = {
    "summary": "Free text about the case.",
    "referral": {"source": "NCA", "reference": "NCA-PKG-1", "receivedAt": "2026-11-01T09:00:00Z"},
    "risk": {"level": "HIGH", "assessedAt": "2026-11-01T10:00:00Z", "tool": "KIRAT",
             "rationale": "Suspect coaches a youth team."},
    "officer": {"name": "DC Isolation", "email": "dc.isolation@gl.police.example",
                "phone": "01452 000000"},
    "suspects": [{"ref": "P1", "givenName": "Ann", "familyName": "Other",
                  "dateOfBirth": "1980-01-02", "pncId": "2019/0123456A", "phones": ["07700 900777"],
                  "emails": ["ann@example.org"], "postcodes": ["GL1 1AA"]}],
    "devices": [{"ref": "D1", "type": "PHONE", "make": "Acme", "imei": "35-209900-176148-1",
                 "serial": "SN1", "seizedAt": "2026-11-02T10:00:00Z"}],
    "victims": [{"ref": "V1", "identified": True, "givenName": "Kid", "familyName": "Other",
                 "dateOfBirth": "2014-05-06", "ageBand": "8-12",
                 "safeguarding": [{"referredTo": "NSPCC", "referredAt": "2026-11-03T10:00:00Z"}]}],
}  # fmt: skip


def _unwrap(kind: GraphQLOutputType) -> GraphQLOutputType:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def selection(type_name: str, depth: int = 0) -> str:
    parts = []
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    for name, field in graphql_type.fields.items():
        inner = _unwrap(field.type)
        if isinstance(inner, GraphQLObjectType):
            if (inner.name in OWNED or inner.name == "Protected") and depth < 2:
                parts.append(f"{name} {{ {selection(inner.name, depth + 1)} }}")
            continue  # other object types (figures) hold no personal data
        if not field.args:
            parts.append(name)
    return " ".join(parts)


def principal(client_id: str) -> Principal:
    entry = CLIENTS.get(client_id)
    assert entry is not None
    return Principal(client_id, entry.scopes, entry.force)


def level(reader: Principal, owner: str, rule: tuple[str, str]) -> Visibility:
    type_name, field_name = rule
    names = FIELDS[type_name] if field_name == ANY_FIELD else (field_name,)
    return max(POLICY.visibility(reader, owner, type_name, n) for n in names)


def check(reader: Principal, owner: str, type_name: str, value: dict[str, Any]) -> int:
    """Assert every governed field of `value` shows no more than the agreement; count checks."""
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    checked = 0
    for name, answer in value.items():
        field = graphql_type.fields[name]
        rule = field.extensions["strawberry-definition"].metadata.get(RULE)
        assert rule is not None, f"{type_name}.{name} has no rule"
        allowed = level(reader, owner, rule)
        inner = _unwrap(field.type)
        checked += 1
        if allowed == Visibility.HIDDEN:
            assert answer is None, f"{type_name}.{name} must be hidden from {reader.client_id}"
        elif isinstance(inner, GraphQLObjectType) and inner.name == "Protected":
            for item in answer if isinstance(answer, list) else [answer] if answer else []:
                assert item["state"] == allowed.name, f"{type_name}.{name} for {reader.client_id}"
                assert (item["value"] is not None) == (allowed == Visibility.CLEAR)
        elif isinstance(inner, GraphQLObjectType) and inner.name in OWNED:
            child_owner = owner
            for item in answer if isinstance(answer, list) else [answer] if answer else []:
                if inner.name == "CaseLink":
                    child_owner = item.get("force") or owner
                checked += check(reader, child_owner, inner.name, item)
        elif allowed < Visibility.CLEAR:
            assert answer in (None, []), f"{type_name}.{name} must not show to {reader.client_id}"
    return checked


@pytest.mark.parametrize("reader", READERS)
async def test_no_field_of_another_forces_case_shows_more_than_the_agreement(
    hub: Hub, reader: str
) -> None:
    gl = summary("GL", 1, **FULL)
    linked = summary("AS", 2, suspects=[{"ref": "P1", "phones": ["+447700900777"]}])
    await sync_all(hub, [gl, linked])
    query = (
        "query C($f: String!, $c: String!) { case(force: $f, caseRef: $c) { "
        + selection("Case")
        + " } }"
    )
    who = principal(reader)
    checked = 0
    for force, case_ref in (("GL", gl["caseRef"]), ("AS", linked["caseRef"])):
        case = (await data(hub, reader, query, {"f": force, "c": case_ref}))["case"]
        assert case is not None
        checked += check(who, force, "Case", case)
    case_type = TYPES["Case"]
    assert isinstance(case_type, GraphQLObjectType)
    assert checked >= 2 * len(case_type.fields)  # at least every field of both cases


# Record level: every type that names a case, reached from every root, for every reader of a
# hub whose agreements keep some forces' cases from some readers (tests/security/conftest.py).


def _origin(type_name: str) -> type | None:
    definition = TYPES[type_name].extensions.get("strawberry-definition")
    origin = getattr(definition, "origin", None)
    return origin if isinstance(origin, type) else None


def _names_case(type_name: str) -> bool:
    origin = _origin(type_name)
    return origin is not None and issubclass(origin, NamesCase)


OBJECTS = [name for name, t in TYPES.items() if isinstance(t, GraphQLObjectType)]
NAMING = {name for name in OBJECTS if _names_case(name)}
_query_type = TYPES["Query"]
assert isinstance(_query_type, GraphQLObjectType)
QUERY: GraphQLObjectType = _query_type


def _reaches(type_name: str, seen: frozenset[str] = frozenset()) -> bool:
    """Whether a value of this type can hold, at any depth, a value that names a case."""
    if type_name in NAMING:
        return True
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    return any(
        isinstance(inner := _unwrap(field.type), GraphQLObjectType)
        and inner.name not in seen
        and _reaches(inner.name, seen | {type_name})
        for field in graphql_type.fields.values()
    )


def _required_args(field: Any) -> bool:
    return any(
        isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined
        for arg in field.args.values()
    )


def record_selection(type_name: str, depth: int = 0) -> str:
    """Every argument-free leaf of the type, and every field that leads to a type naming a case."""
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    parts = []
    for name, field in graphql_type.fields.items():
        if _required_args(field):
            continue
        inner = _unwrap(field.type)
        if not isinstance(inner, GraphQLObjectType):
            parts.append(name)
        elif depth < 4 and _reaches(inner.name):
            inside = record_selection(inner.name, depth + 1)
            if inside:
                parts.append(f"{name} {{ {inside} }}")
    return " ".join(parts)


def _case_rooted(root: str) -> list[str]:
    graphql_type = TYPES[root]
    assert isinstance(graphql_type, GraphQLObjectType)
    return sorted(
        name
        for name, field in graphql_type.fields.items()
        if isinstance(inner := _unwrap(field.type), GraphQLObjectType) and _reaches(inner.name)
    )


def test_every_type_that_names_a_case_is_governed() -> None:
    naming = [
        name
        for name in OBJECTS
        if {"caseRef", "otherCaseRef"} & set(TYPES[name].fields)  # type: ignore[union-attr]
    ]
    assert naming and set(naming) <= NAMING, set(naming) - NAMING
    assert {"Case", "CaseLink", "PrioritisedCase", "RegradeAlert", "GraphNode", "GroupVictim"} <= (
        NAMING
    )


@strawberry.type
class Rogue:
    """A new type that names a case, added without the record rule."""

    force: str
    case_ref: str


@strawberry.type
class RogueQuery:
    @strawberry.field
    def rogue(self) -> Rogue:
        return Rogue(force="DO", case_ref="DO-1")


def test_a_schema_with_a_type_naming_a_case_ungoverned_is_refused() -> None:
    with pytest.raises(TypeError, match="Rogue"):
        check_governed(strawberry.Schema(query=RogueQuery))


IMAGE = "5d41402abc4b2a76b9719d911017c592aaaaaaaa"
PHONE = "07700 900321"
RESTRICTED_READERS = ["coordinator", "analyst-AS", "analyst-GL", "analyst-WI", LEAD]


def restricted_region() -> list[dict[str, Any]]:
    def case(force: str, number: int, level: str, **extra: Any) -> dict[str, Any]:
        victim = f"V{number}"
        return summary(
            force, number, level=level,
            officer={"name": f"DC {force} {number}", "phone": "01000 000000"},
            suspects=[{"ref": "P1", "phones": [PHONE]}],
            devices=[{"ref": "D1", "type": "PHONE", "make": "Acme",
                      "seizedAt": "2026-01-05T10:00:00Z"}],
            victims=[{"ref": victim, "identified": False, "ageBand": "8-12"}],
            media=[{"sha1": IMAGE, "category": "A", "depicts": [victim]}],
            **extra,
        )  # fmt: skip

    return [
        case("AS", 1, "LOW"), case("GL", 2, "HIGH"), case("WI", 3, "HIGH"),
        case("DO", 4, "HIGH"), case("WI", 5, "LOW"), case("DO", 6, "LOW"),
    ]  # fmt: skip


def root_calls(cases: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each root field that can name a case, with the arguments to reach every case."""
    start = '{force: "AS", caseRef: "AS-T-0001"}'
    return {
        "case": [f'case(force: "{c["force"]}", caseRef: "{c["caseRef"]}")' for c in cases],
        "priorityQueue": ["priorityQueue(first: 50)"],
        "victimGroups": ["victimGroups(first: 50)"],
        "neighbourhood": [f"neighbourhood(start: {start}, depth: 2, first: 100)"],
        "path": [
            f'path(start: {start}, end: {{force: "{c["force"]}", caseRef: "{c["caseRef"]}"}})'
            for c in cases
        ],
        "oversight": ["oversight"],
        "holders": [
            f'holders(identifier: {{kind: {kind}, value: "{value}"}}, purpose: "isolation check")'
            for kind, value in (("PHONE", PHONE), ("SHA1", IMAGE))
        ],
    }


def _naming_from(type_name: str, seen: frozenset[str] = frozenset()) -> set[str]:
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    found = {type_name} if type_name in NAMING else set()
    for field in graphql_type.fields.values():
        inner = _unwrap(field.type)
        if isinstance(inner, GraphQLObjectType) and inner.name not in seen | {type_name}:
            found |= _naming_from(inner.name, seen | {type_name})
    return found


# Types reached from the queries that name a case by its reference (a case's parts, such as its
# suspects, are the field-level suite's: they name no reference of their own).
REFERENCED_FROM_QUERIES = {
    name
    for name in _naming_from("Query")
    if "caseRef" in TYPES[name].fields  # type: ignore[union-attr]
}


def test_the_record_suite_calls_every_root_that_can_name_a_case() -> None:
    assert sorted(root_calls(restricted_region())) == _case_rooted("Query")


def named_cases(type_name: str, value: Any, found: list[tuple[str, str, str]]) -> None:
    """(type, force, caseRef) of every value in the answer that names a case."""
    if isinstance(value, list):
        for item in value:
            named_cases(type_name, item, found)
        return
    if not isinstance(value, dict):
        return
    graphql_type = TYPES[type_name]
    assert isinstance(graphql_type, GraphQLObjectType)
    if type_name in NAMING and value.get("caseRef") is not None:
        found.append((type_name, value["force"], value["caseRef"]))
    for name, answer in value.items():
        inner = _unwrap(graphql_type.fields[name].type)
        if isinstance(inner, GraphQLObjectType):
            named_cases(inner.name, answer, found)


@pytest.mark.parametrize("reader", RESTRICTED_READERS)
async def test_no_reader_learns_of_a_case_the_agreement_keeps_from_it(
    restricted_hub: Hub, reader: str
) -> None:
    hub = restricted_hub
    cases = restricted_region()
    await sync_all(hub, cases)
    policy_dir = hub.settings.policy_dir
    policy = load_sharing(policy_dir / "sharing.yaml")
    entry = load_clients(policy_dir / "clients.yaml").get(reader)
    assert entry is not None
    who = Principal(reader, entry.scopes, entry.force)
    unknown = [c["caseRef"] for c in cases if policy.record_view(who, c["force"]) < RecordView.FULL]
    token = restricted_token(hub.settings, reader)
    found: list[tuple[str, str, str]] = []
    for root, calls in root_calls(cases).items():
        root_type = _unwrap(QUERY.fields[root].type)
        assert isinstance(root_type, GraphQLObjectType)
        for call in calls:
            query = "{ " + call + " { " + record_selection(root_type.name) + " } }"
            response = await hub.http.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            )
            payload = response.json()
            codes = {e["extensions"]["code"] for e in payload.get("errors", [])}
            assert codes <= {"FORBIDDEN", "NOT_FOUND"}, payload  # a scope or case it lacks
            for ref in unknown:  # not in a reference, a contact, nor a reason's text
                assert ref not in response.text, f"{ref} shown to {reader} by {call}"
            named_cases(root_type.name, (payload.get("data") or {}).get(root), found)
    for type_name, force, _ in found:
        assert policy.record_view(who, force) == RecordView.FULL, (reader, type_name, force)
    if reader == "analyst-GL":  # sees every force: the suite reaches every type it should
        assert {force for _, force, _ in found} == {"AS", "GL", "WI", "DO"}
        # `enforced` needs a window and a band: its own test below.
        oversight_only = {"RegradeAlert", "OversightCase", "DeviceBacklogCase", "EnforcedCase"}
        assert {t for t, _, _ in found} == REFERENCED_FROM_QUERIES - oversight_only
    if reader == LEAD:  # oversight and cases with the AS restrictions: its lists are covered
        assert {"RegradeAlert", "OversightCase", "DeviceBacklogCase"} <= {t for t, _, _ in found}
        assert unknown


async def test_the_change_feed_names_no_case_the_agreement_keeps(restricted_hub: Hub) -> None:
    """AS may know nothing of DO's cases and only that WI holds some: its feed tells it of no DO
    case at all, of WI's only by force, and gives whom to call only for GL's."""
    await sync_all(restricted_hub, restricted_region())
    token = restricted_token(restricted_hub.settings, "force-AS")
    response = await restricted_hub.http.get(
        "/federation/v1/changes", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    feed = response.json()["changes"]
    links = [c for c in feed if c["kind"] == "LINK"]
    assert {c["otherForce"] for c in links} == {"GL", "WI"}
    for change in links:
        if change["otherForce"] == "GL":
            assert change["otherCaseRef"] == "GL-T-0002"
            assert change["contact"].startswith("DC GL")
        else:
            assert "otherCaseRef" not in change and "contact" not in change, change
    for hidden in ("DO-T-0004", "DO-T-0006", "WI-T-0003", "WI-T-0005", "DC DO", "DC WI"):
        assert hidden not in response.text, hidden
    # The latest regrade alert on AS's LOW case names the linked high-risk case it may know,
    # and says only that the others exist.
    alerts = [c for c in feed if c["kind"] == "REGRADE" and c["caseRef"] == "AS-T-0001"]
    linked = [r for r in alerts[-1]["reasons"] if r.startswith("linked to")]
    assert sorted(linked) == [
        "linked to GL case GL-T-0002, graded high risk",
        "linked to a case of another force, graded high risk",
        "linked to a case of another force, graded high risk",
    ]


async def test_force_events_name_no_case_the_agreement_keeps(restricted_hub: Hub) -> None:
    """A subscription's events do not pass the guard's field resolvers: they are told as the
    HTTP feed tells them."""
    hub = restricted_hub
    await sync_all(hub, [c for c in restricted_region() if c["force"] != "AS"])
    url = hub.url.replace("http://", "ws://") + "/graphql"
    query = "subscription { forceEvents { kind caseRef otherForce otherCaseRef contact reasons } }"
    token = restricted_token(hub.settings, "analyst-AS")
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await asyncio.wait_for(socket.recv(), 10))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        await sync_all(hub, [c for c in restricted_region() if c["force"] == "AS"])
        events: list[dict[str, Any]] = []
        while not any(e["kind"] == "REGRADE" for e in events):  # fed after the case's links
            message = json.loads(await asyncio.wait_for(socket.recv(), 20))
            assert message["type"] == "next", message
            events.append(message["payload"]["data"]["forceEvents"])
    links = [e for e in events if e["kind"] == "LINK"]
    shown = {(e["otherForce"], e["otherCaseRef"], e["contact"] is not None) for e in links}
    assert ("GL", "GL-T-0002", True) in shown
    # WI: that it holds a linked case, not which, nor whom to call; DO: not even that.
    assert {s for s in shown if s[0] != "GL"} == {("WI", None, False)}
    text = json.dumps(events)
    for hidden in ("DO-T-0004", "DO-T-0006", "WI-T-0003", "WI-T-0005", '"DO"'):
        assert hidden not in text, hidden


ENFORCED = """
query($from: DateTime!, $to: DateTime!) {
  oversight { enforced(from: $from, to: $to, band: "0-7", first: 100) {
    totalCount edges { node { force caseRef } } } }
}
"""


@pytest.mark.parametrize("reader", ["coordinator", LEAD])
async def test_the_cases_behind_a_time_to_enforcement_bar_follow_the_agreement(
    restricted_hub: Hub, reader: str
) -> None:
    """Every case of the region first enforced a day after referral: the bar's cases are those
    the reader may know, and its count leaves the others out."""
    hub = restricted_hub
    cases = restricted_region()
    for record in cases:
        received = datetime.fromisoformat(record["referral"]["receivedAt"].replace("Z", "+00:00"))
        record["enforcementAt"] = iso(received + timedelta(days=1))
    await sync_all(hub, cases)
    policy = load_sharing(hub.settings.policy_dir / "sharing.yaml")
    entry = load_clients(hub.settings.policy_dir / "clients.yaml").get(reader)
    assert entry is not None
    who = Principal(reader, entry.scopes, entry.force)
    known = sorted(
        (c["force"], c["caseRef"])
        for c in cases
        if policy.record_view(who, c["force"]) == RecordView.FULL
    )
    hidden = [c["caseRef"] for c in cases if (c["force"], c["caseRef"]) not in known]
    variables = {"from": "2000-01-01T00:00:00Z", "to": iso(datetime.now(UTC) + timedelta(days=1))}
    token = restricted_token(hub.settings, reader)
    response = await hub.http.post(
        "/graphql",
        json={"query": ENFORCED, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    )
    page = response.json()["data"]["oversight"]["enforced"]
    assert sorted((e["node"]["force"], e["node"]["caseRef"]) for e in page["edges"]) == known
    assert page["totalCount"] == len(known)
    assert all(ref not in response.text for ref in hidden)
    assert (reader == LEAD) == bool(hidden)  # the lead is kept from some, the coordinator not
