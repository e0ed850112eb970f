"""Which failures are worth another try, and for how long: a policy run by tenacity.

Rate limits (429) and unavailability (502/503/504), timeouts and dropped connections are retried
with exponential backoff and full jitter, never sooner than the hub's `Retry-After`, within a
bounded number of attempts and a bounded time. A 500 is not retried: it is a bug, and the same
body would meet the same bug.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    RetryError,
    retry_if_exception_type,
    stop_after_attempt,
    stop_before_delay,
    wait_exponential,
    wait_random_exponential,
)
from tenacity.wait import wait_base

from crossforce_sdk.errors import HubUnavailable

# Worth another try: the hub asked us to slow down or is briefly unavailable, or a proxy in front
# of it is.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Transient transport failures. Others (unsupported scheme, proxy misconfiguration) will not heal.
RETRYABLE_TRANSPORT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying a call that failed transiently: at most `max_attempts` attempts,
    and no wait that would end more than `max_elapsed` seconds after the first attempt.

    Waits double from `base_delay` up to `max_delay`; with `jitter` (full jitter, the default)
    each is drawn uniformly below that cap, which spreads out clients that failed together.
    """

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 120.0
    jitter: bool = True

    def backoff(self) -> wait_base:
        """The wait before the next attempt, with the hub's `Retry-After` as a floor."""
        doubling: wait_base
        if self.jitter:
            doubling = wait_random_exponential(multiplier=self.base_delay, max=self.max_delay)
        else:
            doubling = wait_exponential(multiplier=self.base_delay, max=self.max_delay)
        return _NoSoonerThanRetryAfter(doubling)


class Transient(Exception):
    """One failed attempt worth another: `last` says what happened, for the final error."""

    def __init__(self, last: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(last)
        self.last = last
        self.status = status
        self.retry_after = retry_after


class _NoSoonerThanRetryAfter(wait_base):
    """Backoff, but never sooner than the hub's Retry-After: it knows when it will have
    capacity, and jitter alone could bring us back too early."""

    def __init__(self, backoff: wait_base) -> None:
        self._backoff = backoff

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = self._backoff(retry_state)
        error = retry_state.outcome.exception() if retry_state.outcome else None
        if isinstance(error, Transient) and error.retry_after is not None:
            return max(delay, error.retry_after)
        return delay


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 10.2.3).

    None when absent or unreadable; never negative (a date in the past means "now").
    """
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


async def with_retries(
    what: str,
    attempt_once: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    sleep: Sleep = asyncio.sleep,
) -> T:
    """What `attempt_once` returns once it neither raises `Transient` nor meets a transient
    transport error, within the policy; else HubUnavailable saying how many attempts were made
    and what the last one met."""

    async def once() -> T:
        try:
            return await attempt_once()
        except RETRYABLE_TRANSPORT_ERRORS as error:
            raise Transient(describe_transport_error(error)) from None
        except httpx.TransportError as error:
            raise HubUnavailable(f"{what}: {describe_transport_error(error)}") from None

    retrying = AsyncRetrying(
        retry=retry_if_exception_type(Transient),
        wait=policy.backoff(),
        stop=stop_after_attempt(policy.max_attempts) | stop_before_delay(policy.max_elapsed),
        sleep=sleep,
    )
    try:
        return await retrying(once)
    except RetryError as gave_up:
        error = gave_up.last_attempt.exception()
        assert isinstance(error, Transient)
        attempts = gave_up.last_attempt.attempt_number
        elapsed = retrying.statistics.get("delay_since_first_attempt", 0.0)
        raise HubUnavailable(
            f"{what}: gave up after {attempts} attempt(s) in {elapsed:.1f} s "
            f"(retry budget {policy.max_attempts} attempts, {policy.max_elapsed:.0f} s); "
            f"last: {error.last}",
            status=error.status,
        ) from None


def screened(response: httpx.Response) -> httpx.Response:
    """The response, unless its status is worth another try (then `Transient`)."""
    if response.status_code in RETRYABLE_STATUSES:
        raise transient_answer(response)
    return response


def transient_answer(response: httpx.Response) -> Transient:
    """A retryable status as a failed attempt, with its Retry-After."""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    last = f"HTTP {response.status_code}"
    if retry_after is not None:
        last += f" with Retry-After {retry_after:.0f} s"
    return Transient(last, status=response.status_code, retry_after=retry_after)


def describe_transport_error(error: httpx.TransportError) -> str:
    detail = str(error)[:200]
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
