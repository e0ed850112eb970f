"""This replica's read model: the region's case-facts index, fed from the graph by one protocol.

The graph is the source of truth; each gateway replica holds an index of every case's facts (no
personal data, `gateway/region_index.py`) and keeps it in step with the graph, so every replica
converges on the same figures. The protocol, described in docs/scaling.md ("The read model"):
every write of a case or tombstone takes the next number of a counter in the graph, in commit
order. A first load reads the counter, then every case a page at a time; each request then
catches up on the cases and tombstones numbered above what it saw, up to the counter as it reads
it, or loads afresh if numbering began again (the graph cleared or restored); a periodic full
reload is the safety net for what no write numbered (a case deleted by hand). The app's
lifespan runs `run` (load, then the periodic reload) and cancels it on the way out; `/readyz`
waits for `loaded`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from datetime import date

import prometheus_client

from gateway.kept_days import KeptDays, Mark
from gateway.region_index import RegionIndex
from graph import GraphStore, GraphUnavailable
from graph.case_metadata import CaseMetadataStore
from graph.force_days import ForceDay
from policies.case_facts import CaseFacts, facts_of
from policies.case_rules import CaseRules

RELOAD_EVERY_SECONDS = 600.0
# Node ids per page of a full load: a page is all a request waits for (docs/scaling.md).
ID_PAGE = 5_000
RELEASE_PAGE = 20_000  # entries freed, or keys a reload checks, between turns of the event loop
LOAD_RETRY_SECONDS = (0.5, 10.0)  # first and longest wait before the first load is tried again

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


class RegionFacts(RegionIndex):
    """This replica's index of the region, kept in step with the graph."""

    def __init__(self, rules: CaseRules, reload_every: float = RELOAD_EVERY_SECONDS) -> None:
        super().__init__()
        self.rules = rules  # the case rules every fact is read under
        self.reload_every = reload_every
        self.loaded = False  # every case read once: until then the replica is not ready
        self.seq = 0  # every write numbered up to this is in the facts held
        self._epoch: str | None = None  # the graph's numbering, new when it begins again
        self._lock = asyncio.Lock()
        self._refreshed_at = float("-inf")
        self.history = KeptDays()  # the kept daily history, held beside the facts
        self.days_mark: Mark = (0, None)  # the kept days' counter, read with the cases'

    async def run(self, store: GraphStore, migrated: asyncio.Event) -> None:
        """The read model's life in the app: the first load once the graph is migrated (tried
        again while it fails), then a full reload every `reload_every` seconds, until
        cancelled."""
        await migrated.wait()
        delay, longest = LOAD_RETRY_SECONDS
        while not self.loaded:
            try:
                await self.refresh(store)
            except GraphUnavailable:
                log.warning("region facts: not loaded, the graph is unavailable")
            except Exception as error:  # a case the facts cannot be read from: the log says so
                log.warning("region facts: not loaded: %s", type(error).__name__)
            if not self.loaded:
                await asyncio.sleep(delay)
                delay = min(delay * 2, longest)
        while True:
            await asyncio.sleep(self.reload_every)
            try:
                await self.reload(store)
            except Exception as error:  # the next reload tries again; requests go on
                log.warning("region facts: reload failed: %s", type(error).__name__)

    async def refresh(self, store: GraphStore) -> None:
        """Bring the facts up to date with the graph: what was written and removed since the
        last look; the first look loads every case.

        Requests that arrive while a refresh runs wait for it and use its result: under load,
        one refresh serves many requests instead of each queueing for its own."""
        arrived = time.monotonic()
        async with self._lock:
            if self._refreshed_at >= arrived:
                return
            started = time.monotonic()
            if self.loaded:
                await self._catch_up(store)
            else:
                await self._load(store)
            self._refreshed_at = started

    async def _catch_up(self, store: GraphStore) -> None:
        """The cases and tombstones numbered above `seq`, up to the counter as read first: every
        write numbered up to it has committed, so none is missed; one numbered later (a case
        written again meanwhile) is read next time."""
        upto, epoch = await self._counter(store)
        if epoch != self._epoch or upto < self.seq:  # numbering began again: nothing to follow
            await self._load(store)
            return
        if upto == self.seq:
            return
        cases = CaseMetadataStore(store)
        self.merge(facts_of(row, self.rules) for row in await cases.written_between(self.seq, upto))
        for removal in await cases.removed_between(self.seq, upto):
            self.remove(removal.key, removal.seq)
        self.seq = upto

    async def reload(self, store: GraphStore) -> None:
        """The safety net, beside the requests, for what no write numbered (a case deleted by
        hand, without a tombstone): every case read again a page at a time and merged into the
        facts held (`merge`) under the refresh lock, so that it never interleaves with a
        catch-up and a request waiting to refresh goes first (the lock is first come, first
        served): a request waits for one page's merge at most. Then the cases it did not find
        are forgotten. Nothing is built aside and swapped in, which held requests while the
        second index was built and the first let go of."""
        REGION_RELOADS_STARTED.inc()
        started = time.monotonic()
        try:
            upto, _ = await self._counter(store)
            seen: set[str] = set()
            async for page in self._pages(store):
                async with self._lock:  # requests waiting to refresh go first: FIFO
                    self.merge(page)
                seen.update(fact.key for fact in page)
            await self._forget_unseen(seen, upto)
        except GraphUnavailable:
            log.warning("region facts: reload failed, the graph is unavailable")
            return
        _reloaded("periodic", started, len(self.facts))

    async def _forget_unseen(self, seen: set[str], upto: int) -> None:
        """Forget the cases a reload did not find, unless written after it began (numbered
        above `upto`). A page of keys at a time, the requests' turn between."""
        keys = list(self.facts)
        for start in range(0, len(keys), RELEASE_PAGE):
            async with self._lock:
                for key in keys[start : start + RELEASE_PAGE]:
                    if key not in seen:
                        self.remove(key, upto)

    async def _load(self, store: GraphStore) -> None:
        """Every case read into a fresh index, which then replaces the one held. The counter is
        read first: a write numbered after it may be in the pages or not, and is read again by
        the next catch-up."""
        started = time.monotonic()
        kind = "catch-up" if self.loaded else "first"
        upto, epoch = await self._counter(store)
        fresh = RegionIndex()
        async for page in self._pages(store):
            fresh.extend(page)
        replaced = self.adopt(fresh)
        self.seq, self._epoch = upto, epoch
        self.loaded = True
        _reloaded(kind, started, len(self))
        for _ in replaced.drain(RELEASE_PAGE):
            await asyncio.sleep(0)

    async def _pages(self, store: GraphStore) -> AsyncIterator[list[CaseFacts]]:
        """Every case's facts, a page of node ids at a time, with the event loop's turn after
        each: a request waits for one page's work at most."""
        async for rows in CaseMetadataStore(store).pages(ID_PAGE):
            yield [facts_of(row, self.rules) for row in rows]
            await asyncio.sleep(0)

    async def _counter(self, store: GraphStore) -> tuple[int, str | None]:
        """The newest number given to a write of cases (0 before the first), and its epoch;
        the kept days' counter, read in the same look, is noted in `days_mark`."""
        numbering = await CaseMetadataStore(store).numbering()
        self.days_mark = (numbering.days, numbering.days_epoch)
        return numbering.seq, numbering.epoch

    async def kept_days(self, store: GraphStore, first: date, last: date) -> list[ForceDay]:
        """The kept days from `first` to `last`, by force then day, as of the last refresh."""
        return await self.history.between(store, self.days_mark, first, last)


def _reloaded(kind: str, started: float, cases: int) -> None:
    seconds = time.monotonic() - started
    REGION_RELOADS.labels(kind).observe(seconds)
    log.info("region facts reloaded (%s): %d cases in %.1f s", kind, cases, seconds)
