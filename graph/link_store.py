"""Cross-force links and the link counts the after-sync step keeps on each case, as typed values.

A link is a path Case -> entity <- Case between two forces' cases. The step reads the links of
the cases a sync wrote (`cross_force_links`), the cases around them (`around`), and keeps on each
case how many other forces' cases it links to, which of those are high risk, and how many of its
images an earlier grading spares its officers (`LinkCounts`). How those are counted is
`federation/after_sync/link_counts.py`; this module only reads and writes them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from graph.port import GraphStore
from graph.queries import after_sync as q
from graph.queries import changes as cq
from graph.queries import links as lq


class CrossLink(NamedTuple):
    """A synced case, another force's case and the kind of entity they share. A sync around a
    widely shared image reads many of these, so they are tuples: the cheapest typed value."""

    case: str  # the synced case's key
    force: str
    case_ref: str
    label: str  # the shared entity's label (`Media`, `Person`, ...)
    other: str  # the other case's key
    other_force: str
    other_case_ref: str
    other_risk: str
    other_linked: int  # how many links the other case held at the last count around it

    @property
    def kind(self) -> str:
        """The entity's kind as the change feed names it (`MEDIA`, `PERSON`, ...)."""
        return lq.ENTITY_KINDS[self.label]


class LinkedCase(NamedTuple):
    """Another force's case a case links to, with its risk level."""

    key: str
    risk: str


@dataclass(frozen=True)
class Around:
    """The other cases around some synced ones: those that share an entity with them now, and
    those that did before their latest write."""

    now: frozenset[str]
    before: frozenset[str]

    @property
    def cases(self) -> frozenset[str]:
        return self.now | self.before


@dataclass(frozen=True)
class LinkCounts:
    """What a case holds of its links; a count the case does not hold reads as 0 (or none)."""

    key: str
    linked_cases: int = 0  # other forces' cases it links to, up to the case rules' cap
    linked_high: tuple[str, ...] = ()  # the keys of those graded high risk
    views_avoided: int = 0  # its media items another case (or a hash set) graded first


@dataclass(frozen=True)
class LinkStore:
    """Reads of cross-force links and reads and writes of link counts, over one graph store."""

    store: GraphStore

    async def cross_force_links(self, keys: Collection[str]) -> list[CrossLink]:
        """One link per (case, other force's case, kind of shared entity), for these cases."""
        if not keys:
            return []
        rows = await self.store.read(cq.CROSS_FORCE_LINKS, {"keys": sorted(set(keys))})
        return [
            CrossLink(row["case"], row["force"], row["caseRef"], row["label"], row["other"],
                      row["otherForce"], row["otherCaseRef"], row["otherRisk"],
                      int(row["otherLinked"] or 0))
            for row in rows
        ]  # fmt: skip

    async def around(self, keys: Collection[str]) -> Around:
        """The other cases that share an entity with these now, and those that did before
        their latest write (kept as `touched`, on the tombstone of a removed case)."""
        synced = set(keys)
        rows = await self.store.read(q.AROUND, {"keys": sorted(synced)})
        found: dict[bool, set[str]] = {True: set(), False: set()}
        for row in rows:
            if row["key"] is not None and row["key"] not in synced:
                found[bool(row["before"])].add(str(row["key"]))
        return Around(now=frozenset(found[False]), before=frozenset(found[True]))

    async def cross_linked_of_force(self, force: str) -> frozenset[str]:
        """The force's cases that share an entity with other forces' cases, and those cases."""
        rows = await self.store.read(q.CROSS_LINKED_OF_FORCE, {"force": force})
        return frozenset(str(row["key"]) for row in rows) | {str(row["other"]) for row in rows}

    async def held_forces(self) -> frozenset[str]:
        """The forces whose link events are held (their intake went over the ceiling)."""
        return frozenset(str(row["force"]) for row in await self.store.read(lq.HELD_FORCES))

    async def mark_first_gradings(self, keys: Collection[str], graded: Sequence[str]) -> None:
        """Keep on each image of these cases when it was first given one of the `graded`
        grades, by any case or by an imported hash set listing it."""
        await self.store.write(q.FIRST_GRADED, {"keys": sorted(keys), "graded": list(graded)})

    async def linked(
        self, keys: Collection[str], cap: int, held: Collection[str]
    ) -> dict[str, list[LinkedCase]]:
        """Per case: up to `cap` other forces' cases it links to, none of the `held` forces."""
        params = {"keys": sorted(keys), "cap": cap, "held": sorted(held)}
        rows = await self.store.read(q.LINKED, params)
        return {
            str(row["key"]): [LinkedCase(k, risk) for k, risk in row["linked"] if k is not None]
            for row in rows
        }

    async def views_avoided(self, keys: Collection[str], never: int) -> dict[str, int]:
        """Per case with any: its media items graded elsewhere before its own grading (an item
        it has not graded counts as graded at `never`)."""
        params = {"keys": sorted(keys), "never": never}
        rows = await self.store.read(q.VIEWS_AVOIDED, params)
        return {str(row["key"]): int(row["avoided"]) for row in rows}

    async def counts(self, keys: Collection[str]) -> list[LinkCounts]:
        """What these cases hold now (cases not in the graph are left out)."""
        rows = await self.store.read(q.HELD_COUNTS, {"keys": sorted(keys)})
        return [
            LinkCounts(str(row["key"]), int(row["linkedCases"] or 0),
                       tuple(row["linkedHigh"] or ()), int(row["viewsAvoided"] or 0))
            for row in rows
        ]  # fmt: skip

    async def write_counts(self, counts: Sequence[LinkCounts]) -> None:
        """Write the cases' counts, stamping each as any write of a case is, so the replicas'
        read models take them up."""
        if not counts:
            return
        cases = [
            {"key": c.key, "linkedCases": c.linked_cases, "linkedHigh": list(c.linked_high) or None,
             "viewsAvoided": c.views_avoided}
            for c in counts
        ]  # fmt: skip
        await self.store.write(q.SET_LINK_COUNTS, {"cases": cases})
