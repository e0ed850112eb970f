"""Applying a batch of case summaries: validate, keep the newest, prepare, write.

A record is answered `applied` only once the statement that wrote it has committed. Each batch is
one statement per kind of write (upserts, tombstones); if the engine refuses a batch for a reason
that is not transient, records are written one by one so one bad record cannot sink the others.
`GraphUnavailable` goes up untouched: the caller answers 503 and the client retries. Links to
other forces' cases are found after the commit, by the hub's after-sync step
(federation/after_sync/).

Each request (a push, or a non-empty page pulled) makes one `sync` audit entry with its counts
and, when it held records for another force, one `sync.write_other_force` entry with their
number: never one entry per record, and never a value from a record.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal, TypeGuard

from federation.body import Item
from federation.intake import UNAUDITED, BatchIntake, IntakeWatch
from federation.near_images import NearImages, NewImage
from federation.near_videos import NearVideos, NewVideo
from federation.prepare import InvalidIdentifiers, images_of, prepare_case, tombstone, videos_of
from federation.validation import Problem, problems_of, schema_name
from graph import GraphError, GraphStore, GraphUnavailable
from graph.cases import (
    CaseRow,
    TombstoneRow,
    case_key,
    insert_cases,
    stored_versions,
    tombstone_cases,
    upsert_cases,
)
from policies.audit import DENIED, OK, SYNC, SYNC_OTHER_FORCE, AuditLog, AuditUnavailable
from policies.blind_index import BlindIndex
from policies.case_rules import CaseRules
from policies.crypto import FieldCipher
from policies.principal import Principal

log = logging.getLogger("crossforce.federation")

Status = Literal["applied", "stale", "rejected"]
BATCH = 250
YIELD_EVERY = 25  # records prepared between turns of the event loop
REFUSED = Problem("", "could not be stored; nothing of it was applied")


@dataclass
class Result:
    index: int
    case_ref: str | None
    status: Status
    errors: list[Problem] = field(default_factory=list)
    schema: str | None = None  # the short name of the schema the record named, if known

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "caseRef": self.case_ref, "status": self.status}
        if self.schema is not None:
            out["schema"] = self.schema
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


@dataclass
class SyncSummary:
    """What one sync request did, in counts only: the detail of its `sync` audit entry. A new
    count is one more field here."""

    received: int = 0
    applied: int = 0
    stale: int = 0
    rejected: int = 0
    other_force: int = 0  # rejected because the record names another force
    new_cases: int = 0  # case references the hub had never held
    new_identifiers: int = 0  # identifiers no case in the hub held before
    linking_identifiers: int = 0  # identifiers other forces' cases hold: the links found

    @classmethod
    def of(cls, results: Sequence[Result], intake: BatchIntake) -> SyncSummary:
        statuses = [result.status for result in results]
        return cls(
            received=len(results),
            applied=statuses.count("applied"),
            stale=statuses.count("stale"),
            rejected=statuses.count("rejected"),
            other_force=sum(any(p.path == "/force" for p in r.errors) for r in results),
            new_cases=intake.new_cases,
            new_identifiers=intake.new_identifiers,
            linking_identifiers=intake.linking_identifiers,
        )

    def describe(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in fields(self))


async def record_sync(audit: AuditLog, principal: Principal, summary: SyncSummary) -> None:
    """The audit entries of one sync request: `sync` with its counts, and, when it held records
    for another force, `sync.write_other_force` (denied) with their number."""
    target = f"force:{principal.force}"
    if summary.other_force:
        await audit.record(
            actor=principal,
            action=SYNC_OTHER_FORCE,
            target=target,
            outcome=DENIED,
            detail=f"{summary.other_force} records for another force refused",
        )
    refused_all = summary.rejected == summary.received
    await audit.record(
        actor=principal,
        action=SYNC,
        target=target,
        outcome=DENIED if refused_all else OK,
        detail=summary.describe(),
    )


@dataclass
class _Candidate:
    index: int
    record: dict[str, Any]

    @property
    def key(self) -> str:
        return case_key(self.record["force"], self.record["caseRef"])


@dataclass
class _Staged:
    """One batch on its way: results so far, the fresh candidates, and their graph rows."""

    items: Sequence[Item]
    now: datetime
    results: dict[int, Result] = field(default_factory=dict)
    held: dict[str, int] = field(default_factory=dict)
    fresh: list[_Candidate] = field(default_factory=list)
    rows: list[CaseRow | TombstoneRow] = field(default_factory=list)


class Ingest:
    def __init__(
        self,
        store: GraphStore,
        *,
        blind: BlindIndex,
        cipher: FieldCipher,
        audit: AuditLog,
        rules: CaseRules,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = BATCH,
        intake: IntakeWatch | None = None,
        near_images: NearImages | None = None,
        near_videos: NearVideos | None = None,
    ) -> None:
        self.store = store
        self.blind = blind
        self.cipher = cipher
        self.audit = audit
        self.rules = rules  # what "open" means, stamped on each case
        self.clock = clock
        self.batch_size = batch_size
        # Counts each force's new cases and identifiers against the case rules' ceiling.
        self.intake = intake
        # Near-duplicate images: a PDQ hash within the linking distance is stored as its cluster.
        self.near_images = near_images
        # Near-duplicate videos: a video whose frames match another's is stored as its cluster.
        self.near_videos = near_videos

    async def apply(self, principal: Principal, items: AsyncIterator[Item]) -> list[Result]:
        """Results in record order, audited as one request (`record_sync`). Batches overlap:
        while the graph engine (its own process) writes one batch, the next is checked and
        prepared here (validation, sealing, blind indexes), so the CPU work of both sides runs
        at once. Writes themselves stay one after another, in batch order; a case that the
        check saw older than the write in flight left it is settled by the writes' own version
        guards (`_write`)."""
        results: list[Result] = []
        staged: _Staged | None = None
        writing: asyncio.Task[list[Result]] | None = None
        tally = BatchIntake()
        try:
            async for batch in _batches(items, self.batch_size):
                if staged is not None:
                    writing = asyncio.create_task(self._commit(principal, staged, tally))
                staged = await self._prepare(await self._check(principal, batch))
                if writing is not None:
                    results.extend(await writing)
                    writing = None
            if staged is not None:
                results.extend(await self._commit(principal, staged, tally))
        except BaseException:
            if writing is not None:
                # A write in flight finishes either way; wait for it so nothing outlives the
                # request, then report the first failure.
                with contextlib.suppress(Exception):
                    await writing
            raise
        if results:  # an empty page pulled says nothing worth a line in the log
            await self.audit_sync(principal, SyncSummary.of(results, tally))
        return results

    async def apply_batch(self, principal: Principal, items: Sequence[Item]) -> list[Result]:
        staged = await self._prepare(await self._check(principal, items))
        return await self._commit(principal, staged, BatchIntake())

    async def audit_sync(self, principal: Principal, summary: SyncSummary) -> None:
        """The request's audit entries (`record_sync`), written after the records committed:
        if the log cannot take them, the sync is not undone (its cases still go to the
        after-sync step); the failure is logged and counted."""
        try:
            await record_sync(self.audit, principal, summary)
        except AuditUnavailable:
            UNAUDITED.labels("sync").inc()
            log.error("a sync's audit entry could not be written", extra={"force": principal.force})

    async def _check(self, principal: Principal, items: Sequence[Item]) -> _Staged:
        """Validate, keep the newest of each case, and set aside what the graph holds as new."""
        now = self.clock()
        staged = _Staged(items, now)
        candidates = await self._valid(principal, items, now, staged.results)
        newest = self._newest(candidates, staged.results)
        staged.held = await stored_versions(self.store, [c.key for c in newest]) if newest else {}
        for candidate in newest:
            if candidate.record["version"] <= staged.held.get(candidate.key, 0):
                staged.results[candidate.index] = _result(candidate, "stale")
            else:
                staged.fresh.append(candidate)
        return staged

    async def _commit(
        self, principal: Principal, staged: _Staged, tally: BatchIntake
    ) -> list[Result]:
        """Write a prepared batch; each record is `applied` only once its statement committed.
        What it brought the hub for the first time is counted into `tally` (and the intake)."""
        results = staged.results
        force = principal.force or ""
        cases = [r for r in staged.rows if _is_case(r)]
        sighting = await self.intake.sight(force, cases) if self.intake is not None else None
        applied, refused = await self._write(staged.rows, staged.held)
        if self.intake is not None and sighting is not None:
            mine = [r for r in cases if r["key"] in applied]
            new = {r["key"] for r in mine if staged.held.get(r["key"], 0) == 0}
            batch = IntakeWatch.measure(mine, new, sighting)
            tally.new_cases += batch.new_cases
            tally.new_identifiers += batch.new_identifiers
            tally.linking_identifiers += batch.linking_identifiers
            await self.intake.add(principal, force, batch)
        for candidate in staged.fresh:
            if candidate.index in results:
                continue
            if candidate.key in refused:
                results[candidate.index] = _result(candidate, "rejected", [REFUSED])
            else:
                status: Status = "applied" if candidate.key in applied else "stale"
                results[candidate.index] = _result(candidate, status)
        return [results[index] for index, _ in staged.items]

    async def _valid(
        self,
        principal: Principal,
        items: Sequence[Item],
        now: datetime,
        results: dict[int, Result],
    ) -> list[_Candidate]:
        valid = []
        for index, record in items:
            if isinstance(record, list):
                results[index] = Result(index, None, "rejected", record)
                continue
            problems = problems_of(record, caller_force=principal.force, now=now)
            if problems:
                ref = record.get("caseRef") if isinstance(record, dict) else None
                results[index] = Result(
                    index,
                    ref if isinstance(ref, str) else None,
                    "rejected",
                    problems,
                    schema_name(record),
                )
                continue
            valid.append(_Candidate(index, record))
        return valid

    def _newest(self, candidates: list[_Candidate], results: dict[int, Result]) -> list[_Candidate]:
        """Within one batch, only the highest version of a case is written; the rest are stale."""
        best: dict[str, _Candidate] = {}
        for candidate in candidates:
            current = best.get(candidate.key)
            if current is None or candidate.record["version"] > current.record["version"]:
                if current is not None:
                    results[current.index] = _result(current, "stale")
                best[candidate.key] = candidate
            else:
                results[candidate.index] = _result(candidate, "stale")
        return list(best.values())

    async def _clusters(self, staged: _Staged) -> dict[str, str]:
        """The near-duplicate cluster of every PDQ hash in the batch's live cases."""
        if self.near_images is None:
            return {}
        images = [
            NewImage(pdq, c.record["force"], c.record["caseRef"], field)
            for c in staged.fresh
            if not c.record.get("deleted")
            for pdq, field in images_of(c.record)
        ]
        return await self.near_images.canonical(images) if images else {}

    async def _videos(self, staged: _Staged, clusters: dict[str, str]) -> dict[str, str]:
        """The video cluster of every video (`media[].vpdq`) in the batch's live cases."""
        if self.near_videos is None:
            return {}
        videos = [
            NewVideo(fingerprint, frames)
            for c in staged.fresh
            if not c.record.get("deleted")
            for fingerprint, frames in videos_of(c.record, self.blind, clusters)
        ]
        return await self.near_videos.canonical(videos) if videos else {}

    async def _prepare(self, staged: _Staged) -> _Staged:
        clusters = await self._clusters(staged)
        videos = await self._videos(staged, clusters)
        for n, candidate in enumerate(staged.fresh):
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # let a write in flight send, and other requests run
            if candidate.record.get("deleted"):
                staged.rows.append(tombstone(candidate.record))
                continue
            try:
                row = await prepare_case(
                    candidate.record,
                    blind=self.blind,
                    cipher=self.cipher,
                    now=staged.now,
                    rules=self.rules,
                    pdq_clusters=clusters,
                    video_keys=videos,
                )
            except InvalidIdentifiers as error:
                staged.results[candidate.index] = _result(candidate, "rejected", error.problems)
            else:
                staged.rows.append(row)
        return staged

    async def _write(
        self, rows: list[CaseRow | TombstoneRow], held: dict[str, int]
    ) -> tuple[set[str], set[str]]:
        """Keys applied, and keys the engine refused outright. Cases the graph did not hold when
        checked take the cheaper insert; any found to exist by then go through the upsert."""
        upserts = [r for r in rows if _is_case(r)]
        tombstones = [r for r in rows if not _is_case(r)]
        new = [r for r in upserts if held.get(r["key"], 0) == 0]
        applied, refused = await self._write_kind(new, insert_cases)
        known = [r for r in upserts if r["key"] not in applied and r["key"] not in refused]
        for rows_of_kind, write in ((known, upsert_cases), (tombstones, tombstone_cases)):
            more_applied, more_refused = await self._write_kind(rows_of_kind, write)
            applied |= more_applied
            refused |= more_refused
        return applied, refused

    async def _write_kind(
        self, rows: Sequence[Any], write: Callable[[GraphStore, Any], Awaitable[set[str]]]
    ) -> tuple[set[str], set[str]]:
        if not rows:
            return set(), set()
        try:
            return await write(self.store, rows), set()
        except GraphUnavailable:
            raise
        except GraphError:
            if len(rows) == 1:
                log.warning("graph refused a case; its content is withheld from the log")
                return set(), {rows[0]["key"]}
        applied: set[str] = set()
        refused: set[str] = set()
        for row in rows:
            one_applied, one_refused = await self._write_kind([row], write)
            applied |= one_applied
            refused |= one_refused
        return applied, refused


async def _batches(items: AsyncIterator[Item], size: int) -> AsyncIterator[list[Item]]:
    batch: list[Item] = []
    async for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _is_case(row: CaseRow | TombstoneRow) -> TypeGuard[CaseRow]:
    return "props" in row


def _result(candidate: _Candidate, status: Status, errors: list[Problem] | None = None) -> Result:
    record = candidate.record
    return Result(candidate.index, record["caseRef"], status, errors or [], schema_name(record))
