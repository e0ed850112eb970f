"""The pull cursors' repository on both engines: a cursor per force, moved only by the replica
holding the force's lease once one was taken; a lease taken over once it ran out or was handed
back."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from graph import GraphStore
from graph.pull_cursors import PullCursors

MINUTE_MS = 60_000


async def test_a_cursor_is_per_force_and_moves_freely_before_any_lease(
    graph_store: GraphStore,
) -> None:
    cursors = PullCursors(graph_store)
    assert await cursors.cursor("WI") is None
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)

    assert await cursors.move("WI", "opaque:1 ünïcode", at)
    assert await cursors.move("GL", "gl:7", at)
    # Before any lease was taken, a holder's write goes through too (as before leases).
    assert await cursors.move("WI", "opaque:2", at, holder="replica-a")

    assert await cursors.cursor("WI") == "opaque:2"
    assert await cursors.cursor("GL") == "gl:7"
    assert await cursors.cursor("AS") is None


async def test_only_the_lease_holder_moves_the_cursor(graph_store: GraphStore) -> None:
    cursors = PullCursors(graph_store)
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)
    lease = await cursors.take_lease("WI", "replica-a", MINUTE_MS)
    assert lease is not None and lease.holder == "replica-a"
    assert 0 < lease.remaining_ms <= MINUTE_MS

    assert await cursors.move("WI", "a:1", at, holder="replica-a")
    assert not await cursors.move("WI", "b:1", at, holder="replica-b")
    assert await cursors.cursor("WI") == "a:1"


async def test_a_live_lease_stays_its_holders_and_is_taken_over_once_run_out(
    graph_store: GraphStore,
) -> None:
    cursors = PullCursors(graph_store)
    assert (await cursors.take_lease("WI", "replica-a", MINUTE_MS)) is not None

    refused = await cursors.take_lease("WI", "replica-b", MINUTE_MS)
    assert refused is not None and refused.holder == "replica-a"
    renewed = await cursors.take_lease("WI", "replica-a", MINUTE_MS)
    assert renewed is not None and renewed.holder == "replica-a"
    # Another force's lease is its own.
    other = await cursors.take_lease("GL", "replica-b", MINUTE_MS)
    assert other is not None and other.holder == "replica-b"

    # A holder that stops renewing: its short lease runs out on the graph's clock.
    await cursors.take_lease("WI", "replica-a", 1)
    await asyncio.sleep(0.05)
    taken = await cursors.take_lease("WI", "replica-b", MINUTE_MS)
    assert taken is not None and taken.holder == "replica-b"
    at = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert not await cursors.move("WI", "stalled", at, holder="replica-a")


async def test_a_lease_handed_back_is_free_at_once(graph_store: GraphStore) -> None:
    cursors = PullCursors(graph_store)
    await cursors.take_lease("WI", "replica-a", MINUTE_MS)
    assert not await cursors.release_lease("WI", "replica-b")  # not its lease
    still = await cursors.take_lease("WI", "replica-b", MINUTE_MS)
    assert still is not None and still.holder == "replica-a"

    assert await cursors.release_lease("WI", "replica-a")
    taken = await cursors.take_lease("WI", "replica-b", MINUTE_MS)
    assert taken is not None and taken.holder == "replica-b"
    assert not await cursors.release_lease("AS", "replica-a")  # no such force
