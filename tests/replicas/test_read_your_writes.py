"""Read-your-writes across replicas: a sync answered by one replica names its commit in
`Crossforce-Bookmark`; a read sent with it to another replica sees that sync (the change feed
also its after-sync events). The SDK does it by itself."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from crossforce_sdk import CrossforceClient

from graph.bookmarks import make_token, parse_token
from tests.replicas.conftest import Region, Replica, cases, ndjson, secret_of

pytestmark = pytest.mark.neo4j

HEADER = "Crossforce-Bookmark"
CASE_QUERY = '{ case(force: "AS", caseRef: "AS-R-0003") { caseRef } }'


class Balancer(httpx.AsyncBaseTransport):
    """What a load balancer does to one client: its syncs reach one replica, its reads another.
    Keeps what each replica was sent."""

    def __init__(self, writes: Replica, reads: Replica) -> None:
        self.writes, self.reads = writes, reads
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.startswith(("/federation/", "/graphql")):
            target = (
                self.writes
                if request.method == "POST" and "cases" in request.url.path
                else self.reads
            )
            request.url = request.url.copy_with(port=target.port)
            self.sent.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_reads_on_another_replica_see_the_sync_they_name(region: Region) -> None:
    one, two = region.start(2)
    async with httpx.AsyncClient(timeout=30) as http:
        gl = await http.post(
            f"{two.url}/federation/v1/cases",
            content=ndjson(cases("GL", 3)),
            headers={"Authorization": f"Bearer {region.token('force-GL')}"},
        )
        assert gl.status_code == 200
    balancer = Balancer(writes=one, reads=two)
    async with httpx.AsyncClient(transport=balancer, timeout=30) as http, CrossforceClient(
        one.url, "force-AS", secret_of(region.data_dir, "force-AS"),
        token_url=f"{region.issuer}/oauth/token", http_client=http,
    ) as client:  # fmt: skip
        report = await client.sync(cases("AS", 3))
        assert report.applied == 3
        assert client.bookmark is not None
        assert parse_token(client.bookmark)  # one or more of the graph's own bookmarks
        page = await client.changes()
    sync, read = balancer.sent
    assert sync.url.port == one.port and read.url.port == two.port
    assert read.headers[HEADER] == client.bookmark
    # The other replica read after the sync and after its after-sync step: every link is there.
    links = {(c["caseRef"], c["otherCaseRef"]) for c in page.changes if c["kind"] == "LINK"}
    assert links == {(f"AS-R-{i:04d}", f"GL-R-{i:04d}") for i in range(3)}
    await graphql_after_the_bookmark_and_bad_ones_refused(one, two, region)


async def graphql_after_the_bookmark_and_bad_ones_refused(
    one: Replica, two: Replica, region: Region
) -> None:
    force = {"Authorization": f"Bearer {region.token('force-AS')}"}
    analyst = {"Authorization": f"Bearer {region.token('analyst-AS')}"}
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{one.url}/federation/v1/cases", content=ndjson(cases("AS", 1, start=3)), headers=force
        )
        assert answer.status_code == 200
        bookmark = answer.headers[HEADER]
        read = await graphql(http, two, analyst | {HEADER: bookmark})
        assert read.status_code == 200 and read.json()["data"]["case"]["caseRef"] == "AS-R-0003"

        for bad in ("", "not base64 at all!", make_token([]) + "x", "A" * 5000):
            refused = await http.get(
                f"{two.url}/federation/v1/changes", headers=force | {HEADER: bad}
            )
            assert refused.status_code == 400, bad
            assert refused.json()["type"] == "urn:crossforce:problem:bad-bookmark"
            refused = await graphql(http, two, analyst | {HEADER: bad})
            assert refused.status_code == 400
            assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_BOOKMARK"
        # Well formed, but no bookmark this graph made: Neo4j refuses it, and so does the hub.
        forged = await http.get(
            f"{two.url}/federation/v1/changes",
            headers=force | {HEADER: make_token(["FB:not-a-bookmark"])},
        )
        assert forged.status_code == 400
        assert forged.json()["type"] == "urn:crossforce:problem:bad-bookmark"


async def graphql(http: httpx.AsyncClient, replica: Replica, headers: dict[str, str]) -> Any:
    return await http.post(
        f"{replica.url}/graphql",
        json={"query": CASE_QUERY},
        headers=headers | {"Accept": "application/json"},
    )
