"""The connector's feeds, its Graphene schema and its ASGI wrapper, in its own environment (the
HTTP endpoint with the hub's real tokens is tested from the hub's suite:
tests/clients/test_force_connector.py)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from typing import Any

import httpx
from crossforce_connector import IterableFeed, QueryFeed, asgi_app, build_schema, connector
from crossforce_connector.feed import FeedPage


def cases(count: int, *, start: int = 0) -> list[dict[str, Any]]:
    """`count` case summaries of WI, as a force system holds them (the feed reads only the
    force, the reference and the version)."""
    return [
        {"force": "WI", "caseRef": f"WI-PULL-{i:05d}", "version": 1, "risk": {"level": "HIGH"}}
        for i in range(start, start + count)
    ]


def versions(page: FeedPage) -> list[tuple[str, int]]:
    return [(e.summary["caseRef"], e.summary["version"]) for e in page.entries]


def test_iterable_feed_pages_newest_versions_in_change_order_with_tombstones() -> None:
    one, two, three = cases(3)
    tombstone = {"force": "WI", "caseRef": one["caseRef"], "version": 2, "deleted": True}
    rows = [(1, one), (2, two), (3, three), (4, tombstone), (5, two | {"version": 3})]
    positions = {id(s): p for p, s in rows}
    feed = IterableFeed([s for _, s in rows], position=lambda s: positions[id(s)])

    first = feed.page(None, 2)
    assert versions(first) == [("WI-PULL-00002", 1), ("WI-PULL-00000", 2)]
    assert first.has_next_page and first.end_cursor == first.entries[-1].cursor
    assert first.entries[1].summary["deleted"] is True
    second = feed.page(first.end_cursor, 2)
    assert versions(second) == [("WI-PULL-00001", 3)] and not second.has_next_page
    idle = feed.page(second.end_cursor, 2)
    assert idle.entries == [] and idle.end_cursor == second.end_cursor  # keeps its place
    # The same feed from (position, summary) pairs, as a force's rows would give them.
    pairs = IterableFeed(lambda: iter(rows))
    assert [pairs.page(None, 2), pairs.page(first.end_cursor, 2)] == [first, second]


def test_query_feed_reads_the_forces_own_database() -> None:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE outbox (seq INTEGER PRIMARY KEY, summary TEXT)")
    held = cases(5)
    db.executemany("INSERT INTO outbox (summary) VALUES (?)", [(json.dumps(c),) for c in held])
    db.execute("INSERT INTO outbox (summary) VALUES (?)", (json.dumps(held[4] | {"version": 2}),))

    def query(after: int | str | None, limit: int) -> list[tuple[int, dict[str, Any]]]:
        rows = db.execute(
            "SELECT seq, summary FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
            (after or 0, limit),
        )
        return [(seq, json.loads(text)) for seq, text in rows]

    feed = QueryFeed(query)
    first = feed.page(None, 4)
    assert [e.summary["caseRef"] for e in first.entries] == [c["caseRef"] for c in held[:4]]
    second = feed.page(first.end_cursor, 4)
    # The table holds two versions of the fifth case; the page carries the newest only.
    assert versions(second) == [("WI-PULL-00004", 2)] and not second.has_next_page


def test_schema_exposes_case_summaries() -> None:
    schema = build_schema(IterableFeed([], position=lambda s: 0)).graphql_schema
    field = schema.query_type.fields["caseSummaries"]
    assert str(field.type) == "CaseSummaryConnection!"
    assert {name: str(arg.type) for name, arg in field.args.items()} == {
        "since": "String",
        "first": "Int",
    }
    assert field.args["first"].default_value == 100
    assert str(schema.get_type("CaseSummaryEdge").fields["node"].type) == "CaseSummary!"


def test_the_asgi_wrapper_answers_as_the_endpoint_does() -> None:
    """Without a token nothing is read; a GET is refused; the protocol's statuses come through."""
    feed = IterableFeed(cases(2), position=lambda s: str(s["caseRef"]))
    # An issuer nobody serves: the wrapper must refuse before any key is fetched.
    app = asgi_app(connector(feed, issuer="http://127.0.0.1:9"))

    async def ask() -> tuple[httpx.Response, httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://force") as http:
            query = {"query": "{ caseSummaries { edges { cursor } } }"}
            missing = await http.post("/crossforce/graphql", json=query)
            get = await http.get("/crossforce/graphql")
            large = await http.post("/crossforce/graphql", content=b"x" * (65 * 1024))
            return missing, get, large

    missing, get, large = asyncio.run(ask())
    assert missing.status_code == 401 and "www-authenticate" in missing.headers
    assert missing.json()["errors"][0]["message"]
    assert (get.status_code, get.headers["allow"]) == (405, "POST")
    assert large.status_code == 413
