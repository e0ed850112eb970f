"""Opens the graph named by a URI, or the embedded FalkorDB when there is none."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from graph.embedded import EmbeddedFalkorDB
from graph.falkordb_adapter import FalkorDBStore
from graph.neo4j_adapter import Neo4jStore
from graph.port import GraphStore

NEO4J_SCHEMES = ("neo4j", "neo4j+s", "neo4j+ssc", "bolt", "bolt+s", "bolt+ssc")


@dataclass
class GraphConnection:
    """A store, and the embedded server behind it when this process started one."""

    store: GraphStore
    embedded: EmbeddedFalkorDB | None = None

    async def close(self) -> None:
        await self.store.close()
        if self.embedded is not None:
            self.embedded.stop()


def open_graph(
    uri: str | None,
    *,
    data_dir: Path,
    user: str | None = None,
    password: str | None = None,
    query_timeout: float = 10.0,
    retry_for: float = 5.0,
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
        )
        return GraphConnection(store, owned)
    parts = urlsplit(uri)
    if parts.scheme in NEO4J_SCHEMES:
        return GraphConnection(
            Neo4jStore(
                uri,
                user=user,
                password=password,
                query_timeout=query_timeout,
                retry_for=retry_for,
            )
        )
    if parts.scheme == "falkordb":
        if not parts.hostname:
            raise ValueError("falkordb:// graph URI needs a host, e.g. falkordb://localhost:6379")
        return GraphConnection(
            FalkorDBStore(
                parts.hostname,
                parts.port or 6379,
                # CROSSFORCE_GRAPH_PASSWORD, or else the URI's own (falkordb://:password@host).
                password=password or parts.password,
                graph_name=parts.path.strip("/") or "crossforce",
                query_timeout=query_timeout,
                retry_for=retry_for,
            )
        )
    raise ValueError(
        f"unsupported graph URI scheme {parts.scheme!r}: use neo4j://, neo4j+s://, bolt:// "
        "or falkordb://host:port, or leave CROSSFORCE_GRAPH_URI unset for the embedded graph"
    )
