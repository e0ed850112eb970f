"""Opens the graph named by a URI, or the embedded FalkorDB when there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from graph.compaction import rewrite_files
from graph.embedded import EmbeddedFalkorDB, ServerAddress
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from graph.port import GraphStore

NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


NEO4J_HISTORY = (
    "Neo4j keeps earlier values in its transaction logs until they rotate out: "
    "see docs/operations.md, 'Shred a data key'"
)


@dataclass
class GraphConnection:
    """A store, and the embedded server behind it when this process started one.

    `falkordb`: the FalkorDB server's address, for work beside queries (rewriting its files);
    `local_dir`: that server's directory, when it is the embedded graph of this data dir."""

    store: GraphStore
    embedded: EmbeddedFalkorDB | None = None
    falkordb: ServerAddress | None = None
    local_dir: Path | None = None

    async def close(self) -> None:
        await self.store.close()
        if self.embedded is not None:
            self.embedded.stop()

    async def purge_history(self) -> str:
        """Make the engine's files forget deleted values (after a shred); say what was done."""
        if self.falkordb is None:
            return NEO4J_HISTORY
        done = await rewrite_files(self.falkordb, local_dir=self.local_dir)
        return "rewrote the graph's " + " and ".join(done) if done else "graph keeps no files"


def open_graph(
    uri: str | None,
    *,
    data_dir: Path,
    user: str | None = None,
    password: str | None = None,
    query_timeout: float = 10.0,
    retry_for: float = 5.0,
    slow_query_seconds: float | None = None,
    attach: bool = False,
) -> GraphConnection:
    """`attach`: when another process (the hub) runs the embedded graph of `data_dir`, connect
    to its server instead of refusing; for operators' commands, never for the hub itself."""
    if not uri:
        server = EmbeddedFalkorDB(data_dir)
        address = server.running() if attach else None
        owned = None
        if address is None:
            server.start()
            address, owned = server.address, server
        store = FalkorDBStore(
            address.host,
            address.port,
            password=address.password,
            query_timeout=query_timeout,
            retry_for=retry_for,
            slow_query_seconds=slow_query_seconds,
        )
        return GraphConnection(store, owned, address, server.data_dir)
    parts = urlsplit(uri)
    if parts.scheme in NEO4J_SCHEMES:
        return GraphConnection(
            Neo4jStore(
                uri,
                user=user,
                password=password,
                query_timeout=query_timeout,
                retry_for=retry_for,
                slow_query_seconds=slow_query_seconds,
            )
        )
    if parts.scheme == "falkordb":
        if not parts.hostname:
            raise ValueError("falkordb:// graph URI needs a host, e.g. falkordb://localhost:6379")
        # The password from CROSSFORCE_GRAPH_PASSWORD, or else from the URI (falkordb://:pw@host).
        address = ServerAddress(parts.hostname, parts.port or 6379, password or parts.password)
        store = FalkorDBStore(
            address.host,
            address.port,
            password=address.password,
            graph_name=parts.path.strip("/") or "crossforce",
            query_timeout=query_timeout,
            retry_for=retry_for,
            slow_query_seconds=slow_query_seconds,
        )
        return GraphConnection(store, falkordb=address)
    raise ValueError(
        f"unsupported graph URI scheme {parts.scheme!r}: use neo4j://, neo4j+s://, bolt:// "
        "or falkordb://host:port, or leave CROSSFORCE_GRAPH_URI unset for the embedded graph"
    )
