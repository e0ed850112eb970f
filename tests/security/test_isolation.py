"""Cross-force isolation, generated from the schema and the policy files: for every field of every
type that holds a force's record, and every reader, the API shows no more than the agreement.

New fields are covered without a new test: the query selects every field the schema has, and
each answer is checked against `SharingPolicy.visibility` for that reader and that record's owner.
"""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLList, GraphQLNonNull, GraphQLObjectType, GraphQLOutputType

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.graphql.schema import build_schema
from gateway.graphql.sharing import ANY_FIELD, RULE, Owned
from policies.principal import Principal
from policies.scopes import load_clients
from policies.sharing import FIELDS, Visibility, load_sharing
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

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
