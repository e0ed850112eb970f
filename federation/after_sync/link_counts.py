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

from graph import GraphStore
from graph.link_store import Around, CrossLink, LinkCounts, LinkedCase, LinkStore
from policies.case_rules import CaseRules

__all__ = ["Around", "around", "changed_counts", "count_after_sync", "recount_force"]

# The grades that spare a later viewer the image (as `reading.MEDIA_GRADED_ELSEWHERE`).
GRADED = ["A", "B", "C", "NOT_INDECENT"]
NEVER = 2**62  # the grading time of an item not graded: after any other


async def around(store: GraphStore, keys: Collection[str]) -> Around:
    return await LinkStore(store).around(keys)


def changed_counts(
    held: LinkCounts, linked: Iterable[LinkedCase], avoided: int, rules: CaseRules
) -> LinkCounts | None:
    """The counts to write for a case, from what it holds (`held`), the other forces' cases it
    links to and its views avoided; None when it holds them already."""
    risks = {case.key: case.risk for case in linked}
    cap = rules.links_counted
    high = sorted(key for key, risk in risks.items() if rules.is_high(risk))[:cap]
    counts = LinkCounts(held.key, min(len(risks), cap), tuple(high), avoided)
    # Zeros are not written on a case that holds none: most new cases link to nothing, and a
    # missing count reads as 0.
    return None if counts == held else counts


async def count_after_sync(
    store: GraphStore,
    synced: Collection[str],
    near: Around,
    links: Iterable[CrossLink],
    rules: CaseRules,
) -> int:
    """Count again for the synced cases, from their cross-force links the step has just read
    (`links`: no second traversal of theirs), and, from the graph, for the cases around them;
    how many changed.

    Only the synced cases' items change an image's first grading: those they hold now, and
    those they held before, whose images are now held only by the cases that shared them
    (`near.before`). A first sync has no before, so its step looks at its own images only."""
    links_store = LinkStore(store)
    await links_store.mark_first_gradings(set(synced) | near.before, GRADED)
    held = await links_store.held_forces()
    linked: dict[str, list[LinkedCase]] = defaultdict(list)
    for link in links:
        if _force(link.other) not in held:
            linked[link.case].append(LinkedCase(link.other, link.other_risk))
    if near.cases:
        linked.update(await links_store.linked(near.cases, rules.links_counted, held))
    return await _write_changed(links_store, set(synced) | near.cases, linked, rules, held)


async def recount_force(store: GraphStore, force: str, rules: CaseRules) -> int:
    """Count again the links of the force's cases to other forces' cases, and of those cases:
    once a hold on the force is lifted, the links it kept from the counts count. How many
    cases' counts changed."""
    links_store = LinkStore(store)
    keys = await links_store.cross_linked_of_force(force)
    if not keys:
        return 0
    held = await links_store.held_forces()
    linked = await links_store.linked(keys, rules.links_counted, held)
    return await _write_changed(links_store, keys, linked, rules, held)


def _force(key: str) -> str:
    return key.partition(":")[0]


async def _write_changed(
    links_store: LinkStore,
    keys: Collection[str],
    linked: Mapping[str, list[LinkedCase]],
    rules: CaseRules,
    held_forces: Collection[str],
) -> int:
    avoided = await links_store.views_avoided(keys, NEVER)
    changed = []
    for held in await links_store.counts(keys):
        links = [] if _force(held.key) in held_forces else linked.get(held.key, [])
        counts = changed_counts(held, links, avoided.get(held.key, 0), rules)
        if counts is not None:
            changed.append(counts)
    await links_store.write_counts(changed)
    return len(changed)
