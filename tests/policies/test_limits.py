"""Token buckets per client and route, and their configuration."""

from __future__ import annotations

import pytest

from policies.limits import RateLimited, parse_limits
from policies.scopes import PolicyFileError

LIMITS = """
version: 1
default: {rate: 1, burst: 2}
routes:
  /graphql: {rate: 2, burst: 3}
clients:
  coordinator: {/graphql: {rate: 10, burst: 5}}
"""


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_passes_then_waits_for_the_refill() -> None:
    clock = Clock()
    limiter = parse_limits(LIMITS)
    limiter._clock = clock
    for _ in range(3):
        limiter.check("analyst-AS", "/graphql")
    with pytest.raises(RateLimited) as refused:
        limiter.check("analyst-AS", "/graphql")
    assert refused.value.retry_after == pytest.approx(0.5)
    assert refused.value.retry_after_header == "1"
    clock.now += 0.5
    limiter.check("analyst-AS", "/graphql")


def test_buckets_are_per_client_and_route_with_overrides() -> None:
    limiter = parse_limits(LIMITS)
    limiter._clock = Clock()
    for _ in range(3):
        limiter.check("analyst-AS", "/graphql")
    limiter.check("analyst-GL", "/graphql")  # another client: its own bucket
    limiter.check("analyst-AS", "/federation/v1/changes")  # another route: the default
    for _ in range(5):
        limiter.check("coordinator", "/graphql")  # its own larger burst
    with pytest.raises(RateLimited):
        limiter.check("coordinator", "/graphql")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("version: 1\ndefault: {rate: 0, burst: 1}\n", "default.rate"),
        ("version: 1\ndefault: {rate: 1, burst: 1}\nroutes: {/x: {rate: 1}}\n", "burst"),
        ("version: 2\ndefault: {rate: 1, burst: 1}\n", "version"),
        ("version: 1\ndefault: {rate: 1, burst: 1, per: minute}\n", "per"),
    ],
)
def test_mistakes_in_limits_yaml_are_named(text: str, where: str) -> None:
    with pytest.raises(PolicyFileError, match=where):
        parse_limits(text)


BATCHES = """
version: 1
default: {rate: 1, burst: 2}
routes:
  /federation/v1/cases: {rate: 100, burst: 100, records: {rate: 10, burst: 50}}
"""


def test_a_route_with_a_budget_of_records_counts_records_not_requests() -> None:
    clock = Clock()
    limiter = parse_limits(BATCHES)
    limiter._clock = clock
    route = "/federation/v1/cases"
    limiter.check("force-AS", route)
    limiter.charge("force-AS", route, 80)  # one batch larger than the burst passes once
    with pytest.raises(RateLimited) as refused:
        limiter.check("force-AS", route)
    assert refused.value.retry_after == pytest.approx(3.0)  # 30 records in debt, 10 a second
    limiter.check("force-GL", route)  # another client's own budget
    clock.now += 3.0
    limiter.check("force-AS", route)
    limiter.charge("analyst-AS", "/graphql", 1_000)  # a route without a budget: no effect
    limiter.check("analyst-AS", "/graphql")
