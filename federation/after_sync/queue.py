"""What runs after a batch of case summaries committed, whichever way it came (push or pull).

The hub's after-sync step (cross-force links and regrade alerts, `step.py`) runs off
the request's path: a sync hands the keys it applied to `AfterSyncQueue` and is answered at once,
and one background task feeds them in batches. Nothing is lost if the hub stops in between: every
case is written with `afterSyncPending` set, in the same statement as the case itself, and the
flag is cleared only once the step has run for that version; at start-up the queue takes up every
case still flagged, whichever replica wrote it.

Replicas share the work without a coordinator: before running the step on some cases a replica
claims them in the graph for `stale_seconds`, and skips those another replica holds a live claim
on. A replica that stops mid-step (killed, its node lost) leaves its cases flagged; every live
replica sweeps the graph every `stale_seconds / 2` for cases flagged for longer than
`stale_seconds` whose claim ran out, and takes them up. So pending work is taken up within one
and a half times `stale_seconds` of its replica's death, by whichever replica claims it first.
The step must still be idempotent (the change feed is: an event is appended once however often
it is fed), because a claim can run out under a step slower than `stale_seconds`, or a replica
that starts may run it for cases another is still feeding.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence

from federation.ingest import Result
from federation.replica import replica_id
from graph import GraphStore
from graph.after_sync_queue import AfterSyncWork
from graph.cases import case_key

log = logging.getLogger("crossforce.federation")

# Called with the keys of the cases a batch applied, once they have committed, and the time.
AfterSync = Callable[[list[str], int], Awaitable[None]]
# The step the queue runs: for some cases' keys and the time; raises to be retried.
Step = Callable[[Sequence[str], int], Awaitable[object]]

CHUNK = 2000  # keys per run of the step
RETRY_SECONDS = 2.0
STALE_SECONDS = 30.0


def applied_keys(force: str, results: Iterable[Result]) -> list[str]:
    return [case_key(force, r.case_ref) for r in results if r.status == "applied" and r.case_ref]


async def run_after_sync(after_sync: AfterSync | None, force: str, results: list[Result]) -> None:
    if after_sync is None:
        return
    applied = applied_keys(force, results)
    if applied:
        await after_sync(applied, int(time.time() * 1000))


async def settled_for(
    store: GraphStore, force: str, timeout: float = 10.0, every: float = 0.05
) -> bool:
    """Wait (at most `timeout` seconds) until no case of `force` waits for the after-sync step,
    on whichever replica it is; whether it came to that."""
    deadline = time.monotonic() + timeout
    work = AfterSyncWork(store)
    while True:
        if await work.count(force) == 0:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(every)


class AfterSyncQueue:
    """`submit` is the `AfterSync` hook; `run` the background task; `settle` lets a reader (the
    change feed) wait until what was submitted before has been fed."""

    def __init__(
        self,
        store: GraphStore,
        step: Step,
        *,
        chunk: int = CHUNK,
        retry_seconds: float = RETRY_SECONDS,
        stale_seconds: float = STALE_SECONDS,
        holder: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._work = AfterSyncWork(store)
        self._step = step
        self._chunk = chunk
        self._retry = retry_seconds
        self._stale = stale_seconds
        self.holder = holder or replica_id()
        self._clock = clock
        self._pending: dict[str, None] = {}  # insertion-ordered set of keys
        self._submitted = 0  # submissions so far (each one a batch of keys)
        self._fed = 0  # submissions whose keys have all been fed
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self._running = False  # a settle waits only while `run` can make progress

    async def submit(self, keys: list[str], now_ms: int) -> None:
        """Cheap: remembers the keys and wakes the task. (`now_ms` is not kept: alerts carry
        the time they were fed.)"""
        self._pending.update(dict.fromkeys(keys))
        self._submitted += 1
        self._wake.set()

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait (at most `timeout` seconds) until everything submitted so far has been fed."""
        target = self._submitted
        if not self._running:
            return
        async with self._progress:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._progress.wait_for(lambda: self._fed >= target), timeout
                )

    async def run(self, ready: asyncio.Event | None = None) -> None:
        """Take up the cases left flagged (once the graph is migrated), then feed as keys come,
        sweeping for cases other replicas left pending whenever nothing came for a while."""
        self._running = True
        try:
            if ready is not None:
                await ready.wait()
            await self.recover()
            next_sweep = time.monotonic() + self._stale / 2
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), next_sweep - time.monotonic())
                if time.monotonic() >= next_sweep:  # also when keys keep coming
                    await self.sweep()
                    next_sweep = time.monotonic() + self._stale / 2
                self._wake.clear()
                await self._drain()
        finally:
            self._running = False

    async def sweep(self) -> int:
        """Submit the cases pending for longer than `stale_seconds` that no live replica has
        claimed; how many. A graph error is logged and left to the next sweep."""
        try:
            keys = await self._work.left_behind(int(self._stale * 1000), self._chunk)
        except Exception as error:  # the next sweep tries again; the task must not die
            log.warning("after-sync sweep waits for the graph: %s", type(error).__name__)
            return 0
        if keys:
            log.info("after-sync step taken up for %d cases left pending", len(keys))
            await self.submit(keys, int(self._clock() * 1000))
        return len(keys)

    async def recover(self) -> None:
        """Take up the cases still flagged in the graph (a settle after this waits for them)."""
        while True:
            try:
                keys = await self._work.pending()
            except Exception as error:  # the graph away, or worse: try again, never die
                log.warning("after-sync recovery waits for the graph: %s", type(error).__name__)
                await asyncio.sleep(self._retry)
                continue
            if keys:
                log.info("after-sync step resumed for %d cases", len(keys))
                await self.submit(keys, int(self._clock() * 1000))
            return

    async def _drain(self) -> None:
        """Feed everything pending; on a graph error keep it pending and try again later."""
        while self._pending:
            mark = self._submitted
            keys = list(self._pending)
            self._pending.clear()
            failed = await self._feed(keys)
            if failed:
                self._pending = dict.fromkeys(failed) | self._pending
                await asyncio.sleep(self._retry)
                continue
            async with self._progress:
                self._fed = mark
                self._progress.notify_all()

    async def _feed(self, keys: list[str]) -> list[str]:
        """Run the step chunk by chunk; the keys not done when a chunk failed."""
        for start in range(0, len(keys), self._chunk):
            chunk = keys[start : start + self._chunk]
            try:
                await self._feed_chunk(chunk)
            except Exception as error:  # kept pending and retried; the task must not die
                log.warning("after-sync step deferred: %s", type(error).__name__)
                return keys[start:]
        return []

    async def _feed_chunk(self, keys: list[str]) -> None:
        # Only cases still flagged (another replica, or an earlier run, may have fed the rest)
        # and not claimed by another live replica; claimed by this one for `stale_seconds`.
        claimed = await self._work.claim(keys, self.holder, int(self._stale * 1000))
        if not claimed:
            return
        await self._step([c.key for c in claimed], int(self._clock() * 1000))
        # Cleared only for the version just fed: a newer one written meanwhile stays flagged.
        await self._work.settle(claimed)
