"""The SDK against a real hub: its own token endpoint, its federation API and GraphQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from crossforce_sdk import BlockingCrossforceClient, CrossforceClient

from gateway.cli.sync import devidp_secrets_file
from gateway.config import Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import EmbeddedFalkorDB, free_port

DATA = Path(__file__).parent / "data"
CASE = '{ case(force: "AS", caseRef: "AS-2026-0042") { force caseRef riskLevel } }'


@pytest.fixture(scope="module")
def hub(
    falkordb_server: EmbeddedFalkorDB, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, dict[str, str]]]:
    """A hub on a graph of its own in the session's FalkorDB, and its clients' secrets."""
    port = free_port()
    settings = Settings(
        graph_uri=f"falkordb://127.0.0.1:{falkordb_server.port}/sdk-{port}",
        data_dir=tmp_path_factory.mktemp("sdk-hub"),
        public_url=f"http://127.0.0.1:{port}",
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start(timeout=120)
    yield server.url, json.loads(devidp_secrets_file(settings.data_dir).read_text())
    server.stop()


def records() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "two-forces.jsonl").read_text().splitlines()]


async def test_the_async_client_syncs_and_reads_the_feed(hub: tuple[str, dict[str, str]]) -> None:
    url, secrets = hub
    async with CrossforceClient(url, "force-AS", secrets["force-AS"]) as client:
        first = await client.sync(records())
        again = await client.sync(records())
        page = await client.changes()

    assert (first.applied, first.stale, first.rejected) == (1, 0, 1)
    [rejection] = first.rejections
    assert (rejection.index, rejection.case_ref) == (1, "GL/26/1187")
    assert [error.path for error in rejection.errors] == ["/force"]
    assert (again.applied, again.stale) == (0, 1)
    assert isinstance(page.changes, list)


def test_the_blocking_client_reads_graphql_as_an_analyst(hub: tuple[str, dict[str, str]]) -> None:
    url, secrets = hub
    with BlockingCrossforceClient(url, "force-AS", secrets["force-AS"]) as client:
        client.sync(records()[:1])
    with BlockingCrossforceClient(url, "analyst-AS", secrets["analyst-AS"]) as analyst:
        data = analyst.graphql(CASE)

    assert data["case"] == {"force": "AS", "caseRef": "AS-2026-0042", "riskLevel": "HIGH"}
