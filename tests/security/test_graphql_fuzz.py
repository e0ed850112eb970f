"""Hypothesis-generated GraphQL requests, well-formed and not: never a 500, never a stack trace,
never an INTERNAL_SERVER_ERROR."""

from __future__ import annotations

import json
import os

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gateway.config import Settings
from gateway.graphql.schema import build_schema
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import graphql

pytestmark = pytest.mark.security

SCHEMA = build_schema(Settings())._schema
EXAMPLES = 400 if os.environ.get("CROSSFORCE_PROFILE") == "soak" else 60

LITERALS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.text(max_size=40).map(json.dumps),
    st.sampled_from(["null", "true", "[]", "{}", '"AS"', '"AS-2026-0042"', '"/summary"']),
)


def _unwrap(kind: object) -> object:
    while isinstance(kind, GraphQLNonNull | GraphQLList):
        kind = kind.of_type
    return kind


def literal_for(kind: object) -> st.SearchStrategy[str]:
    inner = _unwrap(kind)
    if isinstance(inner, GraphQLEnumType):
        return st.sampled_from(list(inner.values))
    if isinstance(inner, GraphQLInputObjectType):
        fields = list(inner.fields.items())
        return st.lists(
            st.sampled_from(fields).flatmap(
                lambda item: literal_for(item[1].type).map(lambda v, n=item[0]: f"{n}: {v}")
            ),
            max_size=3,
        ).map(lambda parts: "{" + ", ".join(parts) + "}")
    if isinstance(inner, GraphQLScalarType):
        return LITERALS
    return LITERALS


def selection(kind: object, depth: int) -> st.SearchStrategy[str]:
    inner = _unwrap(kind)
    if not isinstance(inner, GraphQLObjectType):
        return st.just("")
    names = sorted(inner.fields)
    return st.lists(st.sampled_from(names), min_size=1, max_size=4, unique=True).flatmap(
        lambda chosen: st.tuples(*(field_text(inner, n, depth) for n in chosen)).map(
            lambda parts: "{ " + " ".join(parts) + " }"
        )
    )


def field_text(parent: GraphQLObjectType, name: str, depth: int) -> st.SearchStrategy[str]:
    field = parent.fields[name]
    args = st.tuples(
        *(literal_for(a.type).map(lambda v, n=n: f"{n}: {v}") for n, a in field.args.items())
    ).map(lambda parts: "(" + ", ".join(parts) + ")" if parts else "")
    sub = selection(field.type, depth + 1) if depth < 3 else st.just("{ __typename }")
    if not isinstance(_unwrap(field.type), GraphQLObjectType):
        sub = st.just("")
    return st.tuples(args, sub).map(lambda p: f"{name}{p[0]} {p[1]}")


ROOTS = [
    st.sampled_from(["query", "mutation"]).flatmap(
        lambda op: selection(SCHEMA.query_type if op == "query" else SCHEMA.mutation_type, 0).map(
            lambda body, op=op: f"{op} {body}"
        )
    ),
    st.text(max_size=200),  # garbage documents
]


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(document=st.one_of(*ROOTS), client=st.sampled_from(["analyst-AS", "coordinator"]))
async def test_generated_requests_never_break_the_gateway(
    hub: Hub, document: str, client: str
) -> None:
    response = await graphql(hub, client, document)
    assert response.status_code < 500, (document, response.text)
    assert "Traceback" not in response.text
    payload = response.json()
    codes = [e.get("extensions", {}).get("code") for e in payload.get("errors", [])]
    assert "INTERNAL_SERVER_ERROR" not in codes, (document, payload)
