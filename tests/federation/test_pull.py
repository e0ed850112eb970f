"""Pull federation end to end, on both engines: a force's Graphene connector on loopback (a process
of its own), the hub (uvicorn, its development issuer) and a puller beside it sharing its graph
and data dir."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from federation.after_sync import after_sync_step
from federation.pull import PullCollector, Puller
from gateway.demo.connector import DemoConnector, demo_policy_dir
from graph.pull_cursors import PullCursors
from policies.case_rules import default_case_rules
from policies.devidp import DEFAULT_POLICY_DIR
from policies.scopes import load_clients
from tests.conftest import ENGINES
from tests.federation.conftest import Hub, examples
from tests.federation.pull_fixtures import (
    Source,
    caught_up,
    cursor_position,
    ingest_beside,
    pull_source,
    pulled_cases,
    serving,
    started_hub,
    wait_for,
)

# Every sync request is audited: a replay adds an audit entry and nothing else.
NODES_BESIDE_THE_AUDIT_LOG = (
    "MATCH (n) WHERE NOT n:AuditEntry AND NOT n:AuditHead RETURN count(n) AS n"
)

hub_server = pytest.fixture(scope="module", params=ENGINES, name="hub_server")(started_hub)

KEPT_IN_TOMBSTONE = ("schema", "force", "caseRef", "referral", "risk", "status", "openedAt")


async def held_versions(hub: Hub, force: str) -> dict[str, int]:
    rows = await hub.store.read(
        "MATCH (c:Case {force: $force}) RETURN c.caseRef AS ref, c.version AS version",
        {"force": force},
    )
    return {r["ref"]: r["version"] for r in rows}


def live_versions(source: Source) -> dict[str, int]:
    return {ref: s["version"] for ref, s in source.newest().items() if not s.get("deleted")}


async def test_a_force_served_by_the_connector_is_pulled_into_the_hub(hub: Hub) -> None:
    as_case, _ = examples()
    assert (await hub.sync("force-AS", [as_case])).status_code == 200  # AS pushes
    source = Source()
    source.put(*pulled_cases("WI", 25))
    ingest, protection = ingest_beside(hub.settings, hub.store)
    after_sync: list[str] = []

    async def record_after_sync(keys: list[str], now_ms: int) -> None:
        after_sync.extend(keys)
        # as the hub's queue would, at once
        await after_sync_step(hub.store, keys, now_ms, rules=default_case_rules())

    with serving(source, hub.url) as connector:
        sources = [pull_source("WI", connector.url, hub.settings)]
        puller = Puller(ingest, sources, after_sync=record_after_sync)
        async with puller:
            await wait_for(caught_up(puller, "WI"))
            assert await held_versions(hub, "WI") == live_versions(source)

            # The force changes a case and withdraws another: both reach the hub.
            changed = source.newest()["WI-PULL-00003"] | {"version": 2, "status": "ENFORCED"}
            gone = source.newest()["WI-PULL-00005"]
            withdrawn = {k: gone[k] for k in KEPT_IN_TOMBSTONE} | {"version": 2, "deleted": True}
            source.put(changed, withdrawn)

            async def applied() -> bool:
                counted = puller.state()["WI"].records["applied"] == 27
                return counted and await held_versions(hub, "WI") == live_versions(source)

            await wait_for(applied)
        seen = connector.seen()
    await protection.aclose()

    state = puller.state()["WI"]
    assert state.records["applied"] == 27
    assert state.records["rejected"] == 0
    assert state.consecutive_errors == 0 and state.last_success is not None
    view = state.as_dict(datetime.now(UTC))  # what the oversight API shows
    assert view["records"] == {"applied": 27, "stale": 0, "rejected": 0}
    assert view["lastError"] is None and view["lagSeconds"] >= 0 and view["pages"] >= 3
    assert "WI-PULL-00005" not in await held_versions(hub, "WI")
    # The after-sync step (links, regrade alerts) saw every applied case, the tombstone too.
    assert sorted(after_sync) == sorted(
        [f"WI:{c['caseRef']}" for c in pulled_cases("WI", 25)]
        + ["WI:WI-PULL-00003", "WI:WI-PULL-00005"]
    )
    # Pages were read after the first with the cursor of the page before.
    assert seen[0] is None and all(since is not None for since in seen[1:])
    cursor = await PullCursors(hub.store).cursor("WI")  # the end of the feed: 25 + 2 changes
    assert cursor is not None and cursor_position(cursor) == 27
    # Pulled records take the push path: linked across forces, in the pushing force's feed.
    feed = (await hub.changes("force-AS")).json()["changes"]
    assert {c["otherForce"] for c in feed} == {"WI"}


async def test_malformed_records_are_rejected_with_reasons_while_valid_ones_apply(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="crossforce")
    valid = pulled_cases("WI", 3)
    bad_risk = pulled_cases("WI", 1, start=10)[0]
    bad_risk["risk"]["level"] = "EXTREME"
    stray = pulled_cases("WI", 1, start=11)[0] | {"nickname": "PLAINTEXT-MARKER"}
    stray["suspects"][0]["familyName"] = "PLAINTEXT-MARKER"
    other_force = pulled_cases("GL", 1)[0]
    source = Source()
    source.put(valid[0], bad_risk, valid[1], stray, other_force, "not a case", valid[2])  # type: ignore[arg-type]
    ingest, protection = ingest_beside(hub.settings, hub.store)
    with serving(source, hub.url) as connector:
        puller = Puller(ingest, [pull_source("WI", connector.url, hub.settings)])
        async with puller:
            await wait_for(caught_up(puller, "WI"))
    await protection.aclose()

    assert sorted(await held_versions(hub, "WI")) == [c["caseRef"] for c in valid]
    assert await held_versions(hub, "GL") == {}
    state = puller.state()["WI"]
    assert (state.records["applied"], state.records["rejected"]) == (3, 4)
    assert state.consecutive_errors == 0
    assert state.rejections[("/risk/level", "must be one of VERY_HIGH, HIGH, MEDIUM, LOW")] == 1
    assert state.rejections[("/<unknown>", "unknown field")] == 1
    assert state.rejections[("/force", "must be the force of the sending client")] == 1
    assert state.rejections[("", "must be a JSON object")] == 1

    registry = CollectorRegistry()
    registry.register(PullCollector(puller))
    metrics = generate_latest(registry).decode()
    assert 'crossforce_pull_records_total{force="WI",result="rejected"} 4.0' in metrics
    assert (
        'crossforce_pull_rejections_total{force="WI",path="/risk/level",'
        'reason="must be one of VERY_HIGH, HIGH, MEDIUM, LOW"} 1.0'
    ) in metrics

    rejected_logs = [r.getMessage() for r in caplog.records if "rejected" in r.getMessage()]
    assert any("WI-PULL-00010" in m and "/risk/level" in m for m in rejected_logs)
    assert any("/force: must be the force of the sending client" in m for m in rejected_logs)
    assert "PLAINTEXT-MARKER" not in caplog.text + metrics
    assert "nickname" not in caplog.text + metrics  # a made-up field name is not repeated
    audit = await hub.store.read("MATCH (e:AuditEntry) RETURN e.action AS action")
    assert {"action": "sync.write_other_force"} in audit


def _ceiling(attempt: int, initial: float, most: float) -> float:
    return min(most, initial * 2 ** (attempt - 1))


async def test_slow_and_failing_connectors_back_off_without_delaying_others(hub: Hub) -> None:
    sleeps: dict[str, list[float]] = defaultdict(list)

    async def recording_sleep(delay: float) -> None:
        task = asyncio.current_task()
        sleeps[task.get_name() if task else ""].append(delay)
        await asyncio.sleep(delay)

    good, slow, down = Source(), Source(), Source()
    good.put(*pulled_cases("WI", 30))
    slow.put(*pulled_cases("DC", 5))
    down.put(*pulled_cases("DO", 5))
    ingest, protection = ingest_beside(hub.settings, hub.store)
    backoff: dict[str, Any] = {"initial": 0.1, "max": 0.8}
    # The slow force's timeout leaves time to read the good one whole first, even on Neo4j on a
    # loaded machine (its pages took more than 3 s there).
    with (
        serving(good, hub.url) as one,
        serving(slow, hub.url, delay=12.0) as two,
        serving(down, hub.url, fail=True) as three,
    ):
        sources = [
            pull_source("WI", one.url, hub.settings),
            pull_source("DC", two.url, hub.settings, timeout=6, backoff=backoff),
            pull_source("DO", three.url, hub.settings, backoff=backoff),
        ]
        puller = Puller(ingest, sources, sleep=recording_sleep)
        async with puller:
            await wait_for(caught_up(puller, "WI"))
            at_catch_up = puller.state()
            await wait_for(_failed(puller, "DC"))
            await wait_for(_failed(puller, "DO", times=5))
    await protection.aclose()

    # The good force was read whole while the slow one still waited for its first answer.
    assert at_catch_up["DC"].last_attempt is not None and at_catch_up["DC"].errors == 0
    assert await held_versions(hub, "WI") == live_versions(good)
    assert await held_versions(hub, "DC") == {} and await held_versions(hub, "DO") == {}
    state = puller.state()
    assert state["DC"].last_error == "connector did not answer within 6 s"
    assert state["DO"].last_error == "connector answered HTTP 503"
    assert state["WI"].consecutive_errors == 0
    # Exponential backoff with jitter: each delay in [ceiling / 2, ceiling], ceilings doubling.
    delays = sleeps["pull-DO"][:5]
    assert len(delays) == 5
    for attempt, delay in enumerate(delays, start=1):
        ceiling = _ceiling(attempt, 0.1, 0.8)
        assert ceiling / 2 <= delay <= ceiling, (attempt, delay)
    assert sleeps["pull-DC"][0] <= 0.1


def _failed(puller: Puller, force: str, times: int = 1) -> Any:
    async def check() -> bool:
        return puller.state()[force].errors >= times

    return check


async def test_a_page_is_read_again_until_it_commits(hub: Hub) -> None:
    """The cursor moves only with a committed page: replaying from an old cursor doubles
    nothing, because every record of the replayed page is stale."""
    source = Source()
    source.put(*pulled_cases("WI", 12))
    ingest, protection = ingest_beside(hub.settings, hub.store)
    with serving(source, hub.url) as connector:
        first = Puller(ingest, [pull_source("WI", connector.url, hub.settings)])
        async with first:
            await wait_for(caught_up(first, "WI"))
        before = await hub.store.read(NODES_BESIDE_THE_AUDIT_LOG)
        # As if the hub had died before storing any cursor: read the whole feed again.
        await hub.store.write("MATCH (p:PullCursor) DELETE p")
        again = Puller(ingest, [pull_source("WI", connector.url, hub.settings)])
        async with again:
            await wait_for(caught_up(again, "WI"))
    await protection.aclose()
    state = again.state()["WI"]
    assert (state.records["applied"], state.records["stale"]) == (0, 12)
    assert await hub.store.read(NODES_BESIDE_THE_AUDIT_LOG) == before
    assert await held_versions(hub, "WI") == live_versions(source)


async def test_the_demo_force_is_pulled_to_the_end_of_its_feed(hub: Hub) -> None:
    cases = pulled_cases("WI", 7)
    demo = DemoConnector("WI", cases, issuer=hub.url, folder=hub.settings.data_dir / "demo")
    demo.start()
    # What the demo does: a policy dir with a pull.yaml naming the connector.
    policy_dir = demo_policy_dir(hub.settings.data_dir, DEFAULT_POLICY_DIR, [demo], hub.url)
    assert len(load_clients(policy_dir / "clients.yaml")) == 13
    ingest, protection = ingest_beside(hub.settings, hub.store)
    try:
        puller = Puller.from_policy_dir(policy_dir, ingest)
        (pull,) = puller.forces.values()
        pull.source = pull.source.model_copy(update={"interval": 0.2, "page_size": 3})
        async with puller:
            assert await asyncio.to_thread(demo.wait_caught_up, 60)
    finally:
        demo.stop()
        await protection.aclose()
    assert await held_versions(hub, "WI") == {c["caseRef"]: 1 for c in cases}
    assert demo.pages_served >= 3
