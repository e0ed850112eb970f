"""Rewrite a FalkorDB server's files, so a value deleted from the graph leaves no copy on disk.

The append-only file keeps every write as it was sent, a shredded data key's creation included,
until it is rewritten from what the graph holds now; an RDB snapshot keeps the state of its time
until the next one. Shredding a data key rewrites both (`crossforce keys shred`).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from graph.embedded import ServerAddress
from graph.port import GraphError


async def rewrite_files(
    address: ServerAddress, *, local_dir: Path | None = None, timeout: float = 600.0
) -> list[str]:
    """Rewrite the append-only file (when enabled) and the snapshot (when snapshots are
    configured, or `local_dir` holds one); wait until each is done; return what was rewritten.
    `local_dir`: the server's directory when this process can see it (the embedded graph)."""
    client = aioredis.Redis(host=address.host, port=address.port, password=address.password)
    deadline = time.monotonic() + timeout
    done = []
    try:
        config: dict[Any, Any] = {}
        for name in ("appendonly", "save", "dbfilename"):
            config |= await client.config_get(name)
        if config.get("appendonly") == "yes":
            await _rewrite(client, "BGREWRITEAOF", deadline)
            done.append("append-only file")
        snapshot = local_dir / str(config.get("dbfilename", "dump.rdb")) if local_dir else None
        if config.get("save") or (snapshot is not None and snapshot.exists()):
            await _rewrite(client, "BGSAVE", deadline)
            done.append("snapshot")
    finally:
        await client.aclose()
    return done


# Per command: its counter of completed runs, its busy flags, its last status.
_REWRITES = {
    "BGREWRITEAOF": (
        "aof_rewrites",
        ("aof_rewrite_in_progress", "aof_rewrite_scheduled"),
        "aof_last_bgrewrite_status",
    ),
    "BGSAVE": (
        "rdb_saves",
        ("rdb_bgsave_in_progress",),
        "rdb_last_bgsave_status",
    ),
}


async def _rewrite(client: aioredis.Redis, command: str, deadline: float) -> None:
    """Start a background rewrite (or have one scheduled after the one running) and wait until
    one that started after this call has finished."""
    counter, flags, last_status = _REWRITES[command]
    before = int((await client.info("persistence"))[counter])
    if command == "BGSAVE":
        await client.bgsave(schedule=True)
    else:
        await client.bgrewriteaof()
    while time.monotonic() < deadline:
        info = await client.info("persistence")
        busy = any(int(info.get(flag, 0)) for flag in flags)
        if not busy and int(info[counter]) > before:
            if info[last_status] != "ok":
                raise GraphError(f"the graph server's {command} failed; see its log")
            return
        await asyncio.sleep(0.05)
    raise GraphError(f"the graph server's {command} did not finish in time")
