"""Victim groups, kept by the after-sync step: victims of one or more forces depicted by the
same image (one `Media` node, however each force wrote its hash) or whose cases hold the same
series, which may be the same child. Only groups worth a look are kept: some victim not yet
identified, in more than one case. They are kept at sync because finding them at read time
would walk the graph's images and series on every request (docs/scaling.md).

A sync changes the groups of its cases' victims and of the cases around it (`link_counts.around`:
those that share an entity with it now or did before), so the step follows the joins out from
those victims until no new one turns up, and replaces the groups they were in with the groups
they are in now. A group is named by its anchor, the least of its images and series, so it
keeps its id (and its claim and actions) while the anchor stays in it."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from graph import GraphStore
from graph.cases import case_key
from graph.queries import victims as q


@dataclass
class Group:
    id: str
    victims: dict[str, dict[str, Any]] = field(default_factory=dict)
    links: set[str] = field(default_factory=set)  # images and series that join two victims
    categories: set[str] = field(default_factory=set)

    @property
    def unidentified(self) -> int:
        return sum(1 for v in self.victims.values() if not v.get("identified"))

    @property
    def worth_a_look(self) -> bool:
        cases = {(v["force"], v["caseRef"]) for v in self.victims.values()}
        return self.unidentified > 0 and len(cases) > 1

    def props(self) -> dict[str, Any]:
        return {
            "unidentified": self.unidentified,
            "sharedImages": sum(1 for link in self.links if link.startswith("Media:")),
            "sharedSeries": sum(1 for link in self.links if link.startswith("Series:")),
            "categories": sorted(self.categories),
        }


def group_rows(rows: Iterable[dict[str, Any]]) -> list[Group]:
    """Connected victims: joined wherever two share an image or a series."""
    by_link: dict[str, set[str]] = defaultdict(set)
    by_victim: dict[str, set[str]] = defaultdict(set)
    records: dict[str, dict[str, Any]] = {}
    categories: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        by_link[row["link"]].add(row["victim"])
        by_victim[row["victim"]].add(row["link"])
        records[row["victim"]] = row
        if row.get("category"):
            categories[row["link"]].add(row["category"])
    groups, seen = [], set()
    for start in sorted(by_victim):
        if start in seen:
            continue
        group_links: set[str] = set()
        members, stack = set(), [start]
        while stack:
            victim = stack.pop()
            if victim in members:
                continue
            members.add(victim)
            for link in by_victim[victim]:
                group_links.add(link)
                stack.extend(by_link[link] - members)
        seen |= members
        anchor = hashlib.sha256(min(group_links).encode()).hexdigest()[:20]
        group = Group(f"vg-{anchor}", {v: records[v] for v in members})
        group.categories = {c for link in group_links for c in categories[link]}
        group.links = {link for link in group_links if len(by_link[link]) > 1}
        groups.append(group)
    return groups


async def joined_rows(store: GraphStore, case_keys: Collection[str]) -> list[dict[str, Any]]:
    """The joins of these cases' victims, followed out until no new victim turns up."""
    rows = await store.read(q.VICTIMS_OF_CASES, {"keys": sorted(case_keys)})
    frontier = {row["victim"] for row in rows}
    seen: set[str] = set()
    found: list[dict[str, Any]] = []
    while frontier:
        seen |= frontier
        params = {"victims": sorted(frontier)}
        batch = await store.read(q.MEDIA_JOINS, params) + await store.read(q.SERIES_JOINS, params)
        found += batch
        frontier = {row["victim"] for row in batch} - seen
    # A victim identified through the hub counts as identified before its force's record says so.
    here = await store.read(q.IDENTIFIED_OF, {"victims": sorted(seen)})
    identified = {row["victim"] for row in here}
    return [row | {"identified": True} if row["victim"] in identified else row for row in found]


async def regroup(store: GraphStore, case_keys: Collection[str]) -> int:
    """Replace the groups of these cases' victims, and of every victim joined to them, with the
    groups they are in now; how many groups were written."""
    rows = await joined_rows(store, case_keys)
    cases = set(case_keys) | {case_key(row["force"], row["caseRef"]) for row in rows}
    wanted = {g.id: _written(g) for g in group_rows(rows) if g.worth_a_look}
    held = {row.pop("id"): row for row in await store.read(q.GROUPS_OF, {"keys": sorted(cases)})}
    # Only groups that changed are written again: most syncs leave most groups as they were.
    # (A group whose anchor stays keeps its id, though its victims were written again.)
    changed = [x for x in wanted.values() if held.get(x["id"]) != x["props"]]
    dropped = sorted(set(held) - set(wanted)) + [x["id"] for x in changed if x["id"] in held]
    if dropped:
        await store.write(q.DROP_GROUPS, {"ids": dropped})
    if await store.read(q.REMOVED, {"keys": sorted(case_keys)}):
        await store.write(q.DROP_CASELESS_GROUPS)
    if changed:
        await store.write(q.WRITE_GROUPS, {"groups": changed})
    return len(changed)


def _written(group: Group) -> dict[str, Any]:
    cases = {case_key(v["force"], v["caseRef"]) for v in group.victims.values()}
    props = group.props() | {"victims": sorted(group.victims)}
    return {"id": group.id, "props": props, "cases": sorted(cases)}
