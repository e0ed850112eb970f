"""Re-encryption's view of the graph: the cases of a force still sealed under an older data key
version, and the guarded write of their resealed maps (graph/queries/reseal.py).

The store keeps no progress of its own: what is left is what the graph still holds under an
older version, so a run resumes wherever the last one stopped, on any replica.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph.case_seals import CaseSeal
from graph.port import GraphStore
from graph.queries import reseal as q


@dataclass(frozen=True)
class StaleCase:
    """A case sealed under an older key version, with the case version it was read at: the
    write back is guarded by both the version and the sealed map read."""

    seal: CaseSeal
    version: int


@dataclass(frozen=True)
class Resealed:
    """A stale case's map sealed again under `sealed_with`."""

    case: StaleCase
    sealed: str
    sealed_with: int


class ResealStore:
    """Pages of stale cases and guarded writes of resealed ones, over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def remaining(self, force: str, current: int) -> int:
        """How many of the force's cases are sealed under a version below `current` (cases
        stored before versions were kept count as version 0)."""
        rows = await self._store.read(q.REMAINING, {"force": force, "current": current})
        return int(rows[0]["remaining"]) if rows else 0

    async def stale(self, force: str, current: int, after: str, limit: int) -> list[StaleCase]:
        """The force's next `limit` stale cases in key order after the key `after`."""
        params = {"force": force, "current": current, "after": after, "limit": limit}
        rows = await self._store.read(q.STALE_PAGE, params)
        return [
            StaleCase(
                CaseSeal(str(row["key"]), force, str(row["caseRef"]), row["sealed"]),
                int(row["version"]),
            )
            for row in rows
        ]

    async def write(self, resealed: Sequence[Resealed]) -> int:
        """Write the resealed maps of the cases still exactly as read; how many were written
        (the others were written by a sync meanwhile, which sealed them afresh)."""
        if not resealed:
            return 0
        updates = [
            {
                "key": r.case.seal.key,
                "version": r.case.version,
                "before": r.case.seal.sealed,
                "sealed": r.sealed,
                "sealedWith": r.sealed_with,
            }
            for r in resealed
        ]
        rows = await self._store.write(q.WRITE_RESEALED, {"rows": updates})
        return len(rows)
