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

from graph import GraphStore
from graph.cases import case_key
from graph.victim_groups import GroupFigures, Join, VictimGroupStore


@dataclass
class Group:
    id: str
    victims: dict[str, Join] = field(default_factory=dict)
    links: set[str] = field(default_factory=set)  # images and series that join two victims
    categories: set[str] = field(default_factory=set)

    @property
    def unidentified(self) -> int:
        return sum(1 for v in self.victims.values() if not v.identified)

    @property
    def cases(self) -> set[str]:
        return {case_key(v.force, v.case_ref) for v in self.victims.values()}

    @property
    def worth_a_look(self) -> bool:
        return self.unidentified > 0 and len(self.cases) > 1

    def figures(self) -> GroupFigures:
        return GroupFigures(
            unidentified=self.unidentified,
            shared_images=sum(1 for link in self.links if link.startswith("Media:")),
            shared_series=sum(1 for link in self.links if link.startswith("Series:")),
            categories=tuple(sorted(self.categories)),
            victims=tuple(sorted(self.victims)),
        )


def group_joins(joins: Iterable[Join]) -> list[Group]:
    """Connected victims: joined wherever two share an image or a series."""
    by_link: dict[str, set[str]] = defaultdict(set)
    by_victim: dict[str, set[str]] = defaultdict(set)
    records: dict[str, Join] = {}
    categories: dict[str, set[str]] = defaultdict(set)
    for join in joins:
        by_link[join.link].add(join.victim)
        by_victim[join.victim].add(join.link)
        records[join.victim] = join
        if join.category:
            categories[join.link].add(join.category)
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


async def regroup(store: GraphStore, case_keys: Collection[str]) -> int:
    """Replace the groups of these cases' victims, and of every victim joined to them, with the
    groups they are in now; how many groups were written."""
    kept = VictimGroupStore(store)
    joins = await kept.joins_around(case_keys)
    cases = set(case_keys) | {case_key(join.force, join.case_ref) for join in joins}
    wanted = {g.id: g for g in group_joins(joins) if g.worth_a_look}
    held = await kept.figures_of_cases(cases)
    # Only groups that changed are written again: most syncs leave most groups as they were.
    # (A group whose anchor stays keeps its id, though its victims were written again.)
    changed = {
        group_id: (figures, sorted(group.cases))
        for group_id, group in wanted.items()
        if held.get(group_id) != (figures := group.figures())
    }
    dropped = sorted(set(held) - set(wanted)) + [g for g in changed if g in held]
    await kept.replace_groups(dropped, changed, case_keys)
    return len(changed)
