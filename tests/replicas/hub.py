"""A hub replica as its own process, for the tests that kill one (SIGKILL, no shutdown).

`serve(port)` is `crossforce serve` for one process: settings from the environment. With
`CROSSFORCE_TEST_STEP_DELAY` set (seconds; read here only, never by the hub) the after-sync step
waits that long before it runs, after the queue has claimed its cases, so that a test can kill
the replica mid-step.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from typing import Any

import uvicorn

import federation.after_sync as after_sync
from gateway.app import create_app
from gateway.config import Settings
from graph import GraphStore


def _slowed(delay: float) -> None:
    step = after_sync.after_sync_step

    async def slow_step(store: GraphStore, keys: Sequence[str], now_ms: int, **kwargs: Any) -> int:
        await asyncio.sleep(delay)
        return await step(store, keys, now_ms, **kwargs)

    after_sync.after_sync_step = slow_step  # type: ignore[assignment]


def serve(port: int) -> None:
    delay = float(os.environ.get("CROSSFORCE_TEST_STEP_DELAY", "0"))
    if delay > 0:
        _slowed(delay)
    uvicorn.run(create_app(Settings()), host="127.0.0.1", port=port, log_level="warning")
