"""Persisted queries: documents named by their SHA-256; in production, no other documents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.graphql.persisted import PersistedQueries, PersistedQueryError, sha256_of
from tests.federation.conftest import Hub

QUEUE = "{ priorityQueue(first: 3) { caseRef } }"


def manifest(tmp_path: Path, documents: dict[str, str]) -> Path:
    path = tmp_path / "persisted-queries.json"
    path.write_text(json.dumps(documents))
    return path


def by_hash(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


def test_a_hash_resolves_to_its_document(tmp_path: Path) -> None:
    persisted = PersistedQueries.load(manifest(tmp_path, {sha256_of(QUEUE): QUEUE}))
    assert persisted.resolve(None, by_hash(sha256_of(QUEUE))) == QUEUE
    assert persisted.resolve("{ __typename }", None) == "{ __typename }"


@pytest.mark.parametrize(
    ("query", "extensions", "code"),
    [
        (None, by_hash("0" * 64), "PERSISTED_QUERY_NOT_FOUND"),
        ("{ __typename }", by_hash(sha256_of(QUEUE)), "PERSISTED_QUERY_MISMATCH"),
        ("{ __typename }", None, "PERSISTED_QUERY_REQUIRED"),
    ],
)
def test_unknown_mismatched_and_ad_hoc_documents_are_refused(
    tmp_path: Path, query: str | None, extensions: dict[str, object] | None, code: str
) -> None:
    persisted = PersistedQueries.load(manifest(tmp_path, {sha256_of(QUEUE): QUEUE}), only=True)
    with pytest.raises(PersistedQueryError) as refused:
        persisted.resolve(query, extensions)
    assert refused.value.code == code


def test_a_manifest_whose_hashes_lie_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="another hash"):
        PersistedQueries.load(manifest(tmp_path, {"0" * 64: QUEUE}))


async def test_the_hub_answers_an_unknown_hash_with_a_coded_400(hub: Hub) -> None:
    headers = {"Authorization": f"Bearer {hub.token('analyst-AS')}"}
    body = {"extensions": by_hash("f" * 64)}
    response = await hub.http.post("/graphql", json=body, headers=headers)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
