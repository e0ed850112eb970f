"""Applying a batch of case summaries: validate, keep the newest, prepare, write, detect links.

A record is answered `applied` only once the statement that wrote it has committed. Each batch is
one statement per kind of write (upserts, tombstones); if the engine refuses a batch for a reason
that is not transient, records are written one by one so one bad record cannot sink the others.
`GraphUnavailable` goes up untouched: the caller answers 503 and the client retries.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from federation import changes
from federation.body import Item
from federation.prepare import InvalidIdentifiers, prepare_case, tombstone
from federation.validation import Problem, problems_of
from graph import GraphError, GraphStore, GraphUnavailable
from graph.cases import (
    CaseRow,
    TombstoneRow,
    case_key,
    stored_versions,
    tombstone_cases,
    upsert_cases,
)
from policies.audit import AuditLog
from policies.blind_index import BlindIndex
from policies.crypto import FieldCipher
from policies.principal import Principal

log = logging.getLogger("crossforce.federation")

Status = Literal["applied", "stale", "rejected"]
BATCH = 500
REFUSED = Problem("", "could not be stored; nothing of it was applied")


@dataclass
class Result:
    index: int
    case_ref: str | None
    status: Status
    errors: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "caseRef": self.case_ref, "status": self.status}
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        return out


@dataclass
class _Candidate:
    index: int
    record: dict[str, Any]

    @property
    def key(self) -> str:
        return case_key(self.record["force"], self.record["caseRef"])


class Ingest:
    def __init__(
        self,
        store: GraphStore,
        *,
        blind: BlindIndex,
        cipher: FieldCipher,
        audit: AuditLog,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = BATCH,
    ) -> None:
        self.store = store
        self.blind = blind
        self.cipher = cipher
        self.audit = audit
        self.clock = clock
        self.batch_size = batch_size

    async def apply(self, principal: Principal, items: AsyncIterator[Item]) -> list[Result]:
        results: list[Result] = []
        batch: list[Item] = []
        async for item in items:
            batch.append(item)
            if len(batch) >= self.batch_size:
                results.extend(await self.apply_batch(principal, batch))
                batch = []
        if batch:
            results.extend(await self.apply_batch(principal, batch))
        return results

    async def apply_batch(self, principal: Principal, items: Sequence[Item]) -> list[Result]:
        now = self.clock()
        results: dict[int, Result] = {}
        candidates = await self._valid(principal, items, now, results)
        newest = self._newest(candidates, results)
        held = await stored_versions(self.store, [c.key for c in newest]) if newest else {}
        fresh = []
        for candidate in newest:
            if candidate.record["version"] <= held.get(candidate.key, 0):
                results[candidate.index] = _result(candidate, "stale")
            else:
                fresh.append(candidate)
        rows = await self._prepare(fresh, now, results)
        applied, refused = await self._write(rows)
        for candidate in fresh:
            if candidate.index in results:
                continue
            if candidate.key in refused:
                results[candidate.index] = _result(candidate, "rejected", [REFUSED])
            else:
                status: Status = "applied" if candidate.key in applied else "stale"
                results[candidate.index] = _result(candidate, status)
        live = [c.key for c in fresh if c.key in applied and not c.record.get("deleted")]
        await changes.record_new_links(self.store, live, int(now.timestamp() * 1000))
        return [results[index] for index, _ in items]

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
                    index, ref if isinstance(ref, str) else None, "rejected", problems
                )
                if any(p.path == "/force" for p in problems):
                    await self.audit.record(
                        actor=principal,
                        action="sync.write_other_force",
                        target=f"{record.get('force')}:{ref}",
                        outcome="denied",
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

    async def _prepare(
        self, fresh: list[_Candidate], now: datetime, results: dict[int, Result]
    ) -> list[CaseRow | TombstoneRow]:
        rows: list[CaseRow | TombstoneRow] = []
        for candidate in fresh:
            if candidate.record.get("deleted"):
                rows.append(tombstone(candidate.record))
                continue
            try:
                rows.append(
                    await prepare_case(
                        candidate.record, blind=self.blind, cipher=self.cipher, now=now
                    )
                )
            except InvalidIdentifiers as error:
                results[candidate.index] = _result(candidate, "rejected", error.problems)
        return rows

    async def _write(self, rows: list[CaseRow | TombstoneRow]) -> tuple[set[str], set[str]]:
        """Keys applied, and keys the engine refused outright."""
        upserts = [r for r in rows if "props" in r]
        tombstones = [r for r in rows if "props" not in r]
        applied, refused = await self._write_kind(upserts, upsert_cases)
        more_applied, more_refused = await self._write_kind(tombstones, tombstone_cases)
        return applied | more_applied, refused | more_refused

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


def _result(candidate: _Candidate, status: Status, errors: list[Problem] | None = None) -> Result:
    return Result(candidate.index, candidate.record["caseRef"], status, errors or [])
