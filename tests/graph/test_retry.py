"""The graph's one retry policy: transient failures tried again with bounded, jittered,
doubling waits; anything else raised at once; and the FalkorDB store giving up in its time."""

from __future__ import annotations

import time

import pytest

from graph.embedded import free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.port import GraphError, GraphUnavailable
from graph.retry import RetryPolicy


class Flaky(Exception):
    pass


class Broken(Exception):
    pass


async def test_transient_failures_are_retried_with_waits_below_a_doubling_cap() -> None:
    policy = RetryPolicy(retry_for=5.0, first=0.01, cap=0.04)
    waits: list[float] = []
    tries = 0
    async for attempt in policy.attempts(
        lambda e: isinstance(e, Flaky), on_retry=lambda _, d: waits.append(d)
    ):
        with attempt:
            tries += 1
            if tries < 6:
                raise Flaky
    assert tries == 6
    caps = [0.01, 0.02, 0.04, 0.04, 0.04]
    assert len(waits) == len(caps)
    assert all(0 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))
    # Full jitter: the waits are drawn, not the caps themselves.
    assert waits != caps


async def test_other_failures_are_raised_at_once() -> None:
    tries = 0
    with pytest.raises(Broken):
        async for attempt in RetryPolicy().attempts(lambda e: isinstance(e, Flaky)):
            with attempt:
                tries += 1
                raise Broken
    assert tries == 1


async def test_retries_stop_within_their_time_and_raise_the_last_failure() -> None:
    policy = RetryPolicy(retry_for=0.3, first=0.02, cap=0.05)
    tries = 0
    started = time.monotonic()
    with pytest.raises(Flaky):
        async for attempt in policy.attempts(lambda e: isinstance(e, Flaky)):
            with attempt:
                tries += 1
                raise Flaky
    elapsed = time.monotonic() - started
    assert tries > 2
    assert elapsed < 0.3 + 0.1


async def test_a_store_with_no_server_behind_it_is_unavailable_after_its_retries() -> None:
    store = FalkorDBStore("127.0.0.1", free_port(), retry_for=0.5)
    started = time.monotonic()
    with pytest.raises(GraphUnavailable) as raised:
        await store.read("RETURN 1 AS one")
    elapsed = time.monotonic() - started
    assert type(raised.value) is GraphUnavailable
    assert isinstance(raised.value, GraphError)
    # Retried for a while, but not past its time (plus one connection attempt).
    assert 0.1 < elapsed < 0.5 + 2.5
    await store.close()
