"""Regrade alerts of cases a hub acknowledged but stopped before alerting: fed when a hub starts,
once, even when two replicas start at the same time."""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial
from pathlib import Path

from federation.after_sync import AfterSyncQueue, after_sync_step, applied_keys
from federation.changes import page
from graph import GraphStore
from graph.after_sync_queue import AfterSyncWork
from policies.case_rules import default_case_rules
from policies.principal import Principal
from tests.federation.test_ingest_pipeline import ingest, stream
from tests.gateway.graphql_client import summary


def principal(force: str) -> Principal:
    return Principal(client_id=f"force-{force}", scopes=frozenset({"sync:write"}), force=force)


async def test_alerts_left_behind_by_a_stopped_hub_come_once(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    hub = ingest(graph_store, tmp_path, 50)
    phone = {"ref": "P1", "phones": ["07700 900555"]}
    as_cases = [
        summary("AS", 1, level="LOW", suspects=[{"ref": "P1", "accessToChildren": True}]),
        summary("AS", 2, level="MEDIUM", suspects=[phone]),
        summary("AS", 3, level="LOW"),  # no sign
    ]
    gl_case = summary("GL", 4, level="HIGH", suspects=[{"ref": "P9", "phones": ["+447700900555"]}])
    # Both syncs were acknowledged; the hub stopped before its after-sync step ran.
    written = applied_keys("AS", await hub.apply(principal("AS"), stream(as_cases)))
    written += applied_keys("GL", await hub.apply(principal("GL"), stream([gl_case])))
    assert len(written) == 4
    assert [c for c in (await page(graph_store, "AS", 0)).changes if c.kind == "REGRADE"] == []

    # Two replicas start at once, both take the flagged cases up.
    step = partial(after_sync_step, graph_store, rules=default_case_rules())
    replicas = [AfterSyncQueue(graph_store, step) for _ in range(2)]
    tasks = [asyncio.create_task(r.run()) for r in replicas]
    await asyncio.sleep(0)
    try:
        for _ in range(200):
            if not await AfterSyncWork(graph_store).pending():
                break
            await asyncio.sleep(0.05)
        await asyncio.gather(*(r.settle() for r in replicas))
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    assert await AfterSyncWork(graph_store).pending() == []
    feed = (await page(graph_store, "AS", 0)).changes
    alerts = [(c.case_ref, c.reasons) for c in feed if c.kind == "REGRADE"]
    assert sorted(alerts) == [
        ("AS-T-0001", ("suspect has access to children",)),
        ("AS-T-0002", ("linked to GL case GL-T-0004, graded high risk",)),
    ]
