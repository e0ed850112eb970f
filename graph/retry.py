"""Exponential backoff with full jitter, bounded by a deadline."""

from __future__ import annotations

import asyncio
import random
import time


class Backoff:
    def __init__(self, *, deadline: float, first: float = 0.05, cap: float = 1.0) -> None:
        self._deadline = deadline
        self._delay = first
        self._cap = cap

    async def wait(self) -> bool:
        """Sleep before the next try; False when the deadline leaves no room for one."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            return False
        # Jitter spreads retries of many clients; it is not security-relevant.
        await asyncio.sleep(min(random.uniform(0, self._delay), remaining))  # noqa: S311
        self._delay = min(self._delay * 2, self._cap)
        return True
