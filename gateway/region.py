"""The region's case facts, kept in step with the graph, indexed so figures cost no scan.

A gateway replica holds every case's facts (no personal data) and, per force and risk level,
sorted lists of the dates its figures count between: figures are then a few binary searches
whatever the region's size. The lists are `SortedList`s: a case changes in O(log n), where a
plain list's insert moves half the list (a reload of 300,000 cases took 40 s that way). Each
request first brings the facts up to date with indexed
queries for cases written and removed (tombstones) since the last look; a count of cases notices
a write the window missed (a full reload then), and the periodic full reload, a safety net, runs
beside the requests, a page of cases at a time. Nothing here is the source of truth: the graph
is, so every replica agrees.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import gc
import heapq
import itertools
import logging
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import prometheus_client
from sortedcontainers import SortedList

from federation.after_sync import regrade
from gateway import oversight, priority
from graph import GraphStore, GraphUnavailable
from graph.queries import reading
from policies.case_facts import DAY_MS, CaseFacts, facts_of
from policies.case_rules import CaseRules

# Writes are stamped with `syncedAt` by the graph's clock; a look back this far covers writes
# that committed a little after their statement read the clock. A write missed anyway is caught
# by the count check (new or removed cases) or by the periodic full reload.
CLOCK_SKEW_MS = 5_000
RELOAD_EVERY_SECONDS = 600.0
# Node ids per page of a full reload: about 450 cases at about 11 nodes a case, whose reading and
# indexing (some 40 µs a case) hold the event loop for about 20 ms before the next request's turn.
ID_PAGE = 5_000
RELEASE_PAGE = 20_000  # entries freed, or keys a reload checks, between turns of the event loop
NO_FULL_COLLECTIONS = 2**30  # middle collections before a full one: never, in practice

log = logging.getLogger("crossforce.gateway")

REGION_RELOADS = prometheus_client.Histogram(
    "crossforce_region_reload_duration_seconds",
    "Full reloads of this replica's region facts: the first load, the periodic safety net, and "
    "those a catch-up found necessary; time from the first page read to the new facts taken",
    ["kind"],
    buckets=(0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600),
)
REGION_RELOADS_STARTED = prometheus_client.Counter(
    "crossforce_region_reloads_started",
    "Periodic reloads of this replica's region facts started beside the requests",
)


T = TypeVar("T")


def _add(values: SortedList[T], value: T) -> None:
    values.add(value)


def _drop(values: SortedList[T], value: T) -> None:
    values.discard(value)


Change = Callable[[SortedList[Any], Any], None]


class _Bulk:
    """Adds for a reload: kept aside, then each list takes its values at once, sorted in one
    go, instead of one O(log n) insert at a time."""

    def __init__(self) -> None:
        self._pending: dict[int, tuple[SortedList[Any], list[Any]]] = {}

    def add(self, values: SortedList[Any], value: Any) -> None:
        pending = self._pending.get(id(values))
        if pending is None:
            pending = self._pending[id(values)] = (values, [])
        pending[1].append(value)

    def flush(self) -> None:
        for values, added in self._pending.values():
            values.update(added)
        self._pending.clear()


def _between(values: SortedList[float], low: float, high: float) -> int:
    """How many values v with low <= v < high."""
    return int(values.bisect_left(high) - values.bisect_left(low))


@dataclass
class _RiskGroup:
    cases: int = 0
    open: int = 0
    # due_at, and received_at, of open cases awaiting enforcement
    due: SortedList[float] = field(default_factory=SortedList)
    waiting_since: SortedList[float] = field(default_factory=SortedList)
    days: SortedList[float] = field(default_factory=SortedList)  # to enforcement, enforced cases
    within_target: int = 0

    def apply(self, fact: CaseFacts, sign: int, change: Change | None = None) -> None:
        change = change or (_add if sign > 0 else _drop)
        self.cases += sign
        self.open += sign if fact.open else 0
        if fact.awaiting_enforcement():
            change(self.due, fact.due_at)
            change(self.waiting_since, fact.received_at)
        days = fact.days_to_enforcement()
        if days is not None:
            change(self.days, days)
            self.within_target += sign if days <= fact.target_days else 0

    def figures(self, force: str, risk: str, now: int) -> oversight.RiskFigures:
        row = oversight.RiskFigures(force, risk, cases=self.cases, open=self.open)
        row.past_target = self.due.bisect_left(now)
        row.due_soon = _between(self.due, now, now + oversight.DUE_SOON_MS + 1)
        row.backlog_by_age = _bands(self.waiting_since, now)
        if self.days:
            row.enforced_within_target_share = self.within_target / len(self.days)
            row.median_days_to_enforcement = oversight.median_of_sorted(self.days)
            row.p90_days_to_enforcement = oversight.percentile_of_sorted(self.days, 0.9)
        return row


def _bands(starts: SortedList[float], now: int) -> dict[str, int]:
    """Counts by age band (as `oversight.age_band`) of the dates in `starts`, aged at `now`.
    An age in [low, high) days is a start in (now - high days, now - low days]; the first band
    also takes dates a little in the future."""
    out = {}
    for label, low, high in oversight.AGE_BANDS:
        upper = float("inf") if low == 0 else now - low * DAY_MS
        lower = float("-inf") if high is None else now - high * DAY_MS
        count = starts.bisect_right(upper) - starts.bisect_right(lower)
        if count:
            out[label] = count
    return out


@dataclass
class _ForceGroup:
    referrals: Counter[tuple[str, str]] = field(default_factory=Counter)
    received: SortedList[float] = field(default_factory=SortedList)
    enforced: SortedList[float] = field(default_factory=SortedList)
    open_activity: SortedList[float] = field(default_factory=SortedList)
    # one entry per device awaiting examination
    seized: SortedList[float] = field(default_factory=SortedList)
    safeguarding_days: SortedList[float] = field(default_factory=SortedList)
    views_avoided: int = 0
    # (-signs, force, case ref, key) of its regrade alerts: most signs first
    regrade: SortedList[tuple[int, str, str, str]] = field(default_factory=SortedList)

    def apply(self, fact: CaseFacts, sign: int, change: Change | None = None) -> None:
        change = change or (_add if sign > 0 else _drop)
        self.referrals[(oversight.month_of(fact.received_at), fact.source)] += sign
        self.views_avoided += sign * fact.views_avoided
        change(self.received, fact.received_at)
        if fact.enforcement_at is not None:
            change(self.enforced, fact.enforcement_at)
        if fact.open:
            change(self.open_activity, fact.last_activity_at or fact.opened_at or fact.received_at)
        if fact.devices_unexamined and fact.oldest_unexamined_seized_at is not None:
            for _ in range(fact.devices_unexamined):
                change(self.seized, fact.oldest_unexamined_seized_at)
        if fact.first_safeguarding_at is not None:
            change(self.safeguarding_days, (fact.first_safeguarding_at - fact.received_at) / DAY_MS)

    def figures(self, force: str, now: int) -> oversight.ForceFigures:
        by_source = sorted((m, s, n) for (m, s), n in self.referrals.items() if n)
        totals: Counter[str] = Counter()
        for month, _, count in by_source:
            totals[month] += count
        months = oversight.months_between(min(totals), max(totals)) if totals else []
        monthly = [(m, totals.get(m, 0)) for m in months]
        since = now - oversight.ACTIVITY_DAYS * DAY_MS
        return oversight.ForceFigures(
            force=force,
            referrals_by_month=by_source,
            monthly_totals=monthly,
            trend=oversight.trend(monthly),
            new_cases_28_days=_between(self.received, since, now + 1),
            enforcements_28_days=_between(self.enforced, since, now + 1),
            inactive_30_days=self.open_activity.bisect_left(now - oversight.INACTIVE_DAYS * DAY_MS),
            devices_awaiting_examination=_bands(self.seized, now),
            median_days_to_first_safeguarding=oversight.median_of_sorted(self.safeguarding_days),
        )


class RegionIndex:
    """Every case's facts, with the per-force and per-risk indexes of the oversight figures,
    and the cases ordered by the part of their priority score that does not change with time.
    Built from a list of facts at once (sorted once per list), then kept by `put` and `remove`."""

    def __init__(self, facts: Iterable[CaseFacts] = ()) -> None:
        self.facts: dict[str, CaseFacts] = {}
        self._risk: dict[tuple[str, str], _RiskGroup] = defaultdict(_RiskGroup)
        self._force: dict[str, _ForceGroup] = defaultdict(_ForceGroup)
        self._by_static: SortedList[tuple[float, str]] = SortedList()  # (-static score, key), open
        self.extend(facts)

    def extend(self, facts: Iterable[CaseFacts]) -> None:
        """Add cases not held yet, each list taking its new values at once."""
        bulk = _Bulk()
        for fact in facts:
            if fact.key not in self.facts:
                self.facts[fact.key] = fact
                self._apply(fact, +1, bulk.add)
        bulk.flush()

    def __len__(self) -> int:
        return len(self.facts)

    def _apply(self, fact: CaseFacts, sign: int, change: Change | None = None) -> None:
        self._risk[(fact.force, fact.risk_level)].apply(fact, sign, change)
        self._force[fact.force].apply(fact, sign, change)
        if fact.open:
            change = change or (_add if sign > 0 else _drop)
            change(self._by_static, (-priority.static_points(fact), fact.key))
            rank = regrade.regrade_rank(fact)
            if rank is not None:
                change(self._force[fact.force].regrade, (*rank, fact.key))

    def put(self, fact: CaseFacts) -> None:
        old = self.facts.get(fact.key)
        if old == fact:
            return
        if old is not None:
            self._apply(old, -1)
        self.facts[fact.key] = fact
        self._apply(fact, +1)

    def merge(self, facts: Iterable[CaseFacts]) -> None:
        """Facts read beside the catch-ups: each replaces the one held unless that one was
        written later (a catch-up brought it meanwhile); an unchanged one keeps its object."""
        for fact in facts:
            held = self.facts.get(fact.key)
            if held is None or held.synced_at <= fact.synced_at:
                self.put(fact)

    def remove(self, key: str, removed_at: int) -> None:
        """Forget a case removed at `removed_at` (graph time), unless written again since."""
        old = self.facts.get(key)
        if old is not None and old.synced_at <= removed_at:
            del self.facts[key]
            self._apply(old, -1)

    def _adopt(self, other: RegionIndex) -> RegionIndex:
        """Take `other`'s facts and indexes; what this held comes back as an index of its own."""
        old = RegionIndex()
        old.facts, old._risk, old._force = self.facts, self._risk, self._force
        old._by_static = self._by_static
        self.facts, self._risk, self._force = other.facts, other._risk, other._force
        self._by_static = other._by_static
        return old

    async def release(self) -> None:
        """Let go of everything a few groups at a time, with the event loop's turn between:
        freeing a million cases' lists at once held requests for a second."""
        for groups in (self._risk, self._force):
            while groups:
                groups.popitem()
                await asyncio.sleep(0)
        while self._by_static:  # from the end, where popping is cheap (a slice is not)
            for _ in range(min(RELEASE_PAGE, len(self._by_static))):
                self._by_static.pop()
            await asyncio.sleep(0)
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
        return [g.regrade for f, g in sorted(self._force.items()) if forces is None or f in forces]

    def regrade_alerts(self, forces: set[str] | None, first: int) -> list[CaseFacts]:
        """The `first` open LOW and MEDIUM cases with signs of higher risk, most signs first:
        the forces' lists merged, up to `first` (listing all 200,000 of a million cases took
        a third of a second)."""
        merged = heapq.merge(*self._regrade_lists(forces))
        return [self.facts[key] for *_, key in itertools.islice(merged, first)]

    def regrade_count(self, forces: set[str] | None) -> int:
        return sum(map(len, self._regrade_lists(forces)))

    def views_avoided(self, forces: set[str] | None) -> dict[str, int]:
        return {
            force: group.views_avoided
            for force, group in sorted(self._force.items())
            if group.views_avoided and (forces is None or force in forces)
        }

    def forces(self) -> list[str]:
        return sorted(force for force, group in self._force.items() if group.received)

    def open_by_static_score(self) -> Iterator[tuple[float, CaseFacts]]:
        for negative, key in self._by_static:
            yield -negative, self.facts[key]

    def candidates(self, visible: Iterable[str], now: int, first: int) -> list[CaseFacts]:
        """Open cases of the visible forces that can make the top `first`: walk from the highest
        static score; stop once no later case could beat the `first`-th best score even with
        the most waiting time."""
        forces = set(visible)
        best: list[float] = []
        walked = []
        for static, fact in self.open_by_static_score():
            if fact.force not in forces:
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


class RegionFacts(RegionIndex):
    """This replica's index of the region, kept in step with the graph."""

    def __init__(self, rules: CaseRules, reload_every: float = RELOAD_EVERY_SECONDS) -> None:
        super().__init__()
        self.rules = rules  # the case rules every fact is read under
        self.reload_every = reload_every
        self.watermark = 0
        self._lock = asyncio.Lock()
        self._refreshed_at = float("-inf")
        self._reloaded_at = float("-inf")
        self._graph_clock = 0  # the graph's time at the last catch-up
        self._loaded = False
        self._reloading: asyncio.Task[None] | None = None

    async def refresh(self, store: GraphStore) -> None:
        """Bring the facts up to date with the graph: what was written and removed since the
        last look. The first look loads every case; the periodic reload (a safety net, every
        `reload_every` seconds) runs beside the requests, which go on answering from the facts
        they have: at a million cases it takes seconds.

        Requests that arrive while a refresh runs wait for it and use its result: under load,
        one refresh serves many requests instead of each queueing for its own."""
        arrived = time.monotonic()
        async with self._lock:
            if self._refreshed_at >= arrived:
                return
            started = time.monotonic()
            if not self._loaded:
                await self._reload(store)
            else:
                if started - self._reloaded_at > self.reload_every:
                    self._reload_in_background(store)
                await self._catch_up(store)
            self._refreshed_at = started

    async def _catch_up(self, store: GraphStore) -> None:
        # Looking back from the graph's clock at the previous look, not only from the newest
        # stamp seen: once writes stop, the window empties instead of re-reading the last burst.
        since = max(0, max(self.watermark, self._graph_clock) - CLOCK_SKEW_MS)
        # Removals first, with the clock: whatever is written after it is in the next window.
        removed = await store.read(reading.REMOVED_SINCE, {"since": since})
        counted = await store.read(reading.CASE_COUNT)
        newest = 0
        for row in await store.read(reading.CASE_METADATA_SINCE, {"since": since}):
            self.put(facts_of(row, self.rules))
            newest = max(newest, int(row.get("syncedAt") or 0))
        self.watermark = max(self.watermark, newest)
        for row in removed:
            if row["key"] is not None:
                self.remove(row["key"], int(row["removedAt"]))
        self._graph_clock = int(removed[0]["now"])
        cases = int(counted[0]["cases"])
        missed = len(self.facts) < cases  # a write the window did not catch
        # More facts than cases, and none written since the count: cases went without a
        # tombstone (an operator's clean-up). Rare, and the figures must not keep them.
        vanished = len(self.facts) > cases and newest < self._graph_clock
        if missed or vanished:
            await self._reload(store)

    def _reload_in_background(self, store: GraphStore) -> None:
        if self._reloading is None or self._reloading.done():
            self._reloaded_at = time.monotonic()
            REGION_RELOADS_STARTED.inc()
            self._reloading = asyncio.create_task(self._reload_beside(store))

    async def _reload_beside(self, store: GraphStore) -> None:
        """The safety net, beside the requests: every case read again a page at a time, and
        merged into the facts held (`merge`) under the refresh lock, so that it never interleaves
        with a catch-up and a request waiting to refresh goes first (the lock is first come,
        first served): a request waits for one page's merge at most. Then the cases it did not
        find are forgotten. Nothing is built aside and swapped in: building a second index of a
        million cases, and letting go of the first, held requests for up to a third of a second
        (bench p99 129 ms)."""
        started = time.monotonic()
        try:
            with _full_collections_paused():
                clock = int((await store.read(reading.GRAPH_CLOCK))[0]["now"])
                seen: set[str] = set()
                async for page in self._pages(store):
                    async with self._lock:  # requests waiting to refresh go first: FIFO
                        self.merge(page)
                    seen.update(fact.key for fact in page)
                await self._forget_unseen(seen, clock)
        except GraphUnavailable:
            log.warning("region facts: reload failed, the graph is unavailable")
            return
        _reloaded("periodic", started, len(self.facts))

    async def _forget_unseen(self, seen: set[str], clock: int) -> None:
        """Forget the cases a reload did not find, unless written since it began (`clock`):
        removed without a tombstone. A page of keys at a time, the requests' turn between."""
        keys = list(self.facts)
        for start in range(0, len(keys), RELEASE_PAGE):
            async with self._lock:
                for key in keys[start : start + RELEASE_PAGE]:
                    if key not in seen:
                        self.remove(key, clock)

    async def _reload(self, store: GraphStore) -> None:
        # Every fact is new here: automatic collections would walk the growing index again
        # and again (up to half a second each, `gc.callbacks`); `_take` collects once.
        started = time.monotonic()
        with _collector_paused():
            replaced = self._take(*await self._snapshot(store))
        _reloaded("catch-up" if self._reloaded_at > float("-inf") else "first", started, len(self))
        await replaced.release()
        self._reloaded_at = time.monotonic()

    async def _snapshot(self, store: GraphStore) -> tuple[int, RegionIndex, int]:
        """The graph's time, every case's facts, and the newest write among them. Read and
        indexed a page of node ids at a time, with the event loop's turn between pages.
        (Built at once, in a thread, a million cases held requests for over a second: sorting a
        list does not let go of the interpreter lock.) A case unchanged since the facts held
        now keeps its object: see `_take`."""
        clock = int((await store.read(reading.GRAPH_CLOCK))[0]["now"])
        fresh, newest, held = RegionIndex(), 0, self.facts
        async for page in self._pages(store):
            facts = [_same_or(held.get(fact.key), fact) for fact in page]
            fresh.extend(facts)
            newest = max(newest, max((f.synced_at for f in facts), default=0))
        return clock, fresh, newest

    async def _pages(self, store: GraphStore) -> AsyncIterator[list[CaseFacts]]:
        """Every case's facts, a page of node ids at a time, with the event loop's turn after
        each: a request waits for one page's work at most."""
        top = (await store.read(reading.CASE_ID_CEILING))[0]["top"]
        for low in range(0, -1 if top is None else int(top) + 1, ID_PAGE):
            rows = await store.read(
                reading.CASE_METADATA_BY_ID, {"low": low, "high": low + ID_PAGE}
            )
            yield facts_of_rows(rows, self.rules)
            await asyncio.sleep(0)

    def _take(self, clock: int, fresh: RegionIndex, newest: int) -> RegionIndex:
        """Adopt a snapshot read at graph time `clock` (the next catch-up reads from there);
        what was held before comes back, to be released.

        The facts live until the next reload, so they are frozen out of the garbage collector's
        full collections, which walked a million of them for two seconds, holding the loop
        (`gc.callbacks`). Freed objects are still freed: freezing only spares them the walks.
        A reload keeps the objects of unchanged cases, so it adds few new ones to walk."""
        replaced = self._adopt(fresh)
        self.watermark = newest
        self._graph_clock = clock
        self._loaded = True
        gc.collect(1)  # the young garbage first, so that little is frozen with the facts
        gc.freeze()
        return replaced


def _reloaded(kind: str, started: float, cases: int) -> None:
    seconds = time.monotonic() - started
    REGION_RELOADS.labels(kind).observe(seconds)
    log.info("region facts reloaded (%s): %d cases in %.1f s", kind, cases, seconds)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No automatic collections while a load builds a million new facts: each would walk them
    again. `_take` collects once and freezes what it keeps."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


@contextlib.contextmanager
def _full_collections_paused() -> Iterator[None]:
    """While a reload merges beside the requests: young collections go on, freeing the
    requests' garbage and the pages', but no full ones, which walked up to half a second when a
    reload built its own index (`gc.callbacks`); pausing every collection instead let the young
    generation grow until its one collection held the requests for a second."""
    young, middle, full = gc.get_threshold()
    gc.set_threshold(young, middle, NO_FULL_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(young, middle, full)


def _same_or(held: CaseFacts | None, fact: CaseFacts) -> CaseFacts:
    return held if held == fact else fact


def facts_of_rows(rows: list[dict[str, Any]], rules: CaseRules) -> list[CaseFacts]:
    return [facts_of(row, rules) for row in rows]
