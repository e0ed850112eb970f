"""Property tests of the case summary validator: any JSON at all, or a valid summary with any
one value replaced, gets problems with JSON pointers and messages that quote nothing of it."""

from __future__ import annotations

import copy
import json
import os
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from federation.validation import problems_of
from tests.federation.conftest import examples

pytestmark = pytest.mark.security

EXAMPLES = 2000 if os.environ.get("CROSSFORCE_PROFILE") == "soak" else 300
NOW = datetime.now(UTC)
MARKER = "QZXJ-marker"  # in every generated string: it must never come back in a message

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30).map(lambda t: MARKER + t),
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12).map(lambda k: MARKER + k), inner, max_size=4)
    ),
    max_leaves=20,
)


def paths(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


VALID = examples()[0]
PATHS = paths(VALID)


def replaced(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    record = copy.deepcopy(VALID)
    target: Any = record
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return record


def assert_clean(problems: list[Any]) -> None:
    for problem in problems:
        assert problem.path == "" or problem.path.startswith("/")
        assert MARKER not in problem.message, problem
        assert len(problem.message) < 300


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(JSON)
def test_any_json_gets_problems_that_quote_nothing(value: Any) -> None:
    problems = problems_of(value, caller_force="AS", now=NOW)
    assert problems  # nothing random is a valid case summary
    assert_clean(problems)


@settings(max_examples=EXAMPLES, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(PATHS), JSON)
def test_a_valid_summary_with_one_value_replaced_is_judged_cleanly(
    path: tuple[str | int, ...], value: Any
) -> None:
    problems = problems_of(replaced(path, value), caller_force="AS", now=NOW)
    assert_clean(problems)
    json.dumps([p.as_dict() for p in problems])  # always answerable
