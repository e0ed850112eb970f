"""One replica pulls a force at a time; when it dies, another takes the force over within the
lease's bound (4/3 of its length: the expiry, then the next attempt to take it)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
import pytest

from tests.federation.pull_fixtures import (
    Source,
    connector_for,
    pulled_cases,
    write_policy_dir,
)
from tests.replicas.conftest import (
    LEASE_SECONDS,
    SOAK,
    Region,
    Replica,
    cases,
    ndjson,
    wait_until,
)

pytestmark = pytest.mark.neo4j

BATCH = 10  # records the force adds at each step: two pages
PAGE = 5
ROUNDS = 3 if SOAK else 1  # holders killed in turn, each by the next round
APPLIED = "crossforce_pull_records_total:applied"
HELD = "crossforce_pull_lease_held"


def pull_policy(region: Region, connector_url: str) -> Path:
    entry = {
        "force": "WI", "url": connector_url, "issuer": region.issuer, "client_id": "hub",
        "client_secret": {
            "file": str(region.data_dir / "devidp" / "client-secrets.json"), "key": "hub"
        },
        "interval": 0.2, "page_size": PAGE, "timeout": 5, "backoff": {"initial": 0.1, "max": 0.5},
    }  # fmt: skip
    return write_policy_dir(region.tmp / "policies", [entry])


def count_is(region: Region, expected: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        rows = await region.store.read("MATCH (c:Case {force: 'WI'}) RETURN count(c) AS n")
        return int(rows[0]["n"]) == expected

    return check


def any_of(replicas: list[Replica], test: Callable[[dict[str, float]], bool]) -> Callable[[], bool]:
    return lambda: any(test(replica.metrics("WI")) for replica in replicas)


def applied_is(replicas: list[Replica], expected: float) -> bool:
    return sum(replica.metrics("WI").get(APPLIED, 0) for replica in replicas) == expected


async def test_one_replica_pulls_and_another_takes_over_when_it_dies(region: Region) -> None:
    source = Source()
    source.put(*pulled_cases("WI", BATCH))
    connector = connector_for(source, region.issuer).start()
    try:
        policy_dir = pull_policy(region, connector.url)
        live = region.start(1 + ROUNDS, CROSSFORCE_POLICY_DIR=str(policy_dir))
        # Each replica serves a push first: what a first ingest loads once is loaded.
        headers = {"Authorization": f"Bearer {region.token('force-AS')}"}
        async with httpx.AsyncClient(headers=headers, timeout=30) as http:
            for i, replica in enumerate(live):
                body = ndjson(cases("AS", 1, start=i))
                answer = await http.post(f"{replica.url}/federation/v1/cases", content=body)
                assert answer.status_code == 200, answer.text
        expected = BATCH
        gone = 0.0  # records applied by replicas killed since
        await wait_until(count_is(region, expected), timeout=60)
        for round_ in range(ROUNDS):
            # More pages while all live, so that a second puller would have had its chances.
            source.put(*pulled_cases("WI", BATCH, start=expected))
            expected += BATCH
            await wait_until(count_is(region, expected), timeout=60)
            # (A page counts as pulled once its cursor is stored, just after its records.)
            await wait_until(partial(applied_is, live, expected - gone), timeout=10, every=0.25)
            seen = {replica.url: replica.metrics("WI") for replica in live}
            applied = {url: series.get(APPLIED, 0) for url, series in seen.items()}
            # Every record was pulled and applied by one live replica, the lease's holder.
            assert sorted(applied.values()) == [0] * (len(live) - 1) + [expected - gone], seen
            (holder,) = [r for r in live if applied[r.url] == expected - gone]
            others = [r for r in live if r is not holder]
            assert [seen[r.url][HELD] for r in live] == [float(r is holder) for r in live], seen

            holder.kill()
            gone += applied[holder.url]  # nothing was added to the feed since it was read
            source.put(*pulled_cases("WI", BATCH, start=expected))
            expected += BATCH
            took_lease = await wait_until(
                any_of(others, lambda m: m[HELD] == 1.0), timeout=30, every=0.2
            )
            assert took_lease <= LEASE_SECONDS * 4 / 3 + 1.0, took_lease
            # Then its first poll: a token, a page, its ingest.
            first_page = took_lease + await wait_until(
                any_of(others, lambda m: m.get(APPLIED, 0) > 0), timeout=30, every=0.2
            )
            assert first_page <= LEASE_SECONDS * 4 / 3 + 5.0, first_page
            await wait_until(count_is(region, expected), timeout=30)
            print(f"round {round_}: lease taken {took_lease:.2f} s after the kill, "
                  f"first page applied {first_page:.2f} s after")  # fmt: skip
            live = others
            holders = [replica.metrics("WI")[HELD] for replica in live]
            assert sorted(holders) == [0.0] * (len(live) - 1) + [1.0]
    finally:
        connector.stop()
