"""The sync route's rate limit counts records as well as requests: a client that sent its budget
of records in one request waits, however few requests it made."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port
from policies.devidp import mint_token
from tests.federation.test_linking_oracle import one_phone_case

LIMITS = """
version: 1
default: {rate: 20, burst: 40}
routes:
  /federation/v1/cases: {rate: 100, burst: 100, records: {rate: 0.01, burst: 5}}
"""


@pytest.fixture(scope="module")
def budget_hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    policies = tmp_path_factory.mktemp("policies")
    for name in ("clients.yaml", "sharing.yaml"):
        shutil.copy(DEFAULT_POLICY_DIR / name, policies / name)
    (policies / "limits.yaml").write_text(LIMITS)
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/record-budget",
        data_dir=tmp_path_factory.mktemp("hub"),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=Path(policies),
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


def test_a_force_over_its_budget_of_records_is_told_when_to_retry(budget_hub: Settings) -> None:
    def headers(client: str) -> dict[str, str]:
        url = budget_hub.public_url or ""
        token = mint_token(budget_hub.data_dir, url, budget_hub.audience, client)
        return {"Authorization": f"Bearer {token}"}

    def cases(force: str, count: int) -> list[object]:
        return [
            one_phone_case(force, f"{force}-B-{n}", f"07700 900{n:03d}", "DC B")
            for n in range(count)
        ]

    with httpx.Client(base_url=budget_hub.public_url or "", timeout=30) as http:
        first = http.post("/federation/v1/cases", json=cases("AS", 8), headers=headers("force-AS"))
        second = http.post("/federation/v1/cases", json=cases("AS", 1), headers=headers("force-AS"))
        other = http.post("/federation/v1/cases", json=cases("GL", 1), headers=headers("force-GL"))
    assert first.status_code == 200, first.text
    assert second.status_code == 429
    assert int(second.headers["retry-after"]) >= 300  # 3 records in debt at 0.01 a second
    assert other.status_code == 200
