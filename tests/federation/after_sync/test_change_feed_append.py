"""Appending to the change feed: each event once, in one transaction with its duplicate check."""

from __future__ import annotations

import asyncio
from typing import Any

from federation.after_sync import links
from federation.after_sync.feed import append_new
from federation.changes import page
from graph import GraphStore
from graph.link_store import CrossLink
from policies.case_rules import default_case_rules

TOLD = default_case_rules().links_counted  # other forces' cases a case hears of


def event(n: int, force: str = "AS") -> dict[str, Any]:
    return {"dedupe": f"TEST|{n}", "kind": "REGRADE", "force": force, "caseRef": f"AS-{n}",
            "reasons": [f"reason {n}"], "at": 1_700_000_000_000 + n}  # fmt: skip


def events(*numbers: int) -> dict[str, dict[str, Any]]:
    return {e["dedupe"]: e for e in map(event, numbers)}


async def test_an_event_already_on_the_feed_is_not_appended_again(graph_store: GraphStore) -> None:
    assert await append_new(graph_store, events(1, 2)) == 2
    assert await append_new(graph_store, events(2, 3, 1)) == 1
    assert await append_new(graph_store, events(3)) == 0
    feed = (await page(graph_store, "AS", 0)).changes
    assert [(c.seq, c.case_ref) for c in feed] == [(1, "AS-1"), (2, "AS-2"), (3, "AS-3")]
    assert feed[2].reasons == ("reason 3",)


async def test_writers_racing_with_the_same_events_add_each_once(graph_store: GraphStore) -> None:
    """As two replicas would, or a replica recovering what another is still feeding."""
    batches = [events(*range(start, start + 20)) for start in (0, 10, 5, 0, 15)]
    added = await asyncio.gather(*(append_new(graph_store, b) for b in batches))
    assert sum(added) == 35
    feed = (await page(graph_store, "AS", 0)).changes
    assert sorted(c.case_ref for c in feed) == sorted(f"AS-{n}" for n in range(35))
    assert [c.seq for c in feed] == list(range(1, 36))  # no gaps, no repeats


def link_row(case: str, other: str, label: str = "Media", other_linked: int = 0) -> CrossLink:
    return CrossLink(case=case, force=case[:2], case_ref=case[3:], label=label, other=other,
                     other_force=other[:2], other_case_ref=other[3:], other_risk="LOW",
                     other_linked=other_linked)  # fmt: skip


def told(events: dict[str, dict[str, Any]], case_ref: str) -> list[str]:
    return sorted(e["otherCaseRef"] for e in events.values() if e["caseRef"] == case_ref)


def test_an_image_in_many_cases_tells_each_case_of_a_few_not_of_every_other() -> None:
    many = TOLD + 10
    # AS-1 is synced: it shares an image with many GL cases, which already hold 0 to many
    # links, and a phone with one WI case.
    rows = [link_row("AS:AS-1", f"GL:GL-{n:02d}", other_linked=n) for n in range(many)]
    rows.append(link_row("AS:AS-1", "WI:WI-1", label="Person"))
    events = links.link_events(reversed(rows), 0, TOLD)

    # Its first TOLD image links (by key) and its phone link.
    assert told(events, "AS-1") == sorted([f"GL-{n:02d}" for n in range(TOLD)] + ["WI-1"])
    # Each GL case hears of it while it holds fewer links than that.
    hearing = [n for n in range(many) if told(events, f"GL-{n:02d}") == ["AS-1"]]
    assert hearing == list(range(TOLD))
    assert told(events, "WI-1") == ["AS-1"]


def test_cases_synced_together_are_told_of_each_other_from_their_own_rows() -> None:
    rows = [
        link_row("AS:AS-1", "GL:GL-1", other_linked=TOLD),
        link_row("GL:GL-1", "AS:AS-1", other_linked=TOLD),
    ]
    events = links.link_events(rows, 0, TOLD)
    assert told(events, "AS-1") == ["GL-1"] and told(events, "GL-1") == ["AS-1"]
