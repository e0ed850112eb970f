"""GraphQL over HTTP: media types, status codes, authentication, and query bombs refused early."""

from __future__ import annotations

import pytest

from gateway.config import Settings
from gateway.graphql.schema import build_schema
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import GRAPHQL_RESPONSE, graphql

SIMPLE = '{ case(force: "AS", caseRef: "AS-1") { caseRef } }'


async def test_no_token_is_401_with_a_challenge(hub: Hub) -> None:
    response = await graphql(hub, None, SIMPLE)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_graphql_response_media_type_is_sent_to_clients_that_ask_for_it(hub: Hub) -> None:
    response = await graphql(hub, "analyst-AS", SIMPLE, accept=f"{GRAPHQL_RESPONSE}, */*;q=0.5")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert response.json()["data"] == {"case": None}


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/*"])
async def test_a_client_that_names_no_media_type_gets_json(hub: Hub, accept: str | None) -> None:
    """The GraphQL-over-HTTP specification's rule for legacy clients."""
    headers = {"Authorization": f"Bearer {hub.token('analyst-AS')}"}
    request = hub.http.build_request("POST", "/graphql", json={"query": SIMPLE}, headers=headers)
    if accept is None:
        del request.headers["Accept"]
    else:
        request.headers["Accept"] = accept
    response = await hub.http.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] == {"case": None}


async def test_invalid_document_is_400_with_graphql_response_and_200_with_json(hub: Hub) -> None:
    bad = "{ case(force: 1) { nothing } }"
    strict = await graphql(hub, "analyst-AS", bad)
    assert strict.status_code == 400
    assert "data" not in strict.json()
    assert strict.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    legacy = await graphql(hub, "analyst-AS", bad, accept="application/json")
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


async def test_unparseable_document_is_a_parse_error(hub: Hub) -> None:
    response = await graphql(hub, "analyst-AS", "{ case(")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_unacceptable_media_type_and_wrong_content_type_are_refused(hub: Hub) -> None:
    assert (await graphql(hub, "analyst-AS", SIMPLE, accept="text/html")).status_code == 406
    response = await hub.http.post(
        "/graphql",
        content=SIMPLE,
        headers={
            "Authorization": f"Bearer {hub.token('analyst-AS')}",
            "Content-Type": "text/plain",
        },
    )
    assert response.status_code == 415


async def test_queries_by_get_work_and_mutations_by_get_are_405(hub: Hub) -> None:
    headers = {"Authorization": f"Bearer {hub.token('analyst-AS')}"}
    ok = await hub.http.get("/graphql", params={"query": SIMPLE}, headers=headers)
    assert ok.status_code == 200
    mutation = 'mutation { reveal(force: "AS", caseRef: "A", field: "/summary", purpose: "x y") }'
    refused = await hub.http.get("/graphql", params={"query": mutation}, headers=headers)
    assert refused.status_code == 405


async def test_an_oversized_body_is_413(hub: Hub) -> None:
    query = "{ __typename }" + " " * (hub.settings.graphql_max_body_bytes + 10)
    assert (await graphql(hub, "analyst-AS", query)).status_code == 413


def _deep(levels: int) -> str:
    inner = "caseRef"
    for _ in range(levels):
        inner = f"links {{ caseRef case: __typename {inner} }}"
    return '{ case(force: "AS", caseRef: "AS-1") { ' + inner + " } }"


_NODE = "edges { cursor node { id kind distance force caseRef riskLevel heldBy existenceOnly } }"
# A page of -20000 under @skip: it never runs, so no resolver refuses it, but it once took
# 20000 from the cost of everything beside it.
_SKIPPED = (
    'skipped: neighbourhood(start: {force: "AS", caseRef: "AS-1"}, first: -20000)'
    " @skip(if: true) { totalCount }"
)


def _neighbourhoods(count: int, arguments: str, extra: str = "") -> str:
    start = '{force: "AS", caseRef: "AS-1"}'
    fields = f"{_NODE} links {{ source target relation }}"
    wide = " ".join(
        f"n{n}: neighbourhood(start: {start}, {arguments}) {{ {fields} }}" for n in range(count)
    )
    return "{ " + wide + " " + extra + " }"


@pytest.mark.parametrize(
    "bomb",
    [
        pytest.param(_deep(20), id="deep-nesting"),
        pytest.param("{" + " ".join(f"a{n}: __typename" for n in range(1000)) + "}", id="aliases"),
        pytest.param("{" + "__typename " * 5000 + "}", id="tokens"),
        pytest.param("{ priorityQueue(first: 100000) { caseRef } }", id="cost"),
        pytest.param(_neighbourhoods(25, "depth: 3, first: 100", _SKIPPED), id="negative-first"),
        pytest.param(_neighbourhoods(30, "depth: 3"), id="default-page-counts"),
    ],
)
async def test_query_bombs_are_refused_before_touching_the_graph(hub: Hub, bomb: str) -> None:
    response = await graphql(hub, "analyst-AS", bomb)
    assert response.status_code == 400, response.text
    assert "data" not in response.json()


async def test_a_huge_page_is_refused_without_a_graph_round_trip(hub: Hub) -> None:
    response = await graphql(hub, "analyst-AS", "{ priorityQueue(first: 500) { caseRef } }")
    payload = response.json()
    assert payload["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert payload["extensions"]["graphRoundTrips"] == 0


async def test_errors_carry_no_internals(hub: Hub) -> None:
    response = await graphql(
        hub, "analyst-AS", '{ case(force: "as; DROP", caseRef: "x") { caseRef } }'
    )
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in response.text and "File " not in response.text


def test_introspection_is_off_in_production_unless_enabled() -> None:
    production = build_schema(Settings(environment="production"))
    result = production.execute_sync("{ __schema { queryType { name } } }")
    assert result.errors
    development = build_schema(Settings())
    assert development.execute_sync("{ __schema { queryType { name } } }").errors is None


def test_a_document_seen_before_is_not_validated_again() -> None:
    from strawberry.extensions.validation_cache import _get_validate_cache

    from gateway.graphql.schema import CACHED_DOCUMENTS

    schema = build_schema(Settings())
    document = "{ __typename }"
    cache = _get_validate_cache(CACHED_DOCUMENTS)
    schema.execute_sync(document)
    before = cache.cache_info()
    for _ in range(3):
        assert schema.execute_sync(document).errors is None
    after = cache.cache_info()
    # Every request builds its extensions afresh: their rules must still hit the cache.
    assert (after.hits - before.hits, after.misses - before.misses) == (3, 0)
