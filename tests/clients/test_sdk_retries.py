"""Transient failures: Retry-After, exponential backoff with full jitter, and their bounds."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from crossforce_sdk import HubUnavailable, RetryPolicy, SyncProgress, parse_retry_after

from tests.clients.builders import RecordedSleeps, case, client_for, fast_retries
from tests.clients.fake_hub import Failure, FakeHub


async def test_503_is_retried_no_sooner_than_retry_after(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    hub.failures = [Failure(503, {"Retry-After": "2"}), Failure(503, {"Retry-After": "2"})]
    async with client_for(hub_url, sleeps=sleeps) as client:
        report = await client.sync([case(1), case(2)])

    assert sleeps.delays == [2.0, 2.0]  # the jitter (at most 0.05 s here) never shortens them
    assert [call.status for call in hub.cases_calls] == [503, 503, 200]
    assert report.applied == 2


async def test_429_with_an_http_date_waits_until_then(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    hub.failures = [Failure(429, {"Retry-After": when})]
    async with client_for(hub_url, sleeps=sleeps) as client:
        report = await client.sync([case(1)])

    [delay] = sleeps.delays
    assert 27 <= delay <= 30
    assert report.applied == 1


async def test_without_retry_after_the_backoff_doubles_up_to_its_cap(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    hub.failures = [Failure(503)] * 4
    highest = fast_retries(max_attempts=5, base_delay=0.1, max_delay=0.3, jitter=False)
    async with client_for(hub_url, sleeps=sleeps, retry=highest) as client:
        report = await client.sync([case(1)])

    assert sleeps.delays == pytest.approx([0.1, 0.2, 0.3, 0.3])
    assert report.applied == 1


async def test_full_jitter_spreads_waits_over_the_whole_window(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=4.0)
    async with client_for(hub_url, sleeps=sleeps, retry=policy) as client:
        for _ in range(40):
            hub.failures = [Failure(503)] * 4
            await client.sync([case(1)])

    by_attempt = [sleeps.delays[n::4] for n in range(4)]
    for delays, cap in zip(by_attempt, [1.0, 2.0, 4.0, 4.0], strict=True):
        assert all(0.0 <= delay <= cap for delay in delays)
        assert max(delays) > cap / 2 and min(delays) < cap / 2  # spread, not a fixed step


async def test_retry_after_is_a_floor_under_the_jitter(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    policy = RetryPolicy(base_delay=10.0, max_delay=10.0)
    async with client_for(hub_url, sleeps=sleeps, retry=policy) as client:
        for _ in range(20):
            hub.failures = [Failure(503, {"Retry-After": "5"})]
            await client.sync([case(1)])

    assert len(sleeps.delays) == 20
    assert all(5.0 <= delay <= 10.0 for delay in sleeps.delays)
    assert max(sleeps.delays) > 5.0  # the jitter still spreads what lies above the floor


async def test_gives_up_after_the_attempt_bound_with_a_clear_error(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    hub.failures = [Failure(503, {"Retry-After": "1"})] * 10
    async with client_for(hub_url, sleeps=sleeps, retry=fast_retries(max_attempts=3)) as client:
        with pytest.raises(HubUnavailable) as raised:
            await client.sync([case(1, summary="Suspect coaches a youth team")])

    message = str(raised.value)
    assert len(hub.cases_calls) == 3
    assert len(sleeps.delays) == 2
    assert "3 attempt(s)" in message and "HTTP 503" in message
    assert raised.value.status == 503
    assert "youth team" not in message and "AS-2026-0001" not in message
    assert raised.value.report is not None and raised.value.report.processed == 0


async def test_gives_up_at_once_when_retry_after_overruns_the_time_budget(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    hub.failures = [Failure(503, {"Retry-After": "600"})]
    async with client_for(hub_url, sleeps=sleeps, retry=fast_retries(max_elapsed=10)) as client:
        with pytest.raises(HubUnavailable) as raised:
            await client.sync([case(1)])

    assert sleeps.delays == []
    assert len(hub.cases_calls) == 1
    assert "Retry-After 600 s" in str(raised.value)


async def test_a_failure_mid_sync_keeps_the_report_of_what_was_done(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    def hub_goes_down(_: SyncProgress) -> None:
        hub.failures = [Failure(503, {"Retry-After": "0"})] * 10

    async with client_for(hub_url, sleeps=sleeps, batch_size=2) as client:
        with pytest.raises(HubUnavailable) as raised:
            await client.sync((case(n) for n in range(6)), on_progress=hub_goes_down)

    assert raised.value.report is not None
    assert raised.value.report.applied == 2


async def test_refused_connections_are_retried_then_reported(sleeps: RecordedSleeps) -> None:
    with socket.socket() as probe:  # a port that nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client_for(f"http://127.0.0.1:{port}", sleeps=sleeps) as client:
        with pytest.raises(HubUnavailable) as raised:
            await client.sync([case(1)])

    assert len(sleeps.delays) == 3  # four attempts, three waits
    assert "ConnectError" in str(raised.value)


async def test_a_timed_out_batch_is_sent_again_and_comes_back_stale(
    hub: FakeHub, hub_url: str, sleeps: RecordedSleeps
) -> None:
    hub.stall_seconds = [1.0]  # the first call is applied, but answered too late
    async with client_for(hub_url, sleeps=sleeps, timeout=httpx.Timeout(0.3)) as client:
        report = await client.sync([case(1), case(2), case(3)])

    assert len(hub.cases_calls) == 2
    assert len(sleeps.delays) == 1
    assert (report.applied, report.stale, report.rejected) == (0, 3, 0)
    assert report.ok


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("7", now=now) == 7.0
    assert parse_retry_after(" 0 ", now=now) == 0.0
    assert parse_retry_after("-3", now=now) == 0.0
    assert parse_retry_after("Mon, 23 Nov 2026 12:00:45 GMT", now=now) == 45.0
    assert parse_retry_after("Mon, 23 Nov 2026 11:00:00 GMT", now=now) == 0.0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after(None, now=now) is None
