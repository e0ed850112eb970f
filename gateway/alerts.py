"""The hub's after-sync step: what a sync tells other forces, fed to the change feed.

After each sync, `after_sync_step` finds the cross-force links the synced cases now have (each
fed to both forces), and the forces whose LOW or MEDIUM cases now carry a sign of higher risk
hear of it, once per distinct set of reasons. One link query serves both, and one append feeds
both. It runs in the background, off the syncs' path, by `federation.hooks.AfterSyncQueue`
(wired in `gateway/app.py`): it raises on a graph error, and the queue keeps the cases pending
and runs it again, so a hub that stops between a commit and this step loses no event."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from federation.changes import append_new, cross_force_links, link_events
from gateway import priority
from gateway.facts import CaseFacts, facts_of
from graph import GraphStore
from graph.queries import reading, regrade

# Per case: the other forces' cases it links to, with their risk level.
Linked = dict[str, set[tuple[str, str]]]


def _force_and_ref(key: str) -> tuple[str, str]:
    force, _, case_ref = key.partition(":")
    return force, case_ref


def _linked(rows: Iterable[dict[str, Any]], risk: str) -> Linked:
    """Per case, (other case, its risk level), the level read from the column `risk`."""
    found: Linked = defaultdict(set)
    for row in rows:
        found[row["case"]].add((row["other"], row[risk]))
    return found


def reasons_given_links(fact: CaseFacts, linked: Iterable[tuple[str, str]]) -> list[str]:
    """A case's regrade reasons, given its cross-force links as (other case key, risk level)."""
    high = (_force_and_ref(other) for other, risk in linked if priority.is_high(risk))
    return priority.regrade_reasons(fact, high)


def _event(fact: CaseFacts, reasons: list[str], now_ms: int) -> tuple[str, dict[str, Any]]:
    digest = hashlib.sha256("\n".join(reasons).encode()).hexdigest()[:16]
    dedupe = f"REGRADE|{fact.key}|{digest}"
    return dedupe, {
        "dedupe": dedupe, "kind": "REGRADE", "force": fact.force, "caseRef": fact.case_ref,
        "reasons": reasons, "at": now_ms,
    }  # fmt: skip


async def after_sync_step(store: GraphStore, keys: Sequence[str], now_ms: int) -> int:
    """Feed the synced cases' new cross-force links, and the regrade alerts of the synced
    cases and of the other forces' cases they now link to; how many events were new."""
    synced = sorted(set(keys))
    if not synced:
        return 0
    rows = await cross_force_links(store, synced)
    events = link_events(rows, now_ms)
    events.update(await _regrade_events(store, synced, _linked(rows, "otherRisk"), now_ms))
    return await append_new(store, events)


async def _regrade_events(
    store: GraphStore, synced: list[str], links: Linked, now_ms: int
) -> dict[str, dict[str, Any]]:
    """`links`: the synced cases' cross-force links; their neighbours' are read here."""
    neighbours = {
        other for found in links.values() for other, risk in found if risk in priority.REGRADABLE
    }
    candidates = sorted(set(synced) | neighbours)
    rows = await store.read(regrade.REGRADABLE_METADATA_BY_KEY, {"keys": candidates})
    facts = [f for f in map(facts_of, rows) if f.open and f.risk_level in priority.REGRADABLE]
    if not facts:
        return {}
    known = set(synced)
    unread = [f.key for f in facts if f.key not in known]
    if unread:
        more = await store.read(reading.CROSS_FORCE_RISKS, {"keys": unread})
        links.update(_linked(more, "riskLevel"))
    events = {}
    for fact in facts:
        reasons = reasons_given_links(fact, links.get(fact.key, ()))
        if reasons:
            dedupe, event = _event(fact, reasons, now_ms)
            events[dedupe] = event
    return events
