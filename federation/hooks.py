"""What runs after a batch of case summaries committed, whichever way it came (push or pull)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from federation.ingest import Result
from graph.cases import case_key

# Called with the keys of the cases a batch applied, once they have committed, and the time.
AfterSync = Callable[[list[str], int], Awaitable[None]]


def applied_keys(force: str, results: Iterable[Result]) -> list[str]:
    return [case_key(force, r.case_ref) for r in results if r.status == "applied" and r.case_ref]


async def run_after_sync(after_sync: AfterSync | None, force: str, results: list[Result]) -> None:
    if after_sync is None:
        return
    applied = applied_keys(force, results)
    if applied:
        await after_sync(applied, int(time.time() * 1000))
