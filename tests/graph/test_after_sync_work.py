"""The after-sync step's work on both engines: cases and tombstones written pending, claimed by
one replica at a time until the claim runs out, settled for the version the step ran for, and
swept up only once left pending for longer than the age asked."""

from __future__ import annotations

import asyncio

from graph import GraphStore
from graph.after_sync_queue import AfterSyncWork, Claimed
from graph.cases import CaseRow, tombstone_cases, upsert_cases
from tests.graph import builders

MINUTE = 60_000


def case_row(force: str, case_ref: str, version: int = 1) -> CaseRow:
    """A case as a sync writes it: waiting for the after-sync step (`federation/prepare.py`)."""
    row = builders.case_row(force, case_ref, version)
    row["props"]["afterSyncPending"] = True
    return row


async def test_cases_and_tombstones_are_written_pending(graph_store: GraphStore) -> None:
    work = AfterSyncWork(graph_store)
    await upsert_cases(graph_store, [case_row("AS", "AS-1"), case_row("GL", "GL-1")])
    await tombstone_cases(graph_store, [{"key": "AS:AS-2", "force": "AS", "version": 1}])
    assert sorted(await work.pending()) == ["AS:AS-1", "AS:AS-2", "GL:GL-1"]
    assert await work.count() == 3
    assert await work.count("AS") == 2
    assert await work.count("WI") == 0


async def test_a_claim_holds_off_another_replica_until_it_runs_out(
    graph_store: GraphStore,
) -> None:
    work = AfterSyncWork(graph_store)
    await upsert_cases(graph_store, [case_row("AS", "AS-1", 3), case_row("AS", "AS-2")])
    await tombstone_cases(graph_store, [{"key": "GL:GL-9", "force": "GL", "version": 2}])
    keys = ["AS:AS-1", "AS:AS-2", "GL:GL-9", "AS:AS-404"]  # one the graph never held

    first = await work.claim(keys, "replica-1", MINUTE)
    assert sorted(first, key=lambda c: c.key) == [
        Claimed("AS:AS-1", 3), Claimed("AS:AS-2", 1), Claimed("GL:GL-9", 2)
    ]  # fmt: skip
    assert await work.claim(keys, "replica-2", MINUTE) == []
    # Its holder may claim again (a step run again after an error).
    assert len(await work.claim(keys, "replica-1", MINUTE)) == 3

    # A claim that ran out is anyone's.
    await upsert_cases(graph_store, [case_row("WI", "WI-1")])
    assert await work.claim(["WI:WI-1"], "replica-1", 1) == [Claimed("WI:WI-1", 1)]
    await asyncio.sleep(0.05)
    assert await work.claim(["WI:WI-1"], "replica-2", MINUTE) == [Claimed("WI:WI-1", 1)]
    assert await work.claim(["WI:WI-1"], "replica-1", MINUTE) == []


async def test_settling_clears_only_the_version_the_step_ran_for(graph_store: GraphStore) -> None:
    work = AfterSyncWork(graph_store)
    await upsert_cases(graph_store, [case_row("AS", "AS-1"), case_row("AS", "AS-2")])
    await tombstone_cases(graph_store, [{"key": "GL:GL-1", "force": "GL", "version": 1}])
    claimed = await work.claim(["AS:AS-1", "AS:AS-2", "GL:GL-1"], "replica-1", MINUTE)
    assert len(claimed) == 3
    # AS-2 is written again while the step runs for version 1.
    await upsert_cases(graph_store, [case_row("AS", "AS-2", 2)])
    await work.settle(claimed)
    assert await work.pending() == ["AS:AS-2"]
    assert await work.count("GL") == 0
    # Settled, a case is no longer claimable; the newer version is, by anyone.
    assert await work.claim(["AS:AS-1"], "replica-2", MINUTE) == []
    assert await work.claim(["AS:AS-2"], "replica-2", MINUTE) == [Claimed("AS:AS-2", 2)]


async def test_a_sweep_takes_only_work_older_than_the_age_and_unclaimed(
    graph_store: GraphStore,
) -> None:
    work = AfterSyncWork(graph_store)
    await upsert_cases(graph_store, [case_row("AS", f"AS-{n}") for n in range(3)])
    await tombstone_cases(graph_store, [{"key": "GL:GL-1", "force": "GL", "version": 1}])
    assert await work.left_behind(MINUTE, 10) == []  # written just now
    await asyncio.sleep(0.05)
    everything = ["AS:AS-0", "AS:AS-1", "AS:AS-2", "GL:GL-1"]
    assert sorted(await work.left_behind(10, 10)) == everything
    # At most `limit` of each kind.
    assert sorted(await work.left_behind(10, 1)) in (
        ["AS:AS-0", "GL:GL-1"], ["AS:AS-1", "GL:GL-1"], ["AS:AS-2", "GL:GL-1"]
    )  # fmt: skip
    # A live claim keeps a case out of the sweep.
    await work.claim(["AS:AS-1", "GL:GL-1"], "replica-1", MINUTE)
    assert sorted(await work.left_behind(10, 10)) == ["AS:AS-0", "AS:AS-2"]
