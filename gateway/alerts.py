"""Regrade alerts on the change feed: after each sync, the forces whose LOW or MEDIUM cases now
carry a sign of higher risk hear of it, once per distinct set of reasons.

`alerts_for` is the hub's after-sync step, run in the background by `federation.hooks.
AfterSyncQueue` (wired in `gateway/app.py`): it raises on a graph error, and the queue keeps the
cases pending and runs it again."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from federation.changes import append_new
from gateway import priority
from gateway.facts import CaseFacts, facts_of
from graph import GraphStore
from graph.queries import reading, regrade


def _force_and_ref(key: str) -> tuple[str, str]:
    force, _, case_ref = key.partition(":")
    return force, case_ref


async def _linked_risks(store: GraphStore, keys: list[str]) -> dict[str, list[tuple[str, str]]]:
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if not keys:
        return found
    for row in await store.read(reading.CROSS_FORCE_RISKS, {"keys": keys}):
        found[row["case"]].append((row["other"], row["riskLevel"]))
    return found


def _event(fact: CaseFacts, reasons: list[str], now_ms: int) -> tuple[str, dict[str, Any]]:
    digest = hashlib.sha256("\n".join(reasons).encode()).hexdigest()[:16]
    dedupe = f"REGRADE|{fact.key}|{digest}"
    return dedupe, {
        "dedupe": dedupe, "kind": "REGRADE", "force": fact.force, "caseRef": fact.case_ref,
        "reasons": reasons, "at": now_ms,
    }  # fmt: skip


async def alerts_for(store: GraphStore, keys: Sequence[str], now_ms: int) -> int:
    """Feed regrade alerts for the synced cases and for other forces' cases they now link to."""
    synced = sorted(set(keys))
    if not synced:
        return 0
    links = await _linked_risks(store, synced)
    neighbours = {
        other for found in links.values() for other, risk in found if risk in priority.REGRADABLE
    }
    candidates = sorted(set(synced) | neighbours)
    rows = await store.read(regrade.REGRADABLE_METADATA_BY_KEY, {"keys": candidates})
    facts = [f for f in map(facts_of, rows) if f.open and f.risk_level in priority.REGRADABLE]
    if not facts:
        return 0
    # The synced cases' links are known from the first query; only neighbours' are still needed.
    known = set(synced)
    links.update(await _linked_risks(store, [f.key for f in facts if f.key not in known]))
    events = {}
    for fact in facts:
        high = [_force_and_ref(o) for o, risk in links.get(fact.key, []) if priority.is_high(risk)]
        reasons = priority.regrade_reasons(fact, high)
        if reasons:
            dedupe, event = _event(fact, reasons, now_ms)
            events[dedupe] = event
    return await append_new(store, events)
