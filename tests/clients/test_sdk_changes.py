"""The change feed: one page, and every page from a cursor on."""

from __future__ import annotations

import pytest
from crossforce_sdk import ChangesPage, SyncError

from tests.clients.builders import client_for
from tests.clients.fake_hub import FakeHub


def feed(count: int) -> list[dict[str, object]]:
    return [
        {"kind": "LINK", "caseRef": f"AS-2026-{n:04d}", "otherForce": "GL", "via": "DEVICE"}
        for n in range(count)
    ]


async def test_changes_reads_one_page_after_a_cursor(hub: FakeHub, hub_url: str) -> None:
    hub.change_feed = feed(5)
    async with client_for(hub_url) as client:
        first = await client.changes(None)
        second = await client.changes(first.next)

    assert first == ChangesPage(changes=feed(5)[:2], next="c2")
    assert second.changes == feed(5)[2:4]
    assert hub.changes_calls == [None, "c2"]


async def test_change_pages_reads_to_the_end(hub: FakeHub, hub_url: str) -> None:
    hub.change_feed = feed(5)
    async with client_for(hub_url) as client:
        pages = [page async for page in client.change_pages()]

    assert [len(page.changes) for page in pages] == [2, 2, 1, 0]
    assert [item for page in pages for item in page.changes] == feed(5)
    assert pages[-1].next == "c5"  # where to resume later
    assert hub.changes_calls == [None, "c2", "c4", "c5"]


async def test_a_cursor_the_hub_does_not_know_is_a_sync_error(hub: FakeHub, hub_url: str) -> None:
    async with client_for(hub_url) as client:
        with pytest.raises(SyncError) as raised:
            await client.changes("bogus")

    assert raised.value.status == 400
