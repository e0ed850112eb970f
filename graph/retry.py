"""The hub's one retry policy for the graph, run by tenacity (as the SDK's is).

A failure the caller names transient (a dropped connection, a server still loading) is tried
again after a wait drawn uniformly below a cap that doubles from `first` up to `cap` (full
jitter, so replicas that failed together do not retry in step), until `retry_for` seconds have
gone by; then the last failure is raised as it was. Anything else is raised at once: a wrong
password or a syntax error stays wrong on every try.

`retry_for=None` keeps trying for as long as the caller waits (migrations at start-up).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_before_delay,
    stop_never,
    wait_random_exponential,
)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`retry_for`: seconds from the first try after which no further try starts (None: no
    bound); `first`, `cap`: the first and the largest bound of a wait, in seconds."""

    retry_for: float | None = 5.0
    first: float = 0.05
    cap: float = 1.0

    def attempts(
        self,
        transient: Callable[[BaseException], bool],
        *,
        on_retry: Callable[[BaseException, float], None] | None = None,
    ) -> AsyncRetrying:
        """`async for attempt in policy.attempts(...): with attempt: ...` runs the block until
        it succeeds, fails with what `transient` refuses, or the time is up. `on_retry` hears
        each transient failure and the seconds until the next try (to log it)."""

        def before_sleep(state: RetryCallState) -> None:
            if on_retry is not None and state.outcome is not None and state.next_action:
                error = state.outcome.exception()
                if error is not None:
                    on_retry(error, state.next_action.sleep)

        return AsyncRetrying(
            retry=retry_if_exception(transient),
            wait=wait_random_exponential(multiplier=self.first, max=self.cap),
            stop=stop_never if self.retry_for is None else stop_before_delay(self.retry_for),
            before_sleep=before_sleep,
            reraise=True,
        )


# Start-up: the hub is not ready until the graph answers, however long that takes.
UNTIL_REACHABLE = RetryPolicy(retry_for=None, first=0.5, cap=10.0)
