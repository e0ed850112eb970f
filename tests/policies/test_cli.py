"""`crossforce token`, `keys rotate` and `audit verify` as an operator runs them."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from typer.testing import CliRunner

from gateway.cli import app
from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from policies.case_rules import default_case_rules
from policies.devidp import DEFAULT_POLICY_DIR, provider
from policies.scopes import load_clients
from policies.tokens import TokenValidator

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CROSSFORCE_OIDC_ISSUER", "CROSSFORCE_PUBLIC_URL", "CROSSFORCE_GRAPH_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CROSSFORCE_AUDIENCE", "crossforce")
    return tmp_path / "data"


async def test_token_prints_only_a_token_the_hub_accepts(env: Path) -> None:
    result = runner.invoke(app, ["token", "--client", "analyst-DC", "--scope", "cases:read"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert result.stdout == token + "\n" and token.count(".") == 2

    idp = provider(env)
    transport = httpx.ASGITransport(app=Starlette(routes=idp.routes()))
    async with httpx.AsyncClient(transport=transport) as http:
        validator = TokenValidator(
            "http://127.0.0.1:8000",
            http=http,
            clients=load_clients(DEFAULT_POLICY_DIR / "clients.yaml"),
        )
        principal = await validator.validate(token)
    assert (principal.client_id, principal.force, principal.scopes) == (
        "analyst-DC",
        "DC",
        {"cases:read"},
    )


def test_token_refuses_scopes_beyond_the_client(env: Path) -> None:
    result = runner.invoke(app, ["token", "--client", "coordinator", "--scope", "admin"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_token_refuses_when_an_external_issuer_is_configured(
    env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CROSSFORCE_OIDC_ISSUER", "https://idp.example.org")
    result = runner.invoke(app, ["token", "--client", "admin"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_keys_rotate_and_audit_verify(
    env: Path, falkordb_server: EmbeddedFalkorDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph_name = f"cli{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        "CROSSFORCE_GRAPH_URI",
        f"falkordb://{falkordb_server.host}:{falkordb_server.port}/{graph_name}",
    )
    first = runner.invoke(app, ["keys", "rotate", "--force", "GL"])
    assert first.exit_code == 0, first.output
    assert "GL: now data key version 1" in first.stdout
    second = runner.invoke(app, ["keys", "rotate"])
    assert "GL: now data key version 2" in second.stdout
    assert runner.invoke(app, ["keys", "rotate", "--force", "ZZ"]).exit_code == 2

    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "intact: 2 entries" in verified.stdout

    async def tamper() -> None:
        store = FalkorDBStore(falkordb_server.host, falkordb_server.port, graph_name=graph_name)
        await store.write("MATCH (e:AuditEntry {seq: 1}) SET e.actor = 'someone-else'")
        await store.close()

    asyncio.run(tamper())
    broken = runner.invoke(app, ["audit", "verify"])
    assert broken.exit_code == 1
    assert "broken at entry 1" in broken.stdout


def test_keys_reseal_after_rotate(
    env: Path, falkordb_server: EmbeddedFalkorDB, monkeypatch: pytest.MonkeyPatch
) -> None:
    from federation.ingest import Ingest
    from graph.keyring_store import GraphKeyStore
    from policies.audit import AuditLog, MemoryAuditStore
    from policies.blind_index import BlindIndex
    from policies.crypto import FieldCipher
    from policies.keys import KeyRing, LocalKeyFile
    from policies.principal import Principal
    from tests.federation.conftest import examples
    from tests.federation.test_ingest_pipeline import stream

    graph_name = f"cli{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        "CROSSFORCE_GRAPH_URI",
        f"falkordb://{falkordb_server.host}:{falkordb_server.port}/{graph_name}",
    )

    async def sync_three() -> None:
        store = FalkorDBStore(falkordb_server.host, falkordb_server.port, graph_name=graph_name)
        await store.migrate()
        keyring = KeyRing(GraphKeyStore(store), LocalKeyFile.in_data_dir(env))
        ingest = Ingest(
            store,
            blind=BlindIndex(bytes(32)),
            cipher=FieldCipher(keyring),
            audit=AuditLog(MemoryAuditStore()),
            rules=default_case_rules(),
        )
        records = [examples()[0] | {"caseRef": f"AS-CLI-{i}"} for i in range(3)]
        principal = Principal(client_id="force-AS", scopes=frozenset({"sync:write"}), force="AS")
        assert {r.status for r in await ingest.apply(principal, stream(records))} == {"applied"}
        await store.close()

    async def sealed_with() -> set[int]:
        store = FalkorDBStore(falkordb_server.host, falkordb_server.port, graph_name=graph_name)
        rows = await store.read("MATCH (c:Case) RETURN c.sealedWith AS v")
        await store.close()
        return {row["v"] for row in rows}

    asyncio.run(sync_three())
    assert runner.invoke(app, ["keys", "rotate", "--force", "AS"]).exit_code == 0
    assert asyncio.run(sealed_with()) == {1}
    result = runner.invoke(app, ["keys", "reseal"])
    assert result.exit_code == 0, result.output
    assert "AS: 3 of 3 cases resealed to data key version 2" in result.stdout
    assert asyncio.run(sealed_with()) == {2}
    again = runner.invoke(app, ["keys", "reseal", "--force", "AS"])
    assert "AS: 0 of 0 cases resealed" in again.stdout
    assert runner.invoke(app, ["keys", "reseal", "--force", "ZZ"]).exit_code == 2
