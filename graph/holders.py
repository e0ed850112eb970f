"""Which cases hold one identifier (the identifier search, `holders`), as typed values.

One read of the entity the identifier's blind index names. Each case comes with its sealed
fields, so whom to call about it needs no second read; and the read says which forces' link
events the intake ceiling holds, so the gateway can leave out what the change feed holds back.
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.case_seals import CaseSeal
from graph.port import GraphStore
from graph.queries.holders import HOLDERS_OF


@dataclass(frozen=True)
class Holding:
    """The cases holding an entity, by force and reference, and the forces held at the read."""

    cases: tuple[CaseSeal, ...]
    held: frozenset[str]


class IdentifierHolders:
    """The identifier search's read over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def holding(self, label: str, key: str) -> Holding:
        """The cases holding the entity of `label` (an entity label, never a caller's text)
        keyed `key`; none when the graph holds no such entity."""
        statement = HOLDERS_OF.get(label)
        if statement is None:
            raise ValueError(f"not an entity label: {label!r}")
        rows = await self._store.read(statement, {"key": key})
        cases = tuple(
            CaseSeal(key=row["key"], force=row["force"], case_ref=row["caseRef"],
                     sealed=row["sealed"])
            for row in rows
        )  # fmt: skip
        held = frozenset(rows[0]["held"] or ()) if rows else frozenset()
        return Holding(cases, held)
