"""`crossforce keys shred`: the data key is gone from the graph and from its files on disk, and
every replica refuses what it sealed within seconds."""

from __future__ import annotations

import asyncio
import base64
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from graph import GraphStore, open_graph
from graph.keyring_store import GraphKeyStore
from policies.crypto import FieldCipher, key_version
from policies.keys import KeyRing, KeyShredded, LocalKeyFile

runner = CliRunner()
SECRET = "Jane Example, 07700 900123"


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("CROSSFORCE_GRAPH_URI", "CROSSFORCE_OIDC_ISSUER", "CROSSFORCE_VAULT_ADDR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def files_holding(directory: Path, needles: list[bytes]) -> list[str]:
    return [
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and any(needle in path.read_bytes() for needle in needles)
    ]


async def seal_and_read_key(data_dir: Path) -> tuple[str, bytes]:
    """Seal a value with AS's data key in the embedded graph; the value and the wrapped key."""
    connection = open_graph(None, data_dir=data_dir)
    try:
        await connection.store.migrate()
        keys = GraphKeyStore(connection.store)
        cipher = FieldCipher(KeyRing(keys, LocalKeyFile.in_data_dir(data_dir)))
        sealed = await cipher.seal("AS", "AS-1", "/summary", SECRET)
        stored = await keys.get("AS", key_version(sealed))
        assert stored is not None and stored.wrapped is not None
        return sealed, stored.wrapped
    finally:
        await connection.close()


async def open_sealed(data_dir: Path, sealed: str) -> str:
    connection = open_graph(None, data_dir=data_dir)
    try:
        keyring = KeyRing(GraphKeyStore(connection.store), LocalKeyFile.in_data_dir(data_dir))
        return await FieldCipher(keyring).open("AS", "AS-1", "/summary", sealed)
    finally:
        await connection.close()


def test_shred_leaves_no_copy_of_the_wrapped_key_in_the_graph_files(data_dir: Path) -> None:
    sealed, wrapped = asyncio.run(seal_and_read_key(data_dir))
    needles = [wrapped, base64.b64encode(wrapped)]
    graph_files = data_dir / "graph"
    assert files_holding(graph_files, needles)  # the append-only file holds it until shredded

    refused = runner.invoke(app, ["keys", "shred", "--force", "AS", "--version", "1"], input="n\n")
    assert refused.exit_code != 0
    assert files_holding(graph_files, needles)

    result = runner.invoke(app, ["keys", "shred", "--force", "as", "--version", "1", "--yes"])
    assert result.exit_code == 0, result.output
    assert "AS: data key version 1 shredded" in result.stdout
    assert files_holding(graph_files, needles) == []
    with pytest.raises(KeyShredded):
        asyncio.run(open_sealed(data_dir, sealed))

    again = runner.invoke(app, ["keys", "shred", "--force", "AS", "--version", "1", "--yes"])
    assert again.exit_code == 0 and "already shredded" in again.stdout
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output


def test_shredding_a_version_that_never_existed_is_one_line(data_dir: Path) -> None:
    result = runner.invoke(app, ["keys", "shred", "--force", "GL", "--version", "7", "--yes"])
    assert result.exit_code == 1
    assert result.stderr.strip() == "crossforce keys shred: no data key GL v7"


async def test_a_replica_refuses_a_shredded_key_within_seconds(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    kek = LocalKeyFile.in_data_dir(tmp_path)
    shredder = FieldCipher(KeyRing(GraphKeyStore(graph_store), kek))
    replica = FieldCipher(KeyRing(GraphKeyStore(graph_store), kek))  # default cache settings
    sealed = await shredder.seal("AS", "AS-1", "/summary", SECRET)
    assert await replica.open("AS", "AS-1", "/summary", sealed) == SECRET  # now cached

    await shredder.keyring.shred("AS", 1, actor="cli:operator")
    shredded_at = time.monotonic()
    while True:
        try:
            await replica.open("AS", "AS-1", "/summary", sealed)
        except KeyShredded:
            break
        assert time.monotonic() - shredded_at < 5, "the replica still decrypts after 5 s"
        await asyncio.sleep(0.1)
    # New data on the replica is sealed with a new version, never with the shredded one.
    assert key_version(await replica.seal("AS", "AS-2", "/summary", "new")) == 2
