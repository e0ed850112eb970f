"""Sync metrics for Prometheus: records by force and result (applied, stale, rejected).

Force codes are the only label: no case reference, field or value reaches a metric.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import Counter

SYNC_RECORDS = Counter(
    "crossforce_sync_records",
    "Case summary records received by POST /federation/v1/cases, by force and result",
    ["force", "result"],
)
SYNC_BATCHES = Counter(
    "crossforce_sync_batches",
    "Sync requests, by outcome (answered, or refused before any record was applied)",
    ["outcome"],
)


def count_records(force: str, statuses: Iterable[str]) -> None:
    """Count one answered batch's records by result."""
    for status, number in Tally(statuses).items():
        SYNC_RECORDS.labels(force, status).inc(number)
    SYNC_BATCHES.labels("answered").inc()


def count_refused(reason: str) -> None:
    """A batch refused whole: unauthorised, forbidden, bad body, or graph unavailable."""
    SYNC_BATCHES.labels(reason).inc()
