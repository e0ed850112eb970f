"""The kept daily history of each force's figures, as a repository over `ForceDay` nodes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from graph.port import GraphStore
from graph.queries import history as q

BATCH = 500  # days written per statement


@dataclass(frozen=True)
class ForceDay:
    """One force's figures at the end of one day (UTC)."""

    force: str
    day: date
    open: int
    past_target: int
    awaiting_enforcement: int
    received: int
    resolved: int
    # Awaiting enforcement past the shortest target but not the longest, at the end of a day before
    # the assessment of the risk level held now: maybe past target (gateway/history.py).
    past_target_unsure: int = 0

    @property
    def key(self) -> str:
        return f"{self.force}:{self.day.isoformat()}"


def day_key(force: str, day: date) -> str:
    return f"{force}:{day.isoformat()}"


def day_number(day: date) -> int:
    """YYYYMMDD as a number: days in order, and readable."""
    return day.year * 10_000 + day.month * 100 + day.day


class ForceDays:
    """`keep` writes days not held yet (the first writer of a day wins); `between` reads."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def held(self, keys: Sequence[str]) -> set[str]:
        """Which of these day keys (`day_key`) are held."""
        found: set[str] = set()
        for start in range(0, len(keys), BATCH):
            rows = await self._store.read(q.HELD_KEYS, {"keys": list(keys[start : start + BATCH])})
            found.update(str(row["key"]) for row in rows)
        return found

    async def keep(self, days: Sequence[ForceDay], taken_at: int) -> int:
        """Create the days not held yet; how many were created."""
        created = 0
        for start in range(0, len(days), BATCH):
            batch = [
                {
                    "key": d.key,
                    "force": d.force,
                    "date": d.day.isoformat(),
                    "day": day_number(d.day),
                    "open": d.open,
                    "pastTarget": d.past_target,
                    "awaitingEnforcement": d.awaiting_enforcement,
                    "received": d.received,
                    "resolved": d.resolved,
                    "pastTargetUnsure": d.past_target_unsure,
                }
                for d in days[start : start + BATCH]
            ]
            rows = await self._store.write(q.KEEP_DAYS, {"days": batch, "takenAt": taken_at})
            created += len(rows)
        return created

    async def between(self, first: date, last: date) -> list[ForceDay]:
        """Every force's days from `first` to `last`, both included, by force then day."""
        rows = await self._store.read(
            q.DAYS_BETWEEN, {"from": day_number(first), "to": day_number(last)}
        )
        return [
            ForceDay(
                force=str(row["force"]),
                day=date.fromisoformat(str(row["date"])),
                open=int(row["open"]),
                past_target=int(row["pastTarget"]),
                awaiting_enforcement=int(row["awaitingEnforcement"] or 0),
                received=int(row["received"] or 0),
                resolved=int(row["resolved"] or 0),
                past_target_unsure=int(row["pastTargetUnsure"] or 0),
            )
            for row in rows
        ]
