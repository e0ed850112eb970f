"""Each force's daily intake and the holds on its link events, as a repository over `IntakeDay`
and `LinkHold` nodes (graph/queries/intake.py).

The intake watch (federation/intake.py) asks which of a batch's identifiers the hub held before
it, adds what an applied batch brought to the force's day, and holds the force's link events once
the day passes the case rules' ceiling. Kept in the graph, so every replica counts the same
figures; the change feed's repository (graph/change_feed.py) reads and lifts the holds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from graph.port import GraphStore
from graph.queries import intake as q

# Entity kinds whose first sight counts as a new identifier (every kind but image hashes).
COUNTED_LABELS = q.COUNTED_LABELS


@dataclass(frozen=True)
class Sighting:
    """Which of a batch's identifiers the hub held before it was written (blind indexes only)."""

    known: frozenset[str]
    elsewhere: frozenset[str]  # held by a case of another force: the batch links to them


@dataclass(frozen=True)
class DayIntake:
    """A force's day once a batch was added: what came since the last release, and the sums
    of the days before it in the window asked for."""

    held: bool  # the force's link events are held already
    cases: int
    identifiers: int
    cases_before: int
    identifiers_before: int


class IntakeDays:
    """The intake counts and link holds of every force over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def sight(self, force: str, keys: Mapping[str, Collection[str]]) -> Sighting:
        """Which of these entity keys (by label, of `COUNTED_LABELS`) the graph holds, and which
        of those a case of another force than `force` holds."""
        unknown = set(keys) - set(COUNTED_LABELS)
        if unknown:
            raise ValueError(f"not counted entity kinds: {sorted(unknown)}")
        if not any(keys.values()):
            return Sighting(frozenset(), frozenset())
        params = {label: sorted(keys.get(label, ())) for label in COUNTED_LABELS}
        statement = q.KNOWN_ENTITIES_NEO4J if self._store.engine == "neo4j" else q.KNOWN_ENTITIES
        rows = await self._store.read(statement, {"force": force, **params})
        return Sighting(
            frozenset(str(row["key"]) for row in rows),
            frozenset(str(row["key"]) for row in rows if row["elsewhere"]),
        )

    async def add(
        self, force: str, day: int, first_day: int, cases: int, identifiers: int
    ) -> DayIntake:
        """Add a batch's new cases and identifiers to the force's `day` (days since the epoch);
        the day's figures with the sums of the days from `first_day` before it."""
        rows = await self._store.write(
            q.ADD,
            {
                "force": force,
                "day": day,
                "from": first_day,
                "cases": cases,
                "identifiers": identifiers,
            },
        )
        row = rows[0] if rows else {}
        return DayIntake(
            held=bool(row.get("held")),
            cases=int(row.get("cases") or 0),
            identifiers=int(row.get("identifiers") or 0),
            cases_before=int(row.get("casesBefore") or 0),
            identifiers_before=int(row.get("identifiersBefore") or 0),
        )

    async def hold(self, force: str, now_ms: int) -> bool:
        """Hold the force's link events from `now_ms`; True only for the call that made the
        hold (one that stands already is left as it is), so the region is alerted once."""
        rows = await self._store.write(q.HOLD, {"force": force, "now": now_ms})
        return bool(rows) and bool(rows[0]["created"])
