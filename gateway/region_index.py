"""The case-facts projection: every case's facts, indexed so that figures cost no scan.

Pure code, with no graph and no event loop in it: feed it facts (`put`, `remove`, `merge`, or
a list at once) and ask it figures, alerts and priority candidates. Per force and risk level it
keeps the groups of `gateway/oversight.py`, whose figures are a few binary searches whatever the
region's size; the open cases are kept ordered by the part of their priority score that does not
change with time. What feeds it from the graph, and how replicas agree, is `gateway/region.py`.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from sortedcontainers import SortedList

from federation.after_sync import regrade
from gateway import oversight, priority
from gateway.activity import ForceActivity
from gateway.open_lists import GroupKey, OpenGroup, Selection, group_of, quiet_since
from gateway.open_lists import Position as Position
from policies.case_facts import DAY_MS, CaseFacts

# A regrade alert's place in the order: its rank (federation/after_sync/regrade.py), then key.
AlertPosition = tuple[Any, ...]
WANT = 51  # cases a list is taken to want: a default page and one more
DENSE_STEPS = 4  # how many times the steps a dense list's density predicts are walked
MERGE_WEIGHT = 1  # a merge's cost, per quiet case of the groups, against a step of that walk


@dataclass(frozen=True)
class OpenAsked:
    """Which open cases a list asks for, as far as the index's sorted lists select them:
    forces, risk levels (None: all), and past target or not (None: either) at `now`."""

    forces: frozenset[str]
    levels: frozenset[str] | None = None
    past_target: bool | None = None
    now: int = 0
    awaiting: bool | None = None  # awaiting enforcement or not (None: either)
    received_before: int | None = None  # referral received before this instant
    team: str | None = None  # held by this team (None: any)
    quiet_before: int | None = None  # last active (or, never, received) before this instant

    def admits(self, fact: CaseFacts) -> bool:
        """The same selection, of one open case."""
        return (
            fact.force in self.forces
            and (self.levels is None or fact.risk_level in self.levels)
            and (self.past_target is None or fact.past_target(self.now) == self.past_target)
            and (self.awaiting is None or fact.awaiting_enforcement() == self.awaiting)
            and (self.received_before is None or fact.received_at < self.received_before)
            and (self.team is None or fact.team == self.team)
            and (self.quiet_before is None or quiet_since(fact) < self.quiet_before)
        )

    def narrowed(self, scope: set[str] | None) -> OpenAsked:
        """Only the forces also in `scope` (None: no narrowing)."""
        return self if scope is None else replace(self, forces=self.forces & scope)


class RegionIndex:
    """Every case's facts, with the per-force and per-risk groups of the oversight figures,
    and the open cases ordered by the static part of their priority score. Built from a list of
    facts at once (each list sorted once), then kept by `put`, `remove` and `merge`.

    Which of two facts of one case is the newer is told by `CaseFacts.seq`, the sequence number
    its write took in the graph: a late copy never replaces a newer one."""

    def __init__(self, facts: Iterable[CaseFacts] = ()) -> None:
        self.facts: dict[str, CaseFacts] = {}
        self._risk: dict[tuple[str, str], oversight.RiskGroup] = defaultdict(oversight.RiskGroup)
        self._force: dict[str, oversight.ForceGroup] = defaultdict(oversight.ForceGroup)
        self._by_static: SortedList[tuple[float, str]] = SortedList()  # (-static score, key), open
        self._open: SortedList[Position] = SortedList()  # (received at, key) of every open case
        # per force: (*rank, key) of its regrade alerts, in the order of their rank
        self._regrade: dict[str, SortedList[AlertPosition]] = defaultdict(SortedList)
        # per force: (oldest seizure, key) of its cases with devices awaiting examination
        self._devices: dict[str, SortedList[Position]] = defaultdict(SortedList)
        # per force, risk level, whether awaiting enforcement and team: its open cases by
        # receipt and by last activity (`oversight { cases }`, gateway/open_lists.py)
        self._waiting: dict[GroupKey, OpenGroup] = defaultdict(OpenGroup)
        # the same per force and whether awaiting enforcement alone: the fewer groups a list
        # by forces, inactivity, wait or awaiting enforcement needs
        self._coarse: dict[tuple[str, bool], OpenGroup] = defaultdict(OpenGroup)
        # The last list's selections: a page's count and its rows select alike, and any change
        # of the facts lets go of them.
        self._selected: tuple[OpenAsked, list[Selection]] | None = None
        self.extend(facts)

    def extend(self, facts: Iterable[CaseFacts]) -> None:
        """Add cases not held yet, each list taking its new values at once."""
        bulk = oversight.Bulk()
        opened: dict[GroupKey, list[CaseFacts]] = defaultdict(list)
        for fact in facts:
            if fact.key not in self.facts:
                self.facts[fact.key] = fact
                self._apply(fact, +1, bulk.add, opened)
        bulk.flush()
        coarse: dict[tuple[str, bool], list[CaseFacts]] = defaultdict(list)
        for (force, _, awaiting, _), added in opened.items():
            coarse[(force, awaiting)] += added
        for group, added in opened.items():
            self._waiting[group].extend(added)
        for wider, added in coarse.items():
            self._coarse[wider].extend(added)

    def __len__(self) -> int:
        return len(self.facts)

    def _apply(
        self,
        fact: CaseFacts,
        sign: int,
        change: oversight.Change | None = None,
        opened: dict[GroupKey, list[CaseFacts]] | None = None,
    ) -> None:
        self._selected = None
        self._risk[(fact.force, fact.risk_level)].apply(fact, sign, change)
        self._force[fact.force].apply(fact, sign, change)
        seized = fact.oldest_unexamined_seized_at
        if fact.devices_unexamined and seized is not None:
            oversight.change_for(sign, change)(self._devices[fact.force], (seized, fact.key))
        if fact.open:
            change = oversight.change_for(sign, change)
            change(self._by_static, (-priority.static_points(fact), fact.key))
            change(self._open, (fact.received_at, fact.key))
            if opened is not None:
                opened[group_of(fact)].append(fact)
            else:
                self._waiting[group_of(fact)].change(fact, sign)
                self._coarse[(fact.force, fact.awaiting_enforcement())].change(fact, sign)
            rank = regrade.regrade_rank(fact)
            if rank is not None:
                change(self._regrade[fact.force], (*rank, fact.key))

    def put(self, fact: CaseFacts) -> None:
        """Hold `fact` in place of what was held for its case."""
        old = self.facts.get(fact.key)
        if old == fact:
            return
        if old is not None:
            self._apply(old, -1)
        self.facts[fact.key] = fact
        self._apply(fact, +1)

    def merge(self, facts: Iterable[CaseFacts]) -> None:
        """Facts read beside other feeding: each replaces the one held unless that one was
        written later; an unchanged one keeps its object."""
        for fact in facts:
            held = self.facts.get(fact.key)
            if held is None or held.seq <= fact.seq:
                self.put(fact)

    def remove(self, key: str, removed_seq: int) -> None:
        """Forget a case removed by the write numbered `removed_seq`, unless written since."""
        old = self.facts.get(key)
        if old is not None and old.seq <= removed_seq:
            del self.facts[key]
            self._apply(old, -1)

    def adopt(self, other: RegionIndex) -> RegionIndex:
        """Take `other`'s facts and indexes; what this held comes back as an index of its own."""
        old = RegionIndex()
        old.facts, old._risk, old._force = self.facts, self._risk, self._force
        old._by_static, old._regrade, old._open = self._by_static, self._regrade, self._open
        old._waiting, old._devices, old._coarse = self._waiting, self._devices, self._coarse
        self.facts, self._risk, self._force = other.facts, other._risk, other._force
        self._by_static, self._regrade, self._open = other._by_static, other._regrade, other._open
        self._waiting, self._devices, self._coarse = other._waiting, other._devices, other._coarse
        self._selected = None
        return old

    def drain(self, page: int) -> Iterator[None]:
        """Let go of everything, a step at a time (a group, or `page` entries of the largest
        list): a caller on an event loop lets others run between steps, since freeing a large
        index at once holds the loop."""
        self._selected = None
        for groups in (
            self._risk,
            self._force,
            self._regrade,
            self._waiting,
            self._coarse,
            self._devices,
        ):
            while groups:
                groups.popitem()
                yield
        for values in (self._by_static, self._open):
            while values:  # from the end, where popping is cheap (a slice is not)
                for _ in range(min(page, len(values))):
                    values.pop()
                yield
        self.facts = {}

    def risk_figures(self, forces: set[str] | None, now: int) -> list[oversight.RiskFigures]:
        return [
            group.figures(force, risk, now)
            for (force, risk), group in sorted(self._risk.items())
            if group.cases and (forces is None or force in forces)
        ]

    def force_figures(self, forces: set[str] | None, now: int) -> list[oversight.ForceFigures]:
        return [
            group.figures(force, now)
            for force, group in sorted(self._force.items())
            if group.received and (forces is None or force in forces)
        ]

    def _regrade_lists(self, forces: set[str] | None) -> list[SortedList[Any]]:
        return [
            alerts
            for force, alerts in sorted(self._regrade.items())
            if forces is None or force in forces
        ]

    def regrade_alerts(self, forces: set[str] | None, first: int) -> list[CaseFacts]:
        """The `first` open LOW and MEDIUM cases with signs of higher risk, in rank order:
        the forces' sorted lists merged up to `first`, never all of them listed."""
        merged = heapq.merge(*self._regrade_lists(forces))
        return [self.facts[key] for *_, key in itertools.islice(merged, first)]

    def regrade_count(self, forces: set[str] | None) -> int:
        return sum(map(len, self._regrade_lists(forces)))

    def regrade_after(
        self, forces: set[str] | None, after: AlertPosition | None
    ) -> Iterator[CaseFacts]:
        """The regrade alerts of `forces` in the order of their rank, after the position
        `after` if given: each force's list entered by a binary search, merged as walked."""
        lists = self._regrade_lists(forces)
        ranges = [
            alerts.islice(0 if after is None else alerts.bisect_right(after)) for alerts in lists
        ]
        for *_, key in heapq.merge(*ranges):
            yield self.facts[key]

    def devices_oldest_first(
        self, forces: set[str], after: Position | None, seized_before: int | None
    ) -> Iterator[CaseFacts]:
        """The cases of `forces` with devices awaiting examination, oldest seizure first (ties
        by key), after `after` if given, seized before `seized_before` if given."""
        ranges = []
        for force in sorted(forces):
            values = self._devices.get(force)
            if not values:
                continue
            start = 0 if after is None else values.bisect_right(after)
            stop = len(values) if seized_before is None else values.bisect_left((seized_before, ""))
            ranges.append(values.islice(start, stop))
        for _, key in heapq.merge(*ranges):
            yield self.facts[key]

    def devices_count(self, forces: set[str], seized_before: int | None) -> int:
        total = 0
        for force in forces:
            values = self._devices.get(force)
            if values:
                total += (
                    len(values)
                    if seized_before is None
                    else values.bisect_left((seized_before, ""))
                )
        return total

    def views_avoided(self, forces: set[str] | None) -> dict[str, int]:
        return {
            force: group.views_avoided
            for force, group in sorted(self._force.items())
            if group.views_avoided and (forces is None or force in forces)
        }

    def activity(self, forces: set[str] | None, low: int, high: int) -> list[ForceActivity]:
        """A row per force with cases: what it did in `[low, high)`, epoch milliseconds."""
        return [
            group.activity(force, low, high)
            for force, group in sorted(self._force.items())
            if group.received and (forces is None or force in forces)
        ]

    def first_enforced(
        self, forces: set[str], band: str, low: int, high: int, after: Position | None
    ) -> Iterator[CaseFacts]:
        """The forces' cases first enforced in `[low, high)` after a wait in `band`, earliest
        action first, after the position (first action, key) `after` if given."""
        for key in oversight.first_enforced(self._force, forces, band, low, high, after):
            yield self.facts[key]

    def first_enforced_count(self, forces: set[str], band: str, low: int, high: int) -> int:
        return oversight.first_enforced_count(self._force, forces, band, low, high)

    def _selections(self, asked: OpenAsked) -> list[Selection]:
        """What `asked` selects of each group of open cases: groups by force, risk level, team
        and awaiting enforcement (by force and awaiting enforcement alone where the filter
        names no level, team or target); within one, a range of receipt (before
        `received_before`; for `past_target`, the cases awaiting enforcement received before
        their target's cut, or the rest) and the activity bound (gateway/open_lists.py)."""
        if self._selected is not None and self._selected[0] == asked:
            return self._selected[1]
        out = []
        if asked.levels is None and asked.team is None and asked.past_target is None:
            for (force, awaiting), group in self._coarse.items():
                if not group or force not in asked.forces:
                    continue
                if asked.awaiting is not None and awaiting != asked.awaiting:
                    continue
                high = asked.received_before
                out.append(Selection(group, self.facts, None, high, asked.quiet_before))
            self._selected = (asked, out)
            return out
        for (force, level, awaiting, team), group in self._waiting.items():
            if not group or force not in asked.forces:
                continue
            if asked.levels is not None and level not in asked.levels:
                continue
            if asked.awaiting is not None and awaiting != asked.awaiting:
                continue
            if asked.team is not None and team != asked.team:
                continue
            low, high = None, asked.received_before
            if asked.past_target is not None:
                if awaiting:
                    rules = self.facts[group.by_received[0][1]].rules  # one region, one rules
                    due = asked.now - rules.target_days[level] * DAY_MS
                    if asked.past_target:
                        high = due if high is None else min(high, due)
                    else:
                        low = due
                elif asked.past_target:
                    continue
            out.append(Selection(group, self.facts, low, high, asked.quiet_before))
        self._selected = (asked, out)
        return out

    def open_oldest_first(
        self, asked: OpenAsked, after: Position | None = None, *, want: int = WANT
    ) -> Iterator[CaseFacts]:
        """The open cases `asked` selects, oldest referral first (ties by key), after the
        position `after` if given, of which a caller means to take about `want`.

        Each group's selection is entered by a binary search and the groups merged as walked;
        but a merge needs each group's first case, and for cases quiet since a cut that is
        found only by looking through the group. So where the selection is dense among the
        open cases, they are walked in receipt order instead, each tested against the filter,
        for a few times the steps its density predicts; whatever that did not reach is taken
        from the merge, after the last case walked."""
        selections = self._selections(asked)
        last = after
        if asked.quiet_before is not None:
            total = sum(s.count() for s in selections)
            merge_cost = sum(s.quiet for s in selections)
            steps = DENSE_STEPS * (want + 1) * len(self._open) // max(total, 1)
            if total and steps < MERGE_WEIGHT * merge_cost:
                start = 0 if after is None else self._open.bisect_right(after)
                for position in self._open.islice(start, start + steps):
                    last = position
                    fact = self.facts[position[1]]
                    if asked.admits(fact):
                        yield fact
                if start + steps >= len(self._open):  # every open case tested
                    return
        for _, key in heapq.merge(*(s.walk(last) for s in selections)):
            yield self.facts[key]

    def open_count(self, asked: OpenAsked) -> int:
        """How many open cases `asked` selects: a few binary searches per group."""
        return sum(s.count() for s in self._selections(asked))

    def forces(self) -> list[str]:
        return sorted(force for force, group in self._force.items() if group.received)

    def open_by_static_score(self) -> Iterator[tuple[float, CaseFacts]]:
        for negative, key in self._by_static:
            yield -negative, self.facts[key]

    def candidates(
        self,
        visible: Iterable[str],
        now: int,
        first: int,
        accept: Callable[[CaseFacts], bool] | None = None,
    ) -> list[CaseFacts]:
        """Open cases of the visible forces (that `accept` takes, if given) that can make the
        top `first`: walk from the highest static score; stop once no later case could beat the
        `first`-th best score even with the most waiting time."""
        forces = set(visible)
        best: list[float] = []
        walked = []
        for static, fact in self.open_by_static_score():
            if fact.force not in forces or (accept is not None and not accept(fact)):
                continue
            if len(best) >= first and static + priority.most_waiting_points(fact.rules) < best[0]:
                break
            score = priority.points(fact, now)
            walked.append((score, fact))
            bisect.insort(best, score)
            if len(best) > first:
                best.pop(0)
        floor = best[0] if len(best) >= first else float("-inf")
        return [fact for score, fact in walked if score >= floor]
