"""Each case's link counts, kept by the after-sync step so that no read has to look for them:
the other forces' cases it shares an entity with (the links of its priority score), the keys of
those graded high risk (a regrade reason), and its media items another case had graded first
(image views avoided). Finding them at read time instead would cost every read a traversal of
the graph (docs/scaling.md).

A sync changes the counts of the cases around it too: those that share an entity with it now,
and those that did before (`touched`, which the write keeps, on the tombstone for a removed
case). Counts are written only where they changed, restamping `syncedAt`, so the replicas'
region facts (gateway/region.py) take them up as they take up any write.

Each count costs the case's own links, not its neighbours': links are counted up to the case
rules' `links.counted`, and an item's view is spared when its image's first grading (kept on the
image by `FIRST_GRADED`) came before the item's own. Counting every pair instead would make a
sync around a widely shared image grow with the square of the cases sharing it.

A link between two forces' cases is not counted while either force's links are held (its intake
went over the case rules' ceiling, federation/intake.py): the change feed holds those links, and a
held force's invented cases must not rise in its priority queue, nor another force's on links to
them, exactly where they matched. Lifting the hold counts them (`recount_force`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from graph import GraphStore
from graph.queries import after_sync as q
from graph.queries import links as lq
from policies.case_rules import CaseRules

# The grades that spare a later viewer the image (as `reading.MEDIA_GRADED_ELSEWHERE`).
GRADED = ["A", "B", "C", "NOT_INDECENT"]
NEVER = 2**62  # the grading time of an item not graded: after any other


@dataclass(frozen=True)
class Around:
    """The other cases around some synced ones: those that share an entity with them now, and
    those that did before their latest write."""

    now: frozenset[str]
    before: frozenset[str]

    @property
    def cases(self) -> frozenset[str]:
        return self.now | self.before


async def around(store: GraphStore, keys: Collection[str]) -> Around:
    rows = await store.read(q.AROUND, {"keys": sorted(keys)})
    found: dict[bool, set[str]] = {True: set(), False: set()}
    for row in rows:
        if row["key"] is not None and row["key"] not in keys:
            found[bool(row["before"])].add(row["key"])
    return Around(now=frozenset(found[False]), before=frozenset(found[True]))


def changed_counts(
    held: dict[str, Any], linked: Iterable[list[str]], avoided: int, rules: CaseRules
) -> dict[str, Any] | None:
    """The counts to write for a case (`held`, a `HELD_COUNTS` row), from the other forces'
    cases it links to (key and risk level) and its views avoided; None when it holds them
    already."""
    risks = {key: risk for key, risk in linked if key is not None}
    cap = rules.links_counted
    high = sorted(key for key, risk in risks.items() if rules.is_high(risk))[:cap]
    counts = {
        "linkedCases": min(len(risks), cap),
        "linkedHigh": high or None,
        "viewsAvoided": avoided,
    }
    holds = {name: held[name] or None for name in counts}
    wanted = {name: value or None for name, value in counts.items()}
    # Zeros are not written on a case that holds none: most new cases link to nothing, and a
    # missing count reads as 0.
    return None if holds == wanted else {"key": held["key"], **counts}


async def count_after_sync(
    store: GraphStore,
    synced: Collection[str],
    near: Around,
    links: Iterable[dict[str, Any]],
    rules: CaseRules,
) -> int:
    """Count again for the synced cases, from their cross-force links the step has just read
    (`links`, rows of `CROSS_FORCE_LINKS`: no second traversal of theirs), and, from the
    graph, for the cases around them; how many changed.

    Only the synced cases' items change an image's first grading: those they hold now, and
    those they held before, whose images are now held only by the cases that shared them
    (`near.before`). A first sync has no before, so its step looks at its own images only."""
    await _first_gradings(store, set(synced) | near.before)
    held = await held_forces(store)
    linked: dict[str, list[list[str]]] = defaultdict(list)
    for row in links:
        if _force(row["other"]) not in held:
            linked[row["case"]].append([row["other"], row["otherRisk"]])
    if near.cases:
        linked.update(await _linked(store, near.cases, rules.links_counted, held))
    return await _write_changed(store, set(synced) | near.cases, linked, rules, held)


async def recount_force(store: GraphStore, force: str, rules: CaseRules) -> int:
    """Count again the links of the force's cases to other forces' cases, and of those cases:
    once a hold on the force is lifted, the links it kept from the counts count. How many
    cases' counts changed."""
    rows = await store.read(q.CROSS_LINKED_OF_FORCE, {"force": force})
    keys = {row["key"] for row in rows} | {row["other"] for row in rows}
    if not keys:
        return 0
    held = await held_forces(store)
    linked = await _linked(store, keys, rules.links_counted, held)
    return await _write_changed(store, keys, linked, rules, held)


async def held_forces(store: GraphStore) -> frozenset[str]:
    """The forces whose link events are held, whose links are therefore not counted."""
    return frozenset(row["force"] for row in await store.read(lq.HELD_FORCES))


def _force(key: str) -> str:
    return key.partition(":")[0]


async def _first_gradings(store: GraphStore, keys: Collection[str]) -> None:
    await store.write(q.FIRST_GRADED, {"keys": sorted(keys), "graded": GRADED})


async def _linked(
    store: GraphStore, keys: Collection[str], cap: int, held: Collection[str]
) -> dict[str, list[list[str]]]:
    params = {"keys": sorted(keys), "cap": cap, "held": sorted(held)}
    rows = await store.read(q.LINKED, params)
    return {row["key"]: row["linked"] for row in rows}


async def _write_changed(
    store: GraphStore,
    keys: Collection[str],
    linked: Mapping[str, list[list[str]]],
    rules: CaseRules,
    held_forces: Collection[str],
) -> int:
    params = {"keys": sorted(keys), "never": NEVER}
    avoided = {row["key"]: row["avoided"] for row in await store.read(q.VIEWS_AVOIDED, params)}
    changed = []
    for held in await store.read(q.HELD_COUNTS, params):
        key = held["key"]
        links = [] if _force(key) in held_forces else linked.get(key, [])
        counts = changed_counts(held, links, int(avoided.get(key, 0)), rules)
        if counts is not None:
            changed.append(counts)
    if changed:
        await store.write(q.SET_LINK_COUNTS, {"cases": changed})
    return len(changed)
