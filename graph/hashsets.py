"""The region's known-image hash sets in the graph, behind a small repository.

`HashSets.replace` keeps one set and its listed hashes (blind indexes with a grade), written in
batches of one `UNWIND` statement each; `HashSets.no_viewing` answers, per case, which of its
media items need no viewing: graded by another case in the region, or listed by a set.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graph.port import GraphStore
from graph.queries import hashsets as q

BATCH = 5000


@dataclass(frozen=True)
class KnownHash:
    key: str  # the hash's blind index, as a media item's
    category: str


@dataclass(frozen=True)
class ItemGrades:
    """One media item of a case: the grades other cases gave its image, and the sets (by name)
    that list it with their grade."""

    item: int
    elsewhere: tuple[str, ...]
    listed: tuple[tuple[str, str], ...]


class HashSets:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    async def replace(
        self,
        key: str,
        *,
        source: str,
        name: str,
        set_date: str | None,
        hashes: Iterable[KnownHash],
    ) -> int:
        """Keep the set `key` with exactly `hashes`; how many it lists."""
        params = {"key": key, "source": source, "name": name, "setDate": set_date}
        await self.store.write(q.UPSERT_SET, params)
        await self.store.write(q.CLEAR_SET, {"key": key})
        batch: list[dict[str, str]] = []
        for known in hashes:
            batch.append({"key": known.key, "category": known.category})
            if len(batch) >= BATCH:
                await self.store.write(q.LIST_HASHES, {"set": key, "rows": batch})
                batch = []
        if batch:
            await self.store.write(q.LIST_HASHES, {"set": key, "rows": batch})
        rows = await self.store.write(q.SET_SIZE, {"key": key})
        await self.store.write(q.RECOUNT_HOLDERS, {"key": key})
        return int(rows[0]["size"]) if rows else 0

    async def no_viewing(self, keys: Sequence[str]) -> dict[str, list[ItemGrades]]:
        """Per case key, its media items with how they are graded elsewhere (items graded
        nowhere else included, with nothing)."""
        found: dict[str, dict[int, tuple[set[str], set[tuple[str, str]]]]] = {k: {} for k in keys}
        for row in await self.store.read(q.NO_VIEWING, {"keys": list(keys)}):
            elsewhere, listed = found[row["case"]].setdefault(int(row["item"]), (set(), set()))
            elsewhere.update(row["elsewhere"] or [])
            listed.update((n, c) for n, c in row["listed"] or [] if n is not None)
        return {
            key: [
                ItemGrades(item, tuple(sorted(e)), tuple(sorted(ls)))
                for item, (e, ls) in sorted(items.items())
            ]
            for key, items in found.items()
        }
