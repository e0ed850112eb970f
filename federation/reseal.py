"""Re-encryption after a key rotation: every case's sealed fields moved to the current key version.

After `crossforce keys rotate`, new writes use the new version at once and old ciphertext stays
readable; this job then pages through each force's cases still sealed under an older version
(oldest data first, by key), opens their fields and seals them again under the current version,
a small batch per statement. Each batch is written only where the case is still exactly as read
(same version, same sealed map), so a sync that lands meanwhile is never overwritten: it sealed
its own fields afresh, and the job's copy of that case is dropped.

The job keeps no state of its own: what is left to do is what the graph still holds under an
older version, so it resumes wherever it stopped, on any replica. The hub runs it in the
background (`run_periodically`); `crossforce keys reseal` runs it to completion.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from graph import GraphStore
from graph.reseal_store import Resealed, ResealStore, StaleCase
from policies.crypto import DecryptionFailed, FieldCipher
from policies.keys import KeyringError

log = logging.getLogger("crossforce.reseal")

PAGE = 100


@dataclass
class ResealProgress:
    """One force's run: `total` cases were on an older version when it started."""

    force: str
    version: int  # the version cases are resealed to
    total: int
    resealed: int = 0
    changed: int = 0  # written by a sync meanwhile, so already sealed afresh
    unreadable: int = 0  # an older version was shredded, or the value does not open

    @property
    def handled(self) -> int:
        return self.resealed + self.changed + self.unreadable


OnProgress = Callable[[ResealProgress], None]


class Resealer:
    def __init__(self, store: GraphStore, cipher: FieldCipher, *, page: int = PAGE) -> None:
        self.cases = ResealStore(store)
        self.cipher = cipher
        self.page = page

    async def reseal_all(self, on_progress: OnProgress | None = None) -> list[ResealProgress]:
        """Every force with data keys; a force whose current key is shredded is left alone."""
        done = []
        for force in await self.cipher.keyring.forces():
            progress = await self.reseal_force(force, on_progress)
            if progress is not None:
                done.append(progress)
        return done

    async def reseal_force(
        self, force: str, on_progress: OnProgress | None = None
    ) -> ResealProgress | None:
        """Reseal one force's cases; None when it has no live key to reseal to."""
        versions = await self.cipher.keyring.versions(force)
        if not versions or versions[-1].wrapped is None:
            return None  # never asks for a key: that would make a new one for a shredded force
        current, _ = await self.cipher.keyring.current(force)
        progress = ResealProgress(force, current, await self.cases.remaining(force, current))
        after = ""
        while progress.total:
            stale = await self.cases.stale(force, current, after, self.page)
            if not stale:
                break
            after = stale[-1].seal.key
            await self._reseal_page(stale, progress)
            if on_progress is not None:
                on_progress(progress)
            await asyncio.sleep(0)  # a turn for the requests this process also serves
        return progress

    async def _reseal_page(self, stale: list[StaleCase], progress: ResealProgress) -> None:
        updates = []
        for case in stale:
            try:
                updates.append(await self._resealed(case))
            except (KeyringError, DecryptionFailed, ValueError) as error:
                # Named by case key and reason only; the values stay sealed where they are.
                log.warning("case %s not resealed: %s", case.seal.key, type(error).__name__)
                progress.unreadable += 1
        if not updates:
            return
        written = await self.cases.write(updates)
        progress.resealed += written
        progress.changed += len(updates) - written

    async def _resealed(self, case: StaleCase) -> Resealed:
        force, case_ref, before = case.seal.force, case.seal.case_ref, case.seal.sealed
        fields = orjson.loads(before) if before else {}
        if not isinstance(fields, dict):
            raise ValueError("sealed map is not an object")
        opened = [
            (field, await self.cipher.open(force, case_ref, field, value))
            for field, value in fields.items()
        ]
        version, sealed = await self.cipher.seal_record(force, case_ref, opened)
        return Resealed(case, orjson.dumps(sealed).decode("ascii"), version)


async def run_periodically(
    resealer: Resealer, *, interval: float = 60.0, wake: asyncio.Event | None = None
) -> None:
    """The hub's background job: reseal every `interval` seconds (the key cache's lifetime, so a
    rotation made by the CLI or another replica is picked up), or at once when `wake` is set."""
    wake = wake or asyncio.Event()
    while True:
        wake.clear()
        try:
            for progress in await resealer.reseal_all():
                if progress.total:
                    log.info(
                        "resealed %s to key version %d: %d resealed, %d changed by syncs, "
                        "%d unreadable",
                        progress.force,
                        progress.version,
                        progress.resealed,
                        progress.changed,
                        progress.unreadable,
                    )
        except Exception as error:  # the job must outlive any one failure; the hub keeps serving
            log.warning("re-encryption paused (%s); retrying later", type(error).__name__)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), timeout=interval)
