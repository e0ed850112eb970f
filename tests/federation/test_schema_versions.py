"""Case summary schema v1.1 beside v1: both accepted, each checked by its own rules."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from federation.validation import problems_of

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
V1 = "crossforce/case-summary/v1"
V1_1 = "crossforce/case-summary/v1.1"


def example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / f"case-summary.{name}.json").read_text())
    return loaded


def problems(record: dict[str, Any]) -> list[dict[str, str]]:
    return [p.as_dict() for p in problems_of(record, caller_force="AS", now=NOW)]


@pytest.mark.parametrize("name", ["v1", "v1.1"])
def test_published_examples_are_valid(name: str) -> None:
    assert problems(example(name)) == []


def test_a_v1_record_is_valid_under_v1_1_too() -> None:
    record = example("v1") | {"schema": V1_1}
    assert problems(record) == []


def test_v1_1_fields_in_a_v1_record_say_which_schema_they_need() -> None:
    record = example("v1.1") | {"schema": V1}
    found = problems(record)
    needs = 'is a field of a newer schema: needs "schema": "crossforce/case-summary/v1.1"'
    assert {p["path"] for p in found} == {
        "/enforcements",
        "/outcome",
        "/team",
        "/media/0/pdq",
        "/media/1/vpdq",
    }
    assert all(p["message"] == needs for p in found)


def test_an_unknown_schema_names_the_ones_accepted() -> None:
    record = example("v1.1") | {"schema": "crossforce/case-summary/v2"}
    assert problems(record) == [
        {"path": "/schema", "message": f"must be one of {V1}, {V1_1}"},
    ]


def test_enforcement_at_may_be_left_out_beside_enforcements() -> None:
    record = example("v1.1")
    assert "enforcementAt" not in record
    assert problems(record) == []


def test_enforcement_at_equal_to_the_earliest_action_is_accepted_in_any_notation() -> None:
    record = example("v1.1") | {"enforcementAt": "2026-10-06T07:30:00+01:00"}
    assert problems(record) == []


def test_enforcement_at_other_than_the_earliest_action_is_rejected() -> None:
    latest = example("v1.1")["enforcements"][-1]["at"]
    record = example("v1.1") | {"enforcementAt": latest}
    assert problems(record) == [
        {
            "path": "/enforcementAt",
            "message": "must equal the earliest /enforcements/*/at, or be left out",
        }
    ]


def test_enforcement_and_outcome_are_checked_like_every_instant_and_choice() -> None:
    record = copy.deepcopy(example("v1.1"))
    record["enforcements"][1] = {"method": "RAID", "at": "2026-10-06T06:45:00Z"}
    record["enforcements"][2]["at"] = "2027-06-01T00:00:00Z"
    record["outcome"] = {"kind": "NFA", "at": "2026-11-18T15:30:00Z"}
    record["team"] = "NATIONAL"
    record["media"][0]["pdq"] = "f8f8"
    found = {p["path"]: p["message"] for p in problems(record)}
    assert found == {
        "/enforcements/1/method": "must be one of WARRANT, ARREST, VOLUNTARY_ATTENDANCE, OTHER",
        "/outcome/kind": "must be one of CHARGED, CONDITIONAL_CAUTION, CAUTION, "
        "COMMUNITY_RESOLUTION, FAST_TRACK_CPS_FILE, NO_FURTHER_ACTION, TRANSFERRED",
        "/team": "must be one of SPECIALIST, LOCAL",
        "/media/0/pdq": "must match ^[0-9a-fA-F]{64}$",
    }
    record = copy.deepcopy(example("v1.1"))
    record["enforcements"][2]["at"] = "2027-06-01T00:00:00Z"
    assert problems(record) == [
        {"path": "/enforcements/2/at", "message": "must not be in the future"}
    ]
