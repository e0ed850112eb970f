"""The change feed's repository on both engines: typed changes in order, each event once, pages
of writes, holds and their release."""

from __future__ import annotations

from typing import Any

import pytest

from graph import GraphStore
from graph.change_feed import Change, ChangeFeed, Hold


def event(n: int, force: str = "AS", **extra: Any) -> dict[str, Any]:
    return {"dedupe": f"TEST|{n}", "kind": "LINK", "force": force, "caseRef": f"{force}-{n}",
            "at": 1_700_000_000_000 + n, **extra}  # fmt: skip


async def test_changes_come_back_typed_in_order_of_seq(graph_store: GraphStore) -> None:
    feed = ChangeFeed(graph_store)
    alert = event(2, kind="REGRADE", reasons=["grooming"], linkedHigh=["GL:GL-9"])
    link = event(1, otherForce="GL", otherCaseRef="GL-7", otherKey="GL:GL-7", via="Person")
    assert await feed.append([link, alert, event(3, force="GL")]) == 3

    changes = await feed.page("AS", 0, 10)
    assert changes == [
        Change(seq=1, kind="LINK", case_ref="AS-1", at=1_700_000_000_001, other_force="GL",
               other_case_ref="GL-7", other_key="GL:GL-7", via="Person"),
        Change(seq=2, kind="REGRADE", case_ref="AS-2", at=1_700_000_000_002,
               reasons=("grooming",), linked_high=("GL:GL-9",)),
    ]  # fmt: skip
    assert [c.seq for c in await feed.page("AS", 1, 10)] == [2]
    assert [c.seq for c in await feed.page("AS", 0, 1)] == [1]
    assert [c.case_ref for c in await feed.page("GL", 0, 10)] == ["GL-3"]


def test_a_change_is_told_without_the_hubs_own_keys() -> None:
    change = Change(seq=4, kind="LINK", case_ref="AS-1", other_force="GL", other_key="GL:GL-7",
                    linked_high=("GL:GL-7",), reasons=("linked",))  # fmt: skip
    assert change.wire() == {
        "seq": 4, "kind": "LINK", "caseRef": "AS-1", "otherForce": "GL", "reasons": ["linked"],
    }  # fmt: skip


async def test_many_events_are_written_a_page_at_a_time_each_once(
    graph_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    written: list[int] = []
    write = graph_store.write

    async def counted(query: str, params: dict[str, Any] | None = None, **kw: Any) -> Any:
        written.append(len((params or {}).get("events", [])))
        return await write(query, params, **kw)

    monkeypatch.setattr(graph_store, "write", counted)
    feed = ChangeFeed(graph_store, page_size=4)
    assert await feed.append([event(n) for n in range(10)]) == 10
    assert written == [4, 4, 2]
    assert await feed.append([event(n) for n in range(12)]) == 2  # duplicates in any page
    assert [c.seq for c in await feed.page("AS", 0, 100)] == list(range(1, 13))


async def test_held_events_reach_the_feed_only_when_released(graph_store: GraphStore) -> None:
    feed = ChangeFeed(graph_store)
    await graph_store.write("CREATE (:LinkHold {force: 'GL', since: 5})")
    assert await feed.held_forces(["AS", "GL"]) == {"GL"}
    assert await feed.held_forces([]) == set()

    held = [event(n, force="GL", heldFor="GL") for n in (1, 2)]
    assert await feed.hold(held) == 2
    assert await feed.hold(held) == 0  # each once
    assert await feed.holds() == [Hold(force="GL", since_ms=5, events=2)]
    assert await feed.page("GL", 0, 10) == []

    assert await feed.release("GL", day=0) == 2
    assert [c.case_ref for c in await feed.page("GL", 0, 10)] == ["GL-1", "GL-2"]
    assert await feed.holds() == []
    assert await feed.held_forces(["GL"]) == set()
