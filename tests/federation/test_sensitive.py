"""The sensitive-field walk finds exactly the leaves the schema marks sensitive, with their text."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from federation.sensitive import is_sensitive, sensitive_values
from federation.validation import pointer
from gateway.demo.region import RegionParams, region_cases
from tests.federation.conftest import examples


def every_leaf(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from every_leaf(child, (*path, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from every_leaf(child, (*path, i))
    elif value is not None:
        yield pointer(path), value


def test_walk_finds_exactly_the_sensitive_leaves() -> None:
    record = examples()[0]
    record["suspects"].append(
        copy.deepcopy(record["suspects"][0]) | {"ref": "P2", "pncId": "19/1A"}
    )
    record["victims"][0]["safeguarding"] = [
        {"referredTo": "NSPCC", "referredAt": "2026-10-04T10:00:00Z", "outcome": "placed"}
    ]
    expected = {path: str(value) for path, value in every_leaf(record) if is_sensitive(path)}
    found = sensitive_values(record)
    assert dict(found) == expected
    assert len(found) == len(expected)  # no pointer twice
    assert "/suspects/1/pncId" in expected and "/victims/0/safeguarding/0/outcome" in expected
    assert "/officer/name" in expected and "/risk/level" not in expected


def test_walk_of_a_record_without_sensitive_fields_is_empty() -> None:
    record = {k: v for k, v in examples()[1].items() if k in ("force", "caseRef", "risk")}
    record["risk"] = {"level": "LOW"}
    assert sensitive_values(record) == []


def test_walk_of_the_region_generators_cases_finds_exactly_the_sensitive_leaves() -> None:
    """Every shape the synthetic region makes: several suspects, devices without identifiers,
    e-mail accounts, victims with safeguarding, media with and without hashes."""
    checked = 0
    for record in region_cases(RegionParams(seed=11, forces=5, cases=300)):
        if record.get("deleted"):
            continue
        expected = {path: str(value) for path, value in every_leaf(record) if is_sensitive(path)}
        found = sensitive_values(record)
        assert dict(found) == expected
        assert len(found) == len(expected)
        checked += len(found)
    assert checked > 3000
