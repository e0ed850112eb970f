"""Case summaries on their way to the hub, and what it made of them: results, reports, pages.

Records go out as NDJSON in batches bounded by record count and by bytes. An input item that
cannot be sent (not a JSON object, not serialisable) is reported rejected at its place in the
input and never sent, so the indexes in a report stay those of the input.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RecordStatus = Literal["applied", "stale", "rejected"]
STATUSES: frozenset[str] = frozenset({"applied", "stale", "rejected"})


# --- records, results, reports ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordError:
    """One problem with a record: a JSON pointer into it ("" for the whole record) and why."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected record: its index in the input (0-based, over everything passed to `sync`)."""

    index: int
    case_ref: str | None
    errors: tuple[RecordError, ...]


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """Stands in for an input item that could not be read as a case summary (a line that is not
    JSON, say). `sync` reports it rejected at its place in the input and never sends it, so the
    indexes in the report stay those of the input."""

    message: str
    case_ref: str | None = None


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Running totals, handed to `on_progress` after every batch."""

    processed: int
    applied: int
    stale: int
    rejected: int
    elapsed: float

    @property
    def records_per_second(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(slots=True)
class SyncReport:
    """What a sync did. `rejections` are in input order."""

    applied: int = 0
    stale: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    elapsed: float = 0.0
    requests: int = 0  # POSTs the hub answered with results, split halves included

    @property
    def processed(self) -> int:
        return self.applied + self.stale + self.rejected

    @property
    def records_per_second(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every record was applied or already held (stale)."""
        return self.rejected == 0

    def progress(self) -> SyncProgress:
        return SyncProgress(self.processed, self.applied, self.stale, self.rejected, self.elapsed)

    def _reject(self, rejection: Rejection) -> None:
        self.rejected += 1
        self.rejections.append(rejection)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One page of the change feed; pass `next` as `since` to read on from here."""

    changes: list[dict[str, Any]]
    next: str | None


# --- batching -----------------------------------------------------------------------------------


@dataclass(slots=True)
class Batch:
    """Encoded records on their way to the hub, with their input indexes."""

    indexes: list[int] = field(default_factory=list)
    case_refs: list[str | None] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    # Unreadable input items met while filling this batch: reported with it, never sent.
    local_rejections: list[Rejection] = field(default_factory=list)

    def add(self, index: int, case_ref: str | None, line: bytes) -> None:
        self.indexes.append(index)
        self.case_refs.append(case_ref)
        self.lines.append(line)
        self.size += len(line)

    def halves(self) -> tuple[Batch, Batch]:
        middle = len(self.lines) // 2
        first, second = Batch(), Batch()
        for part, chosen in ((first, slice(None, middle)), (second, slice(middle, None))):
            for index, case_ref, line in zip(
                self.indexes[chosen], self.case_refs[chosen], self.lines[chosen], strict=True
            ):
                part.add(index, case_ref, line)
        return first, second

    def __len__(self) -> int:
        return len(self.lines) + len(self.local_rejections)


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One NDJSON line: compact UTF-8 JSON and a newline. Raises TypeError or ValueError."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def _case_ref(record: Any) -> str | None:
    if isinstance(record, Mapping):
        case_ref = record.get("caseRef")
        if isinstance(case_ref, str):
            return case_ref
    return None


async def _each(
    records: Iterable[Mapping[str, Any] | InvalidRecord]
    | AsyncIterable[Mapping[str, Any] | InvalidRecord],
) -> AsyncIterator[Mapping[str, Any] | InvalidRecord]:
    if isinstance(records, AsyncIterable):
        async for record in records:
            yield record
    else:
        for record in records:
            yield record


async def batches(
    records: Iterable[Mapping[str, Any] | InvalidRecord]
    | AsyncIterable[Mapping[str, Any] | InvalidRecord],
    max_records: int,
    max_bytes: int,
) -> AsyncIterator[Batch]:
    """Group records into batches of at most `max_records` records and `max_bytes` bytes of NDJSON.

    A record larger than `max_bytes` on its own still goes out, alone: the hub's limit may be
    higher than ours, and if it is not, its 413 gets the record reported rejected.
    """
    batch = Batch()
    async for index, record in _enumerate(_each(records)):
        if isinstance(record, InvalidRecord):
            error = RecordError("", record.message)
            batch.local_rejections.append(Rejection(index, record.case_ref, (error,)))
            continue
        if not isinstance(record, Mapping):
            error = RecordError("", "not a JSON object")
            batch.local_rejections.append(Rejection(index, None, (error,)))
            continue
        try:
            line = encode_record(record)
        except (TypeError, ValueError, RecursionError) as problem:
            # json's messages name types ("Object of type datetime ..."), never values.
            error = RecordError("", f"not serialisable as JSON: {problem}")
            batch.local_rejections.append(Rejection(index, _case_ref(record), (error,)))
            continue
        if batch.lines and batch.size + len(line) > max_bytes:
            yield batch
            batch = Batch()
        batch.add(index, _case_ref(record), line)
        if len(batch.lines) >= max_records:
            yield batch
            batch = Batch()
    if len(batch):
        yield batch


async def _enumerate(items: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1
