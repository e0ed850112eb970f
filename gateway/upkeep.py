"""The hourly upkeep every replica runs in its lifespan: the daily history of each force's
figures (`gateway/history_keeper.py`) and the stale cases told to their forces
(`federation/after_sync/stale.py`).

Neither is started by a sync: a day ends and a case goes quiet with nothing written. Both are
safe for every replica to run: a day is created once whoever writes it first, and a stale event
is appended once by its dedupe key. A pass runs once the graph is migrated, then every hour; a
pass that could not finish is tried again sooner.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from federation.after_sync.stale import feed_stale
from gateway.history_keeper import keep_history
from gateway.region import RegionFacts
from graph import GraphStore, GraphUnavailable
from graph.port import ConstraintViolation
from policies.case_rules import CaseRules

EVERY_SECONDS = 3600.0
RETRY_SECONDS = 60.0

log = logging.getLogger("crossforce.gateway")


async def upkeep_pass(store: GraphStore, region: RegionFacts, rules: CaseRules) -> None:
    """One pass: the read model brought up to date (loaded, the first time), the days missing
    from the history kept, the cases gone stale told."""
    now = datetime.now(UTC)
    await region.refresh(store)
    kept = await keep_history(store, region, now)
    if kept.written:
        region.history.forget()
        log.info("upkeep: %d force days kept", kept.written)
    told = await feed_stale(store, rules, int(now.timestamp() * 1000))
    if told:
        log.info("upkeep: %d stale cases told to their forces", told)


async def run(
    store: GraphStore, region: RegionFacts, rules: CaseRules, migrated: asyncio.Event
) -> None:
    """The upkeep's life in the app, until cancelled."""
    await migrated.wait()
    while True:
        done = False
        try:
            await upkeep_pass(store, region, rules)
            done = True
        except (GraphUnavailable, ConstraintViolation) as error:
            # Unavailable: the next pass tries again. A constraint: another replica wrote a
            # day between the check and the write; the next pass finds it held.
            log.warning("upkeep: pass not finished: %s", type(error).__name__)
        except Exception as error:  # a fact the figures cannot be read from: the log says so
            log.warning("upkeep: pass failed: %s", type(error).__name__)
        await asyncio.sleep(EVERY_SECONDS if done else RETRY_SECONDS)
