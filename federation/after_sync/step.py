"""The hub's after-sync step: what a sync tells other forces, fed to the change feed.

After each sync, `after_sync_step` finds the cross-force links the synced cases now have (each
fed to both forces), and the forces whose LOW or MEDIUM cases now carry a sign of higher risk
hear of it, once per distinct set of reasons. One link query serves both, and one append feeds
both; a force whose intake went over the case rules' ceiling (federation/intake.py) has its
events held instead. It runs in the background, off the syncs' path, by
`AfterSyncQueue` (federation/after_sync/queue.py): it raises on a graph error, and
the queue keeps the cases pending and runs it again, so a hub that stops between a commit and
this step loses no event."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from federation.after_sync import link_counts, victim_groups
from federation.after_sync.feed import deliver
from federation.after_sync.links import cross_force_links, link_events
from federation.after_sync.regrade import regrade_reasons
from graph import GraphStore
from graph.case_metadata import CaseMetadataStore
from policies.case_facts import CaseFacts, facts_of
from policies.case_rules import CaseRules


def _event(fact: CaseFacts, reasons: list[str], now_ms: int) -> tuple[str, dict[str, Any]]:
    digest = hashlib.sha256("\n".join(reasons).encode()).hexdigest()[:16]
    dedupe = f"REGRADE|{fact.key}|{digest}"
    # The linked cases' keys go with the reasons that name them, so that the feed can tell a
    # reader who may not know one of them that the link exists, not which case it is.
    linked = {"linkedHigh": sorted(fact.linked_high)} if fact.linked_high else {}
    return dedupe, {
        "dedupe": dedupe, "kind": "REGRADE", "force": fact.force, "caseRef": fact.case_ref,
        "reasons": reasons, "at": now_ms, **linked,
    }  # fmt: skip


async def after_sync_step(
    store: GraphStore, keys: Sequence[str], now_ms: int, *, rules: CaseRules
) -> int:
    """Feed the synced cases' new cross-force links; count again the links of the cases around
    them (link_counts.py) and group their victims again (victim_groups.py);
    feed the regrade alerts of the synced cases and of the other forces' cases they now link
    to; all under the case rules (link caps, high risk, regrade signs). How many events were
    new."""
    synced = sorted(set(keys))
    if not synced:
        return 0
    links = await cross_force_links(store, synced)
    events = link_events(links, now_ms, rules.links_counted)
    near = await link_counts.around(store, synced)
    await link_counts.count_after_sync(store, synced, near, links, rules)
    await victim_groups.regroup(store, set(synced) | near.cases)
    alerted = set(synced) | {link.other for link in links}
    events.update(await _regrade_events(store, sorted(alerted), now_ms, rules))
    # Events for a force whose intake went over the case rules' ceiling are held, not appended.
    return await deliver(store, events)


async def _regrade_events(
    store: GraphStore, keys: list[str], now_ms: int, rules: CaseRules
) -> dict[str, Any]:
    cases = await CaseMetadataStore(store).regradable(keys, sorted(rules.regrade.levels))
    events = {}
    for fact in (facts_of(case, rules) for case in cases):
        reasons = regrade_reasons(fact)
        if reasons:
            dedupe, event = _event(fact, reasons, now_ms)
            events[dedupe] = event
    return events
