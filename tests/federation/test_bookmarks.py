"""The `Crossforce-Bookmark` header on each engine: on Neo4j a sync's answer names its commit and
a read may send it back; on FalkorDB (one server, nothing to wait for) none is sent, and one
received is checked and otherwise ignored. A malformed one is a 400 problem on both."""

from __future__ import annotations

import json

import httpx
from crossforce_sdk import CrossforceClient

from gateway.cli.sync import devidp_secrets_file
from graph.bookmarks import make_token, parse_token
from tests.federation.conftest import Hub, examples

HEADER = "Crossforce-Bookmark"


async def test_a_sync_names_its_commit_where_the_engine_has_bookmarks(hub: Hub) -> None:
    answer = await hub.sync("force-AS", [examples()[0]])
    assert answer.status_code == 200
    engine = hub.store.engine
    if engine == "neo4j":
        bookmarks = parse_token(answer.headers[HEADER])
        assert bookmarks and all(isinstance(b, str) and b for b in bookmarks)
        sent = answer.headers[HEADER]
    else:
        assert HEADER not in answer.headers
        sent = make_token(["made-elsewhere"])  # well formed: checked, then ignored
    read = await changes(hub, sent)
    assert read.status_code == 200, read.text
    for bad in ("%%%", make_token([]), "W10", "A" * 4097):
        refused = await changes(hub, bad)
        assert refused.status_code == 400, bad
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:crossforce:problem:bad-bookmark"


async def changes(hub: Hub, bookmark: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {hub.token('force-AS')}", HEADER: bookmark}
    return await hub.http.get("/federation/v1/changes", headers=headers)


async def test_the_sdk_keeps_the_bookmark_and_drops_one_the_hub_refuses(hub: Hub) -> None:
    secrets = json.loads(devidp_secrets_file(hub.settings.data_dir).read_text())
    async with CrossforceClient(hub.url, "force-AS", secrets["force-AS"]) as client:
        report = await client.sync([examples()[0]])
        assert report.applied == 1
        if hub.store.engine == "neo4j":
            assert client.bookmark is not None and parse_token(client.bookmark)
        else:
            assert client.bookmark is None  # nothing to wait for on one server
        client.bookmark = "%%%"  # as if kept from a hub on another graph
        page = await client.changes()
        assert page.next is not None
        assert client.bookmark is None  # refused once, then read without it
