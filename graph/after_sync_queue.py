"""The after-sync step's work in the graph: which cases (and tombstones) still wait for it, who
has claimed them, and settling them once the step has run, as typed values.

A case is written with `afterSyncPending` set, in the same statement as the case; the replica
about to run the step claims it for a while (on the graph's clock), and settles it for the version
it ran for. The queue that drives this is `federation/after_sync/queue.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph.port import GraphStore
from graph.queries import after_sync as q


@dataclass(frozen=True)
class Claimed:
    """A case or tombstone claimed for the step, with the version the step runs for."""

    key: str
    version: int


@dataclass(frozen=True)
class AfterSyncWork:
    """The cases and tombstones waiting for the after-sync step, over one graph store."""

    store: GraphStore

    async def pending(self) -> list[str]:
        """The keys of every case and tombstone whose step has not run, whoever wrote them."""
        return [str(row["key"]) for row in await self.store.read(q.PENDING)]

    async def left_behind(self, age_ms: int, limit: int) -> list[str]:
        """At most `limit` keys pending for longer than `age_ms` that no live replica claims:
        what a replica that stopped mid-step left."""
        rows = await self.store.read(q.STALE_PENDING, {"age": age_ms, "limit": limit})
        return [str(row["key"]) for row in rows]

    async def claim(self, keys: Sequence[str], holder: str, claim_ms: int) -> list[Claimed]:
        """Claim for `holder`, for `claim_ms`, those of the keys still pending that no other
        replica holds a live claim on (a claim of its own is renewed); the ones claimed."""
        params = {"keys": list(keys), "holder": holder, "claim": claim_ms}
        rows = await self.store.write(q.CLAIM_CASES, params)
        rows += await self.store.write(q.CLAIM_TOMBSTONES, params)
        return [Claimed(str(row["key"]), int(row["version"])) for row in rows]

    async def settle(self, claimed: Sequence[Claimed]) -> None:
        """Clear the flag and the claim of each, unless a newer version was written since (that
        one stays pending)."""
        cases = [{"key": c.key, "version": c.version} for c in claimed]
        await self.store.write(q.SETTLE_CASES, {"cases": cases})
        await self.store.write(q.SETTLE_TOMBSTONES, {"cases": cases})

    async def count(self, force: str | None = None) -> int:
        """How many cases and tombstones wait for the step: of one force, or of all."""
        if force is None:
            rows = await self.store.read(q.PENDING_COUNT)
        else:
            rows = await self.store.read(q.FORCE_PENDING, {"force": force})
        return int(rows[0]["n"]) if rows else 0
