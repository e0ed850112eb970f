"""Stale cases: open cases quiet for long enough that their force is told, once per quiet spell,
as typed values. How long is quiet enough, and the telling, are `federation/after_sync/stale.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graph.port import GraphStore
from graph.queries import oversight as q


@dataclass(frozen=True)
class QuietCase:
    """An open case quiet since `quiet_since` (its last activity, or its referral's receipt
    without one), epoch milliseconds."""

    key: str
    force: str
    case_ref: str
    quiet_since: int


@dataclass(frozen=True)
class StaleCases:
    """The open cases gone quiet and whether their force was told, over one graph store."""

    store: GraphStore

    async def untold(self, cut: int, limit: int) -> list[QuietCase]:
        """At most `limit` open cases quiet since before `cut` whose force has not been told of
        this quiet spell, the longest quiet first."""
        rows = await self.store.read(q.STALE_UNTOLD, {"cut": cut, "limit": limit})
        return [
            QuietCase(str(row["key"]), str(row["force"]), str(row["caseRef"]),
                      int(row["quietSince"]))
            for row in rows
        ]  # fmt: skip

    async def mark_told(self, cases: Sequence[QuietCase]) -> None:
        """Remember, on each case, the quiet spell its force was told of; a case written since
        with other activity is left as it is (its new spell is not told yet)."""
        told = [{"key": case.key, "quietSince": case.quiet_since} for case in cases]
        await self.store.write(q.STALE_TOLD, {"told": told})
