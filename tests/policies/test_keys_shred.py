"""Shredding a data key: every replica refuses what it sealed within seconds."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from graph import GraphStore
from graph.keyring_store import GraphKeyStore
from policies.crypto import FieldCipher, key_version
from policies.keys import KeyRing, KeyShredded, LocalKeyFile

SECRET = "Jane Example, 07700 900123"


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
