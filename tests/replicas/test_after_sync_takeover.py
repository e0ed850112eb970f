"""A replica killed mid-step: any live replica takes its pending after-sync work up, once it is
older than the stated age; nothing is lost (every link is on both forces' feeds) and nothing is
told twice (each event once)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from graph.queries.after_sync import PENDING_COUNT
from tests.replicas.conftest import SOAK, STALE_SECONDS, Region, cases, ndjson, wait_until

pytestmark = pytest.mark.neo4j

LINKED = 40 if SOAK else 8  # cases of each force, case i of one linked to case i of the other


async def feed(http: httpx.AsyncClient, url: str, token: str) -> list[dict[str, Any]]:
    """Every change on a force's feed, from the start."""
    changes: list[dict[str, Any]] = []
    since = "0"
    while True:
        answer = await http.get(
            f"{url}/federation/v1/changes",
            params={"since": since},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.text
        page = answer.json()
        changes += page["changes"]
        if not page["changes"] or page["next"] == since:
            return changes
        since = page["next"]


async def test_pending_work_of_a_killed_replica_is_done_once_by_another(region: Region) -> None:
    # One replica's step waits a minute after claiming its cases: it is killed in that minute.
    doomed = region.launch(CROSSFORCE_TEST_STEP_DELAY="60")
    (survivor,) = region.start(1)
    doomed.wait_ready()
    gl, as_ = region.token("force-GL"), region.token("force-AS")
    async with httpx.AsyncClient(timeout=30) as http:
        answer = await http.post(
            f"{survivor.url}/federation/v1/cases",
            content=ndjson(cases("GL", LINKED)),
            headers={"Authorization": f"Bearer {gl}"},
        )
        assert answer.status_code == 200, answer.text
        assert await feed(http, survivor.url, gl) == []  # settled: GL's own cases link nowhere
        answer = await http.post(
            f"{doomed.url}/federation/v1/cases",
            content=ndjson(cases("AS", LINKED)),
            headers={"Authorization": f"Bearer {as_}"},
        )
        assert answer.status_code == 200, answer.text
        assert {r["status"] for r in answer.json()["results"]} == {"applied"}

        async def claimed() -> bool:
            rows = await region.store.read(
                "MATCH (c:Case {force: 'AS'}) WHERE c.afterSyncPending = true "
                "AND c.afterSyncClaim IS NOT NULL RETURN count(c) AS n"
            )
            return int(rows[0]["n"]) == LINKED

        await wait_until(claimed, timeout=10)  # the doomed replica is in its step
        doomed.kill()

        async def settled() -> bool:
            return int((await region.store.read(PENDING_COUNT))[0]["n"]) == 0

        taken_up = await wait_until(settled, timeout=30, every=0.1)
        # The claim runs out within the stated age of the sync, the next sweep comes within
        # half of it, then the step itself.
        assert taken_up <= STALE_SECONDS * 1.5 + 3.0, taken_up

        told_as = await feed(http, survivor.url, as_)
        told_gl = await feed(http, survivor.url, gl)
    for changes, mine, theirs in ((told_as, "AS", "GL"), (told_gl, "GL", "AS")):
        links = [c for c in changes if c["kind"] == "LINK"]
        said = Counter((c["caseRef"], c["otherCaseRef"], c["via"]) for c in links)
        assert max(said.values()) == 1, said  # nothing told twice
        pairs = {(ref, other) for ref, other, _ in said}
        expected = {(f"{mine}-R-{i:04d}", f"{theirs}-R-{i:04d}") for i in range(LINKED)}
        assert pairs == expected  # nothing lost
        # Two entities link each pair (a phone and a device): one event for each.
        assert Counter(ref for ref, _, _ in said) == {ref: 2 for ref, _ in expected}
