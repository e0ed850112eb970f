"""The hub's figures, scores and alerts follow the policy dir's `case_rules.yaml`: a region that
counts a status as closed, shortens a target, weighs a grade more or stops counting a sign sees
it in oversight, the priority queue and the change feed, with no code changed."""

from __future__ import annotations

import math
import shutil
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from graph.falkordb_adapter import FalkorDBStore
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, summary, sync_all

# The region's rules: the default file with four edits.
EDITS = {
    "closed_statuses: [CHARGED,": "closed_statuses: [ENFORCED, CHARGED,",
    "targets: {VERY_HIGH: 7, HIGH: 7, MEDIUM: 14, LOW: 30}": (
        "targets: {VERY_HIGH: 7, HIGH: 7, MEDIUM: 2, LOW: 30}"
    ),
    "risk: {VERY_HIGH: 40, HIGH: 30, MEDIUM: 15, LOW: 5}": (
        "risk: {VERY_HIGH: 40, HIGH: 30, MEDIUM: 50, LOW: 5}"
    ),
    "    access_to_children: 5\n": "    access_to_children: 0\n",
}
GRAPH = "case_rules"


def region_rules() -> str:
    text = (DEFAULT_POLICY_DIR / "case_rules.yaml").read_text()
    for before, after in EDITS.items():
        assert text.count(before) == 1, before
        text = text.replace(before, after)
    return text


@pytest.fixture(scope="module")
def region_hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    policies = tmp_path_factory.mktemp("policies")
    for name in ("clients.yaml", "sharing.yaml"):
        shutil.copy(DEFAULT_POLICY_DIR / name, policies / name)
    (policies / "case_rules.yaml").write_text(region_rules())
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/{GRAPH}",
        data_dir=tmp_path_factory.mktemp("hub"),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=policies,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


@pytest.fixture
async def hub(region_hub: Settings, falkordb_server: EmbeddedFalkorDB) -> AsyncIterator[Hub]:
    store = FalkorDBStore("127.0.0.1", falkordb_server.port, graph_name=GRAPH)
    async with httpx.AsyncClient(base_url=region_hub.public_url or "", timeout=30) as http:
        yield Hub(region_hub.public_url or "", region_hub, store, http)
    await store.close()


async def test_targets_weights_and_signs_follow_the_policy_file(hub: Hub) -> None:
    waiting = summary("AS", 1, level="MEDIUM", received_days_ago=5)
    enforced = summary("AS", 3, level="MEDIUM", status="ENFORCED", received_days_ago=5)
    signs = summary(
        "AS",
        2,
        level="LOW",
        enforced_after_days=1,
        suspects=[{"ref": "P1", "accessToChildren": True}],
        media=[{"md5": "a" * 32, "category": "A"}],
    )
    await sync_all(hub, [waiting, signs, enforced])

    # ENFORCED closes a case here; five days waiting is past a 2-day target (not 14 days).
    figures = await data(
        hub, "coordinator", "{ oversight { byForce { force riskLevel open pastTarget } } }"
    )
    medium = [r for r in figures["oversight"]["byForce"] if r["riskLevel"] == "MEDIUM"]
    assert medium == [{"force": "AS", "riskLevel": "MEDIUM", "open": 1, "pastTarget": 1}]

    # Graded MEDIUM weighs 50 (not 15); five days against a 2-day target is 10 points at the
    # target and 10 for each doubling past it.
    queue = await data(hub, "analyst-AS", "{ priorityQueue { caseRef score reasons } }")
    first = queue["priorityQueue"][0]
    assert first["caseRef"] == "AS-T-0001"
    assert first["score"] == pytest.approx(50 + 10 + 10 * math.log2(5 / 2), abs=0.02)
    assert "3.0 days past its 2-day target" in first["reasons"]

    # Access to children is no sign here: the after-sync step and the gateway name only media.
    feed = (await hub.changes("force-AS")).json()["changes"]
    alerts = [c["reasons"] for c in feed if c["kind"] == "REGRADE"]
    assert alerts == [["category A media (1)"]]
    listed = await data(hub, "coordinator", "{ oversight { regradeAlerts { caseRef reasons } } }")
    assert listed["oversight"]["regradeAlerts"] == [
        {"caseRef": "AS-T-0002", "reasons": ["category A media (1)"]}
    ]
