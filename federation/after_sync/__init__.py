"""The after-sync step: what the hub learns from a committed sync, fed to the change feed.

One entry point, `after_sync_queue(store, rules)`: the queue (`queue.py`) that a sync hands its
applied keys to, running the step (`step.py`) in the background under the case rules:
cross-force links (`links.py`), each case's link counts (`link_counts.py`), victim groups
(`victim_groups.py`), regrade alerts (`regrade.py`) and the append to the change feed
(`feed.py`). The gateway only reads what it wrote.
"""

from __future__ import annotations

from functools import partial

from federation.after_sync.queue import (
    STALE_SECONDS,
    AfterSync,
    AfterSyncQueue,
    applied_keys,
    run_after_sync,
    settled_for,
)
from federation.after_sync.step import after_sync_step
from graph import GraphStore
from policies.case_rules import CaseRules

__all__ = [
    "AfterSync",
    "AfterSyncQueue",
    "after_sync_queue",
    "after_sync_step",
    "applied_keys",
    "run_after_sync",
    "settled_for",
]


def after_sync_queue(
    store: GraphStore, rules: CaseRules, *, stale_seconds: float = STALE_SECONDS
) -> AfterSyncQueue:
    """The queue running the after-sync step on `store` under the case rules; start its `run` as
    a background task. Work another replica left pending for `stale_seconds` is taken up."""
    step = partial(after_sync_step, store, rules=rules)
    return AfterSyncQueue(store, step, stale_seconds=stale_seconds)
