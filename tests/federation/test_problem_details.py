"""The federation API's errors are RFC 9457 problem details, and `/openapi.json` describes the
API as a valid OpenAPI 3.1 document that refers to the case summary schema."""

from __future__ import annotations

import gzip
import json
from typing import Any

import httpx
from openapi_spec_validator import validate

from tests.federation.conftest import Hub, examples

PROBLEM = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, kind: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:crossforce:problem:{kind}"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["error"] == body["detail"]  # what clients of the first error shape read
    return body


async def test_refused_syncs_are_problem_details(hub: Hub) -> None:
    cases = "/federation/v1/cases"
    force = {"Authorization": f"Bearer {hub.token('force-AS')}"}
    assert_problem(await hub.http.post(cases, content=b"[]"), 401, "unauthorised")
    analyst = {"Authorization": f"Bearer {hub.token('analyst-AS')}"}
    assert_problem(await hub.http.post(cases, content=b"[{}]", headers=analyst), 403, "forbidden")
    body = assert_problem(
        await hub.http.post(cases, content=b"", headers=force), 400, "malformed-body"
    )
    assert "empty batch" in body["detail"]
    brotli = {**force, "Content-Encoding": "br"}
    assert_problem(
        await hub.http.post(cases, content=b"[{}]", headers=brotli), 415, "unsupported-encoding"
    )
    bomb = gzip.compress(b"[" + b" " * hub.settings.max_body_bytes, compresslevel=1)
    gzipped = {**force, "Content-Encoding": "gzip"}
    body = assert_problem(
        await hub.http.post(cases, content=bomb, headers=gzipped), 413, "too-large"
    )
    assert str(hub.settings.max_body_bytes) in body["detail"]


async def test_a_bad_cursor_and_unknown_paths_are_problem_details(hub: Hub) -> None:
    force = {"Authorization": f"Bearer {hub.token('force-AS')}"}
    assert_problem(
        await hub.http.get("/federation/v1/changes", params={"since": "x"}, headers=force),
        400,
        "bad-cursor",
    )
    assert_problem(await hub.http.get("/federation/v1/nothing", headers=force), 404, "not-found")
    wrong_method = await hub.http.get("/federation/v1/cases", headers=force)
    assert_problem(wrong_method, 405, "method-not-allowed")
    assert "POST" in wrong_method.headers["allow"]


async def test_per_record_results_keep_their_shape(hub: Hub) -> None:
    record = next(r for r in examples() if r["force"] == "AS")
    bad = {**record, "risk": {**record["risk"], "level": "EXTREME"}}
    body = gzip.compress(json.dumps([bad]).encode())
    headers = {"Authorization": f"Bearer {hub.token('force-AS')}", "Content-Encoding": "gzip"}
    response = await hub.http.post("/federation/v1/cases", content=body, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/json"
    [result] = response.json()["results"]
    assert result["status"] == "rejected"
    assert any(e["path"] == "/risk/level" for e in result["errors"])


async def test_openapi_document_is_valid_and_lists_the_federation_api(hub: Hub) -> None:
    response = await hub.http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert {"/federation/v1/cases", "/federation/v1/changes"} <= set(document["paths"])
    cases = document["paths"]["/federation/v1/cases"]["post"]
    items = cases["requestBody"]["content"]["application/json"]["schema"]["items"]
    assert items == {
        "oneOf": [
            {"$ref": "#/components/schemas/CaseSummary"},
            {"$ref": "#/components/schemas/CaseSummaryV1_1"},
        ]
    }
    summary = document["components"]["schemas"]["CaseSummary"]
    assert "caseRef" in summary["properties"]
    assert "enforcements" in document["components"]["schemas"]["CaseSummaryV1_1"]["properties"]
    for status in ("400", "401", "403", "413", "415", "429", "503"):
        content = cases["responses"][status]
        if "$ref" in content:
            name = content["$ref"].rsplit("/", 1)[1]
            content = document["components"]["responses"][name]
        assert PROBLEM in content["content"]
