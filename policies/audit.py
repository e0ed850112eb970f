"""The audit log: append-only and hash-chained, kept in the graph so all replicas share one chain.

Each entry's hash is SHA-256 over the canonical JSON of the entry (seq, previous entry's hash,
time, actor client id, token id, action, target, purpose, outcome). Changing, removing or
reordering any entry breaks the chain at that entry, which `verify()` reports.

An entry says who did what to which record and why, never the data itself: a reveal names the
field's JSON pointer, not the revealed value.

Appending is optimistic: read the head (last seq and hash), compute the next entry, then write it
with one conditional statement that succeeds only if the head is still at that seq; on a
conflict with another replica, read the head again and retry. If the store cannot be reached,
`record()` raises `AuditUnavailable`: callers must refuse the audited action, not carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import Any, Protocol, TextIO

from prometheus_client import Counter

from policies.principal import Principal

GENESIS_HASH = "0" * 64

# Actions: what the log is for (CONTRACT.md and DESIGN.md name these).
REVEAL = "reveal"
EXPORT = "export"
ACCESS_DENIED = "access.denied"
KEY_CREATE = "key.create"
KEY_ROTATE = "key.rotate"
KEY_SHRED = "key.shred"
POLICY_RELOAD = "policy.reload"

OK = "ok"
DENIED = "denied"
FAILED = "failed"


AUDIT_ENTRIES = Counter(
    "crossforce_audit_entries",
    "Entries appended to the audit log by this replica, by action and outcome",
    ["action", "outcome"],
)


class AuditUnavailable(Exception):
    """The audit log could not be written: the action it would record must not happen."""


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    prev_hash: str
    time: str
    actor: str | None
    token_id: str | None
    action: str
    target: str
    purpose: str | None
    outcome: str
    hash: str = ""

    def canonical(self) -> bytes:
        content = asdict(self)
        del content["hash"]
        return json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def computed_hash(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()

    def sealed(self) -> AuditEntry:
        return AuditEntry(**{**asdict(self), "hash": self.computed_hash()})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> AuditEntry:
        return cls(**{name: row.get(name) for name in _FIELDS})  # type: ignore[arg-type]

    def json_line(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


class AuditStore(Protocol):
    """Where the chain lives. Entries travel as plain mappings keyed by `AuditEntry` field names,
    so a store needs nothing from this package."""

    async def head(self) -> tuple[int, str]:
        """The last entry's seq and hash; `(0, GENESIS_HASH)` for an empty log."""
        ...

    async def append(self, entry: Mapping[str, Any]) -> bool:
        """Write `entry` and move the head to it, in one atomic step, only if the head is still
        at `entry["seq"] - 1`; False (nothing written) when another writer got there first."""
        ...

    async def entries(self, after_seq: int, limit: int) -> Sequence[Mapping[str, Any]]:
        """Entries with seq greater than `after_seq`, in seq order, at most `limit`."""
        ...


class MemoryAuditStore:
    """An `AuditStore` in a list, for unit tests; `rows` may be edited to simulate tampering."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.head_row: tuple[int, str] = (0, GENESIS_HASH)

    async def head(self) -> tuple[int, str]:
        return self.head_row

    async def append(self, entry: Mapping[str, Any]) -> bool:
        if self.head_row[0] != entry["seq"] - 1:
            return False
        self.rows.append(dict(entry))
        self.head_row = (entry["seq"], entry["hash"])
        return True

    async def entries(self, after_seq: int, limit: int) -> Sequence[Mapping[str, Any]]:
        found = sorted((r for r in self.rows if r["seq"] > after_seq), key=lambda r: r["seq"])
        return found[:limit]


_FIELDS = tuple(field.name for field in fields(AuditEntry))


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    bad_seq: int | None = None
    problem: str | None = None

    def describe(self) -> str:
        if self.ok:
            return f"audit chain intact: {self.checked} entries"
        return f"audit chain broken at entry {self.bad_seq}: {self.problem}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditLog:
    def __init__(
        self,
        store: AuditStore,
        *,
        mirror: TextIO | None = None,
        mirror_stdout: bool = False,
        clock: Callable[[], str] = _now,
        attempts: int = 8,
    ) -> None:
        self._store = store
        # JSON lines for a SIEM; entries hold no personal data, so they may leave the hub.
        self._mirror = mirror or (sys.stdout if mirror_stdout else None)
        self._clock = clock
        self._attempts = attempts
        # Appends of this process go one at a time: they would only conflict with each other.
        self._lock = asyncio.Lock()

    async def record(
        self,
        *,
        actor: Principal | str | None,
        action: str,
        target: str,
        outcome: str = OK,
        purpose: str | None = None,
    ) -> AuditEntry:
        """Append one entry; raises `AuditUnavailable` if it could not be stored."""
        actor_id: str | None = actor.client_id if isinstance(actor, Principal) else actor
        token_id = actor.token_id if isinstance(actor, Principal) else None
        async with self._lock:
            return await self._append(actor_id, token_id, action, target, outcome, purpose)

    async def _append(
        self,
        actor_id: str | None,
        token_id: str | None,
        action: str,
        target: str,
        outcome: str,
        purpose: str | None,
    ) -> AuditEntry:
        for attempt in range(self._attempts):
            if attempt:
                # Another replica appended first; jitter keeps two replicas from colliding again.
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
            try:
                head_seq, head_hash = await self._store.head()
                entry = AuditEntry(
                    seq=head_seq + 1,
                    prev_hash=head_hash,
                    time=self._clock(),
                    actor=actor_id,
                    token_id=token_id,
                    action=action,
                    target=target,
                    purpose=purpose,
                    outcome=outcome,
                ).sealed()
                appended = await self._store.append(entry.as_dict())
            except Exception as error:
                raise AuditUnavailable("audit log unavailable; action refused") from error
            if not appended:
                continue  # another replica appended first: chain onto its entry
            AUDIT_ENTRIES.labels(action, outcome).inc()
            if self._mirror is not None:
                self._mirror.write(entry.json_line() + "\n")
                self._mirror.flush()
            return entry
        raise AuditUnavailable("audit log busy; action refused")

    async def verify(self, *, page: int = 1000) -> Verification:
        """Walk the chain in seq order; report the first altered, removed or reordered entry."""
        expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
        while True:
            batch = [
                AuditEntry.from_mapping(row)
                for row in await self._store.entries(expected_seq - 1, page)
            ]
            for entry in batch:
                problem = _check(entry, expected_seq, prev_hash)
                if problem is not None:
                    return Verification(False, checked, expected_seq, problem)
                expected_seq, prev_hash, checked = expected_seq + 1, entry.hash, checked + 1
            if len(batch) < page:
                break
        head_seq, head_hash = await self._store.head()
        if head_seq != checked or head_hash != prev_hash:
            # Entries after the last one found were removed (or the head was rewritten).
            return Verification(False, checked, checked + 1, "entry missing at the end of the log")
        return Verification(True, checked)


def _check(entry: AuditEntry, expected_seq: int, prev_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return f"missing: entry {entry.seq} comes next (removed or renumbered)"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry: an entry was removed, reordered or altered"
    if entry.computed_hash() != entry.hash:
        return "content does not match its hash: the entry was altered"
    return None
