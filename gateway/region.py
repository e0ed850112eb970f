"""This replica's read model: the region's case-facts index, fed from the graph by one protocol.

The graph is the source of truth; each gateway replica holds an index of every case's facts (no
personal data, `gateway/region_index.py`) and keeps it in step with the graph, so every replica
converges on the same figures. The protocol, described in docs/scaling.md ("The read model"):
a first load reads every case a page at a time; each request then catches up on what was written
and removed since the last look; a periodic full reload is the safety net for what a catch-up
cannot see. The app's lifespan runs `run` (load, then the periodic reload) and cancels it on the
way out; `/readyz` waits for `loaded`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import prometheus_client

from gateway.facts import CaseFacts, facts_of
from gateway.region_index import RegionIndex
from graph import GraphStore, GraphUnavailable
from graph.queries import reading

# Writes are stamped with `syncedAt` by the graph's clock; a look back this far covers writes
# that committed a little after their statement read the clock. A write missed anyway is caught
# by the count check (new or removed cases) or by the periodic full reload.
CLOCK_SKEW_MS = 5_000
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

    def __init__(self, reload_every: float = RELOAD_EVERY_SECONDS) -> None:
        super().__init__()
        self.reload_every = reload_every
        self.loaded = False  # every case read once: until then the replica is not ready
        self._watermark = 0  # the newest `syncedAt` seen
        self._graph_clock = 0  # the graph's time at the last catch-up
        self._lock = asyncio.Lock()
        self._refreshed_at = float("-inf")

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
            await self.reload(store)

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
            if not self.loaded:
                await self._load(store)
            else:
                await self._catch_up(store)
            self._refreshed_at = started

    async def _catch_up(self, store: GraphStore) -> None:
        # Looking back from the graph's clock at the previous look, not only from the newest
        # stamp seen: once writes stop, the window empties instead of re-reading the last burst.
        since = max(0, max(self._watermark, self._graph_clock) - CLOCK_SKEW_MS)
        # Removals first, with the clock: whatever is written after it is in the next window.
        removed = await store.read(reading.REMOVED_SINCE, {"since": since})
        counted = await store.read(reading.CASE_COUNT)
        newest = 0
        for row in await store.read(reading.CASE_METADATA_SINCE, {"since": since}):
            self.put(facts_of(row))
            newest = max(newest, int(row.get("syncedAt") or 0))
        self._watermark = max(self._watermark, newest)
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
            await self._load(store)

    async def reload(self, store: GraphStore) -> None:
        """The safety net, beside the requests: every case read again a page at a time and
        merged into the facts held (`merge`) under the refresh lock, so that it never
        interleaves with a catch-up and a request waiting to refresh goes first (the lock is
        first come, first served): a request waits for one page's merge at most. Then the cases
        it did not find are forgotten. Nothing is built aside and swapped in, which held
        requests while the second index was built and the first let go of."""
        REGION_RELOADS_STARTED.inc()
        started = time.monotonic()
        try:
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

    async def _load(self, store: GraphStore) -> None:
        """Every case read into a fresh index, which then replaces the one held."""
        started = time.monotonic()
        kind = "catch-up" if self.loaded else "first"
        clock = int((await store.read(reading.GRAPH_CLOCK))[0]["now"])
        fresh, newest = RegionIndex(), 0
        async for page in self._pages(store):
            facts = [self.same_or(fact) for fact in page]  # an unchanged case keeps its object
            fresh.extend(facts)
            newest = max(newest, max((f.synced_at for f in facts), default=0))
        replaced = self.adopt(fresh)
        self._watermark, self._graph_clock = newest, clock
        self.loaded = True
        _reloaded(kind, started, len(self))
        for _ in replaced.drain(RELEASE_PAGE):
            await asyncio.sleep(0)

    async def _pages(self, store: GraphStore) -> AsyncIterator[list[CaseFacts]]:
        """Every case's facts, a page of node ids at a time, with the event loop's turn after
        each: a request waits for one page's work at most."""
        top = (await store.read(reading.CASE_ID_CEILING))[0]["top"]
        for low in range(0, -1 if top is None else int(top) + 1, ID_PAGE):
            rows = await store.read(
                reading.CASE_METADATA_BY_ID, {"low": low, "high": low + ID_PAGE}
            )
            yield [facts_of(row) for row in rows]
            await asyncio.sleep(0)


def _reloaded(kind: str, started: float, cases: int) -> None:
    seconds = time.monotonic() - started
    REGION_RELOADS.labels(kind).observe(seconds)
    log.info("region facts reloaded (%s): %d cases in %.1f s", kind, cases, seconds)
