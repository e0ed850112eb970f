"""One replica pulls a force at a time: a lease per force, kept in the graph beside the cursor.

Every replica runs a puller for every force in `pull.yaml` (the Helm chart's replicas, `serve
--workers`). Each force's lease is a holder id and an expiry on its `PullCursor` node, taken and
renewed in one statement on the graph's clock (graph/pull_cursors.py): a replica takes it when it
is free, expired or already its own, and reads back who holds it. The holder renews it every
third of its length while it lives, and hands it back when it stops; a holder that dies (killed,
its node lost) stops renewing, and another replica takes the force over once the lease has run
out: within 4/3 of the lease's length (its expiry, then the next attempt).

A replica that cannot reach the graph counts itself as not holding the lease: it pulls nothing
until it has renewed, so two replicas never pull one force together for longer than one poll
that was already under way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from graph import GraphStore
from graph.pull_cursors import PullCursors

log = logging.getLogger("crossforce.pull")

DEFAULT_LEASE_SECONDS = 15.0


class PullLease:
    """The lease of one force for one replica; `held` is set while this replica holds it."""

    def __init__(
        self, store: GraphStore, force: str, holder: str, seconds: float = DEFAULT_LEASE_SECONDS
    ) -> None:
        self.cursors = PullCursors(store)
        self.force = force
        self.holder = holder
        self.seconds = seconds
        self.held = asyncio.Event()

    async def renew(self) -> bool:
        """Take or renew the lease; whether this replica holds it now."""
        try:
            lease = await self.cursors.take_lease(self.force, self.holder, int(self.seconds * 1000))
        except Exception as error:  # the graph away: hold nothing, try again at the next turn
            log.warning("pull lease of force %s not renewed: %s", self.force, type(error).__name__)
            lease = None
        held = lease is not None and lease.holder == self.holder
        if held and not self.held.is_set():
            log.info("pull lease of force %s taken", self.force)
        elif not held and self.held.is_set():
            log.warning("pull lease of force %s lost", self.force)
        if held:
            self.held.set()
        else:
            self.held.clear()
        return held

    async def keep(self) -> None:
        """Renew (or try to take) the lease every third of its length, until cancelled."""
        while True:
            await self.renew()
            await asyncio.sleep(self.seconds / 3)

    async def release(self) -> None:
        """Hand the lease back, so another replica need not wait for it to run out."""
        if not self.held.is_set():
            return
        self.held.clear()
        with contextlib.suppress(Exception):  # stopping anyway: the lease will run out
            await self.cursors.release_lease(self.force, self.holder)
