"""The kept daily history (`oversight { history }`) held in memory, read from the graph again
only when a day was kept since.

Days are only ever created, and each creation moves the graph's `forceDays` counter in the same
transaction (graph/queries/history.py). Every request already reads the cases' counter to bring
the read model up to date (gateway/region.py); the days' counter comes in the same read, so a
replica knows whether its days are current without another look, whichever replica kept the new
day. A day deleted by hand moves no counter: the days are read again at least every
`max_age` seconds for that.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date

from graph import GraphStore
from graph.force_days import ForceDay, ForceDays

Mark = tuple[int, str | None]  # the days' counter and its epoch, as last read
MAX_AGE_SECONDS = 600.0
_EVERY_DAY = (date(1, 1, 1), date(9999, 12, 31))


class KeptDays:
    """Every force's kept days, by force and in order of day, and the counter they were read at."""

    def __init__(
        self, max_age: float = MAX_AGE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_age = max_age
        self._clock = clock
        self._by_force: dict[str, list[ForceDay]] = {}
        self._mark: Mark | None = None
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    def _stale(self, mark: Mark) -> bool:
        return mark != self._mark or self._clock() - self._read_at > self.max_age

    async def between(
        self, store: GraphStore, mark: Mark, first: date, last: date
    ) -> list[ForceDay]:
        """Every force's days from `first` to `last`, both included, by force then day; read
        from the graph first if `mark` (the counter as the request read it) is not the one the
        days were read at, or they are older than `max_age`. Requests arriving meanwhile wait
        for the one read."""
        if self._stale(mark):
            async with self._lock:
                if self._stale(mark):
                    await self._read(store, mark)
        out: list[ForceDay] = []
        for force in sorted(self._by_force):
            days = self._by_force[force]
            low = bisect.bisect_left(days, first, key=lambda d: d.day)
            high = bisect.bisect_right(days, last, key=lambda d: d.day)
            out.extend(days[low:high])
        return out

    async def _read(self, store: GraphStore, mark: Mark) -> None:
        read_at = self._clock()
        by_force: dict[str, list[ForceDay]] = defaultdict(list)
        for day in await ForceDays(store).between(*_EVERY_DAY):  # by force, then day
            by_force[day.force].append(day)
        # A day kept after the counter was read is in these days or not: the counter read by a
        # later request differs from `mark`, and the days are read again then.
        self._by_force, self._mark, self._read_at = dict(by_force), mark, read_at

    def forget(self) -> None:
        """Read the days again on the next request (a pass of this replica's keeper kept some)."""
        self._mark = None
