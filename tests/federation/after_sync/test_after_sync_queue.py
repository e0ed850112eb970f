"""The after-sync step runs in the background: each written case once per version, kept pending
through graph errors and hub restarts, never lost between the answer and the step."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from federation.after_sync import AfterSyncQueue, applied_keys
from federation.ingest import Ingest
from graph import GraphStore, GraphUnavailable
from graph.after_sync_queue import AfterSyncWork
from tests.federation.conftest import examples
from tests.federation.test_ingest_pipeline import AS, ingest, stream


class Recorder:
    """The step: records what it was given; fails the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.calls: list[list[str]] = []
        self.failures = failures

    async def __call__(self, keys: Sequence[str], now_ms: int) -> None:
        if self.failures:
            self.failures -= 1
            raise GraphUnavailable("graph engine unreachable")
        self.calls.append(sorted(keys))

    @property
    def fed(self) -> list[str]:
        return sorted(key for call in self.calls for key in call)


def as_cases(count: int, version: int = 1) -> list[dict[str, Any]]:
    template = examples()[0]
    return [template | {"caseRef": f"AS-Q-{i}", "version": version} for i in range(count)]


async def write(hub: Ingest, records: list[dict[str, Any]]) -> list[str]:
    return applied_keys("AS", await hub.apply(AS, stream(records)))


async def pending(store: GraphStore) -> list[str]:
    return sorted(await AfterSyncWork(store).pending())


@contextlib.asynccontextmanager
async def running(queue: AfterSyncQueue) -> AsyncIterator[AfterSyncQueue]:
    task = asyncio.create_task(queue.run())
    await asyncio.sleep(0)  # started, as the hub's is long before it serves a request
    try:
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture
def hub(graph_store: GraphStore, tmp_path: Path) -> Ingest:
    return ingest(graph_store, tmp_path, 2)


async def test_submitted_cases_are_fed_once_and_cleared(hub: Ingest) -> None:
    keys = await write(hub, as_cases(3))
    assert await pending(hub.store) == sorted(keys)  # written with the case, in one statement
    step = Recorder()
    async with running(AfterSyncQueue(hub.store, step)) as queue:
        await queue.submit(keys, 0)
        await queue.settle()
        assert step.fed == sorted(keys)
        assert await pending(hub.store) == []
        await queue.submit(keys, 0)  # already fed: not run again
        await queue.settle()
    assert step.fed == sorted(keys)


async def test_cases_written_before_a_stop_are_fed_by_the_next_start(hub: Ingest) -> None:
    # The hub answered `applied` and stopped before its step ran: nothing was submitted.
    keys = await write(hub, as_cases(5))
    step = Recorder()
    queue = AfterSyncQueue(hub.store, step)
    await queue.recover()
    async with running(queue):
        await queue.settle()
    assert step.fed == sorted(keys)
    assert await pending(hub.store) == []


async def test_a_failing_step_keeps_the_cases_pending_and_runs_again(hub: Ingest) -> None:
    keys = await write(hub, as_cases(3))
    step = Recorder(failures=2)
    async with running(AfterSyncQueue(hub.store, step, retry_seconds=0.05)) as queue:
        await queue.submit(keys, 0)
        assert await pending(hub.store) == sorted(keys)
        await queue.settle()
    assert step.fed == sorted(keys)
    assert await pending(hub.store) == []


async def test_a_newer_version_written_while_the_step_runs_stays_pending(hub: Ingest) -> None:
    [key] = await write(hub, as_cases(1))
    newer = copy.deepcopy(as_cases(1, version=2))

    class Rewriting(Recorder):
        async def __call__(self, keys: Sequence[str], now_ms: int) -> None:
            await super().__call__(keys, now_ms)
            if len(self.calls) == 1:
                assert await write(hub, newer) == [key]

    step = Rewriting()
    async with running(AfterSyncQueue(hub.store, step)) as queue:
        await queue.submit([key], 0)
        await queue.settle()
        assert await pending(hub.store) == [key]  # version 2 was not fed yet
        await queue.submit([key], 0)
        await queue.settle()
    assert step.calls == [[key], [key]]
    assert await pending(hub.store) == []


async def test_settle_gives_up_after_its_timeout_while_the_graph_is_down(hub: Ingest) -> None:
    keys = await write(hub, as_cases(1))
    step = Recorder(failures=1000)
    async with running(AfterSyncQueue(hub.store, step, retry_seconds=0.05)) as queue:
        await queue.submit(keys, 0)
        await asyncio.wait_for(queue.settle(timeout=0.3), 5)
    assert step.fed == []
    assert await pending(hub.store) == keys


async def test_settle_does_not_wait_for_a_queue_that_is_not_running(hub: Ingest) -> None:
    queue = AfterSyncQueue(hub.store, Recorder())
    await queue.submit(await write(hub, as_cases(1)), 0)
    await asyncio.wait_for(queue.settle(timeout=30), 1)  # nothing would ever feed it
