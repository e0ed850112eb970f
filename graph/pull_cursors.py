"""Where the hub stands in each pulled force's feed, and which replica pulls it: a repository over
the one `PullCursor` node per force (graph/queries/pull.py).

The cursor is the connector's opaque text, moved only after the page it ends has committed. The
lease is a holder id and an expiry on the same node, on the graph's clock, so replicas' clocks
need not agree (federation/pull_lease.py keeps it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from graph.port import GraphStore
from graph.queries import pull as q


@dataclass(frozen=True)
class Lease:
    """Who holds a force's pull lease after an attempt to take it, and for how much longer."""

    holder: str
    remaining_ms: int


class PullCursors:
    """Cursors and leases of pulled forces over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def cursor(self, force: str) -> str | None:
        """The force's stored cursor; None before its first page."""
        rows = await self._store.read(q.READ_CURSOR, {"force": force})
        cursor = rows[0]["cursor"] if rows else None
        return cursor if isinstance(cursor, str) else None

    async def move(
        self, force: str, cursor: str, at: datetime, *, holder: str | None = None
    ) -> bool:
        """Store the cursor; with `holder`, only while that replica holds the force's lease (or
        no lease was ever taken). Whether it was stored."""
        params = {"force": force, "cursor": cursor, "at": int(at.timestamp() * 1000)}
        if holder is None:
            rows = await self._store.write(q.WRITE_CURSOR, params)
        else:
            rows = await self._store.write(q.WRITE_CURSOR_HELD, params | {"holder": holder})
        return bool(rows)

    async def take_lease(self, force: str, holder: str, ttl_ms: int) -> Lease | None:
        """Take or renew the lease for `ttl_ms` when it is free, expired or already `holder`'s;
        who holds it either way."""
        rows = await self._store.write(
            q.TAKE_LEASE, {"force": force, "holder": holder, "ttl": ttl_ms}
        )
        if not rows or rows[0]["holder"] is None:
            return None
        return Lease(str(rows[0]["holder"]), int(rows[0]["remaining"] or 0))

    async def release_lease(self, force: str, holder: str) -> bool:
        """Hand the lease back at once; False when `holder` did not hold it."""
        rows = await self._store.write(q.RELEASE_LEASE, {"force": force, "holder": holder})
        return bool(rows)
