"""Each case's link counts, kept by the after-sync step so that no read has to look for them:
the other forces' cases it shares an entity with (the links of its priority score), the keys of
those graded high risk (a regrade reason), and its media items another case had graded first
(image views avoided). At a million cases, finding them at read time took 10 to 20 s.

A sync changes the counts of the cases around it too: those that share an entity with it now,
and those that did before (`touched`, which the write keeps, on the tombstone for a removed
case). Counts are written only where they changed, restamping `syncedAt`, so the replicas'
region facts (gateway/region.py) take them up as they take up any write.

Each count costs the case's own links, not its neighbours': links are counted up to
`LINKS_COUNTED`, and an item's view is spared when its image's first grading (kept on the image
by `FIRST_GRADED`) came before the item's own. Counting every pair instead made a sync around an
image shared by 1,000 cases take 15 s, growing with the square of the cases."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from gateway.priority import LINKS_COUNTED, is_high
from graph import GraphStore
from graph.queries import after_sync as q

# The grades that spare a later viewer the image (as `reading.MEDIA_GRADED_ELSEWHERE`).
GRADED = ["A", "B", "C", "NOT_INDECENT"]
NEVER = 2**62  # the grading time of an item not graded: after any other


async def around(store: GraphStore, keys: Collection[str]) -> set[str]:
    """The cases that share an entity with these, or did before their latest write."""
    rows = await store.read(q.AROUND, {"keys": sorted(keys)})
    return {row["key"] for row in rows if row["key"] is not None}


def changed_counts(row: dict[str, Any]) -> dict[str, Any] | None:
    """The counts to write for a `LINK_COUNTS` row; None when the case holds them already."""
    linked = {key: risk for key, risk in row["linked"] if key is not None}
    high = sorted(key for key, risk in linked.items() if is_high(risk))[:LINKS_COUNTED]
    counts = {
        "linkedCases": min(len(linked), LINKS_COUNTED),
        "linkedHigh": high or None,
        "viewsAvoided": int(row["avoided"]),
    }
    held = {name: row[name] or None for name in counts}
    wanted = {name: value or None for name, value in counts.items()}
    # Zeros are not written on a case that holds none: most new cases link to nothing, and a
    # missing count reads as 0.
    return None if held == wanted else {"key": row["key"], **counts}


async def recount(store: GraphStore, keys: Collection[str]) -> int:
    """Count again, from the graph, for the cases of these keys still held; write what
    changed; how many."""
    if not keys:
        return 0
    await _first_gradings(store, keys)
    return await _write_changed(store, await _counted(store, keys))


async def count_after_sync(
    store: GraphStore, synced: Collection[str], links: Iterable[dict[str, Any]]
) -> int:
    """Count again for the synced cases, from their cross-force links the step has just read
    (`links`, rows of `CROSS_FORCE_LINKS`: no second traversal of theirs), and, from the
    graph, for the cases around them; how many changed."""
    near = await around(store, synced) - set(synced)
    await _first_gradings(store, set(synced) | near)
    found: dict[str, list[list[str]]] = defaultdict(list)
    for row in links:
        found[row["case"]].append([row["other"], row["otherRisk"]])
    rows = await store.read(q.VIEW_COUNTS, {"keys": sorted(synced), "never": NEVER})
    for row in rows:
        row["linked"] = found.get(row["key"], [])
    if near:
        rows += await _counted(store, near)
    return await _write_changed(store, rows)


async def _first_gradings(store: GraphStore, keys: Collection[str]) -> None:
    await store.write(q.FIRST_GRADED, {"keys": sorted(keys), "graded": GRADED})


async def _counted(store: GraphStore, keys: Collection[str]) -> list[dict[str, Any]]:
    params = {"keys": sorted(keys), "cap": LINKS_COUNTED, "never": NEVER}
    return await store.read(q.LINK_COUNTS, params)


async def _write_changed(store: GraphStore, rows: Iterable[dict[str, Any]]) -> int:
    changed = [counts for counts in map(changed_counts, rows) if counts is not None]
    if changed:
        await store.write(q.SET_LINK_COUNTS, {"cases": changed})
    return len(changed)
