"""Cases' sealed fields as stored, by case key: what a contact is opened from.

A case's `sealed` property is a JSON map of field pointers (`/officer/email`) to sealed values;
nothing here opens one. Whoever opens a value asks the sharing agreement first
(federation/contacts.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graph.port import GraphStore
from graph.queries import changes as q


@dataclass(frozen=True)
class CaseSeal:
    """One case's sealed map, with the force and reference its values are bound to."""

    key: str
    force: str
    case_ref: str
    sealed: str | None  # the JSON map of sealed values; None when the case seals nothing


class CaseSeals:
    """Reads cases' seals over one graph store."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store

    async def of(self, keys: Iterable[str]) -> dict[str, CaseSeal]:
        """The seals of the cases held among `keys`, by key."""
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        rows = await self._store.read(q.OFFICER_SEALS, {"keys": wanted})
        return {seal.key: seal for seal in map(_seal, rows)}


def _seal(row: Mapping[str, Any]) -> CaseSeal:
    return CaseSeal(str(row["key"]), str(row["force"]), str(row["caseRef"]), row["sealed"] or None)
