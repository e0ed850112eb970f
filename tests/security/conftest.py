"""Security suites run against the same real hub, per engine, as the end-to-end tests; and against
a hub whose agreements keep some forces' cases from some readers (`restricted_hub`)."""

from __future__ import annotations

import copy
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph import GraphStore
from graph.embedded import free_port
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from policies.devidp import mint_token
from tests.conftest import ENGINES
from tests.federation.conftest import CLEAR, Hub, _graph_uri, _hub_data_dir, hub, hub_server

__all__ = ["hub", "hub_server", "restricted_hub", "restricted_hub_server"]

# A client that reads cases and oversight at once, acting for AS: pair agreements apply to it.
LEAD = "lead-AS"
HIDDEN_CASE: dict[str, Any] = {"case": {"*": "hidden"}}
REFERENCE_AS_EXISTENCE: dict[str, Any] = {"case": {"caseRef": "existence"}}


def restricted_agreements() -> dict[str, Any]:
    """The default agreements, but AS may know only that WI holds cases (not which), and nothing
    of DO's, whether reading cases, oversight or its change feed."""
    text = (DEFAULT_POLICY_DIR / "sharing.yaml").read_text(encoding="utf-8")
    agreements = copy.deepcopy(yaml.safe_load(text))
    pairs = [
        {"viewer": "AS", "owner": "WI", "fields": REFERENCE_AS_EXISTENCE},
        {"viewer": "AS", "owner": "DO", "fields": HIDDEN_CASE},
    ]
    for scope in ("cases:read", "oversight:read", "sync:write"):
        agreements["agreements"][scope]["pairs"] = copy.deepcopy(pairs)
    return {key: value for key, value in agreements.items() if not key.startswith("x-")}


def restricted_policy_dir(root: Path) -> Path:
    policy_dir = root / "restricted-policies"
    if not policy_dir.exists():
        shutil.copytree(DEFAULT_POLICY_DIR, policy_dir)
        clients = yaml.safe_load((policy_dir / "clients.yaml").read_text(encoding="utf-8"))
        clients["clients"][LEAD] = {"scopes": ["cases:read", "oversight:read"], "force": "AS"}
        (policy_dir / "clients.yaml").write_text(yaml.safe_dump(clients), encoding="utf-8")
        sharing = yaml.safe_dump(restricted_agreements(), sort_keys=False)
        (policy_dir / "sharing.yaml").write_text(sharing, encoding="utf-8")
    return policy_dir


@pytest.fixture(scope="module", params=ENGINES)
def restricted_hub_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    port = free_port()
    settings = Settings(
        graph_uri=_graph_uri(request),
        data_dir=_hub_data_dir(tmp_path_factory, request.param),  # the session's data keys
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=restricted_policy_dir(tmp_path_factory.getbasetemp()),
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


@pytest.fixture
async def restricted_hub(restricted_hub_server: Settings) -> AsyncIterator[Hub]:
    settings = restricted_hub_server
    uri = settings.graph_uri or ""
    store: GraphStore
    if uri.startswith("falkordb://"):
        port = int(uri.rsplit(":", 1)[1].split("/")[0])
        store = FalkorDBStore("127.0.0.1", port, graph_name="e2e")
    else:
        store = Neo4jStore(uri)
    await store.write(CLEAR)
    async with httpx.AsyncClient(base_url=settings.public_url or "", timeout=30) as http:
        yield Hub(settings.public_url or "", settings, store, http)
        await http.get(
            "/federation/v1/changes",
            headers={"Authorization": f"Bearer {restricted_token(settings, 'force-AS')}"},
        )  # the after-sync step has run before the next test clears the graph
    await store.close()


def restricted_token(settings: Settings, client_id: str) -> str:
    return mint_token(
        settings.data_dir,
        settings.public_url or "",
        settings.audience,
        client_id,
        policy_dir=settings.policy_dir,
    )
