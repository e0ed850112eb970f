"""Who is sweeping identifier search: a client that looks up many distinct values in a short time
is enumerating what other forces hold, not deconflicting a referral.

`limits.yaml`'s `search` section sets the window and how many distinct values in it make a sweep.
The value searched is known here only as its blind index (an HMAC), never as text. A client that
crosses the line is refused for `cooloff` seconds (a 429 with Retry-After), and the caller alerts
the region's administrators once per crossing. Like the rate limits, the watch lives in each
replica's memory: with n replicas a sweeper gets at most n times the allowance before each one
stops it, and every replica that stops it alerts.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from policies.limits import RateLimited, SearchRules

MAX_CLIENTS = 10_000  # far more clients than a region has: a bound on memory, not a limit


class Sweeping(RateLimited):
    """The client is refused while its cool-off runs."""


@dataclass
class _Seen:
    values: deque[tuple[float, str]] = field(default_factory=deque)
    refused_until: float = 0.0


class SearchWatch:
    def __init__(self, rules: SearchRules, clock: Callable[[], float] = time.monotonic) -> None:
        self.rules = rules
        self._clock = clock
        self._clients: dict[str, _Seen] = {}

    def check(self, client_id: str) -> None:
        """Raise `Sweeping` while the client's cool-off runs."""
        seen = self._clients.get(client_id)
        now = self._clock()
        if seen is not None and now < seen.refused_until:
            raise Sweeping(seen.refused_until - now)

    def note(self, client_id: str, blind_key: str) -> int | None:
        """Count one search; when it makes the client a sweeper, start its cool-off and return
        how many distinct values it looked up in the window (the caller alerts), else None."""
        now = self._clock()
        seen = self._clients.get(client_id)
        if seen is None:
            if len(self._clients) >= MAX_CLIENTS:
                self._clients.clear()
            seen = self._clients[client_id] = _Seen()
        while seen.values and seen.values[0][0] <= now - self.rules.window:
            seen.values.popleft()
        if all(key != blind_key for _, key in seen.values):
            seen.values.append((now, blind_key))
        if len(seen.values) <= self.rules.sweep:
            return None
        distinct = len(seen.values)
        seen.values.clear()
        seen.refused_until = now + self.rules.cooloff
        return distinct
