"""The audit log: append-only and hash-chained, kept in the graph so all replicas share one chain.

Each entry's hash is HMAC-SHA256, under the audit key (`policies.audit_anchor`, never in the
graph), over the canonical JSON of the entry (seq, previous entry's hash, time, actor client id,
token id, action, target, purpose, outcome, detail, hash algorithm). Changing, removing or
reordering any entry breaks the chain at that entry, which `verify()` reports; without the key,
nobody can recompute the hashes after a change. Entries written before the chain was keyed carry
no `hash_alg` and keep their plain SHA-256 over the fields they had then; once a keyed entry
appears, every later one must be keyed. The newest entry this hub appended is also written to a
checkpoint file outside the graph, so cutting the newest entries off shows.

An entry says who did what to which record and why, never the data itself: a reveal names the
field's JSON pointer, not the revealed value. Every text in an entry is bounded: a value over
its limit is described ("target of 200000 characters"), never copied.

Appending is optimistic: read the head (last seq and hash), compute the next entry, then write it
with one conditional statement that succeeds only if the head is still at that seq; on a
conflict with another replica, read the head again and retry. If the store cannot be reached,
`record()` raises `AuditUnavailable`: callers must refuse the audited action, not carry on.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import random
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

from prometheus_client import Counter

from policies.audit_anchor import AuditKey, Checkpoint, CheckpointInvalid, Mark, append_line
from policies.principal import Principal

log = logging.getLogger("crossforce.audit")

GENESIS_HASH = "0" * 64
HASH_PLAIN = "sha256"  # entries from before the chain was keyed
HASH_KEYED = "hmac-sha256"

# Actions: what the log is for (CONTRACT.md and DESIGN.md name these).
REVEAL = "reveal"
EXPORT = "export"
ACCESS_DENIED = "access.denied"
KEY_CREATE = "key.create"
KEY_ROTATE = "key.rotate"
KEY_SHRED = "key.shred"
POLICY_RELOAD = "policy.reload"
SYNC = "sync"
SYNC_OTHER_FORCE = "sync.write_other_force"

OK = "ok"
DENIED = "denied"
FAILED = "failed"
SHREDDED = "shredded"

# Bounds of an entry's texts: a longer value is described by its length, never stored.
MAX_ACTOR = 200
MAX_TARGET = 300
MAX_PURPOSE = 500
MAX_DETAIL = 300


def bounded(name: str, value: str | None, limit: int) -> str | None:
    """`value` when it fits in `limit` characters, else a description of it that holds none of
    it ("purpose of 250000 characters"): what an attacker sends must not bloat the log."""
    if value is None or len(value) <= limit:
        return value
    return f"{name} of {len(value)} characters"


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
    detail: str | None = None  # bounded counts or a description, never values
    hash_alg: str | None = HASH_KEYED  # None or HASH_PLAIN: written before the chain was keyed
    hash: str = ""

    @property
    def keyed(self) -> bool:
        return self.hash_alg == HASH_KEYED

    def canonical(self) -> bytes:
        content = asdict(self)
        del content["hash"]
        if not self.keyed:  # exactly what the unkeyed chain hashed
            content = {name: content[name] for name in _PLAIN_FIELDS}
        return json.dumps(
            content, sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def computed_hash(self, key: AuditKey) -> str:
        if self.keyed:
            return key.mac(self.canonical())
        return hashlib.sha256(self.canonical()).hexdigest()

    def sealed(self, key: AuditKey) -> AuditEntry:
        keyed = AuditEntry(**{**asdict(self), "hash_alg": HASH_KEYED})
        return AuditEntry(**{**asdict(keyed), "hash": keyed.computed_hash(key)})

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
_PLAIN_FIELDS = (
    "seq",
    "prev_hash",
    "time",
    "actor",
    "token_id",
    "action",
    "target",
    "purpose",
    "outcome",
)


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    bad_seq: int | None = None
    problem: str | None = None
    warning: str | None = None

    def describe(self) -> str:
        if self.ok:
            intact = f"audit chain intact: {self.checked} entries"
            return f"{intact}; warning: {self.warning}" if self.warning else intact
        if self.bad_seq is None:
            return f"audit chain broken: {self.problem}"
        return f"audit chain broken at entry {self.bad_seq}: {self.problem}"


@functools.cache
def _process_key() -> AuditKey:
    return AuditKey.ephemeral()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class AuditLog:
    """The chain in `store`, sealed with `key`. Without a key, one random key of this process
    is used: fine for a test, useless for a hub, whose replicas and `audit verify` must share
    one (`gateway.protection.audit_log_for`). With a `checkpoint`, each append moves it."""

    def __init__(
        self,
        store: AuditStore,
        *,
        key: AuditKey | None = None,
        checkpoint: Checkpoint | None = None,
        mirror: TextIO | Path | None = None,
        mirror_stdout: bool = False,
        clock: Callable[[], str] = _now,
        attempts: int = 8,
    ) -> None:
        self._store = store
        self._key = key or _process_key()
        self._checkpoint = checkpoint
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
        detail: str | None = None,
    ) -> AuditEntry:
        """Append one entry; raises `AuditUnavailable` if it could not be stored. Texts over
        their bounds are stored as a description of their length."""
        actor_id: str | None = actor.client_id if isinstance(actor, Principal) else actor
        token_id = actor.token_id if isinstance(actor, Principal) else None
        draft = AuditEntry(
            seq=0,
            prev_hash=GENESIS_HASH,
            time="",
            actor=bounded("actor", actor_id, MAX_ACTOR),
            token_id=bounded("token id", token_id, MAX_ACTOR),
            action=bounded("action", action, MAX_ACTOR) or "",
            target=bounded("target", target, MAX_TARGET) or "",
            purpose=bounded("purpose", purpose, MAX_PURPOSE),
            outcome=bounded("outcome", outcome, MAX_ACTOR) or "",
            detail=bounded("detail", detail, MAX_DETAIL),
        )
        async with self._lock:
            entry = await self._append(draft)
            # The copies outside the graph, in this process's order, off the event loop.
            await asyncio.to_thread(self._keep_outside, entry)
        return entry

    def _keep_outside(self, entry: AuditEntry) -> None:
        self._write_mirror(entry)
        self._advance_checkpoint(entry)

    def _write_mirror(self, entry: AuditEntry) -> None:
        try:
            if isinstance(self._mirror, Path):
                append_line(self._mirror, entry.json_line())
            elif self._mirror is not None:
                self._mirror.write(entry.json_line() + "\n")
                self._mirror.flush()
        except OSError as error:
            # The entry is stored in the graph: the action stands.
            log.warning("audit mirror not written: %s", type(error).__name__)

    def _advance_checkpoint(self, entry: AuditEntry) -> None:
        if self._checkpoint is None:
            return
        try:
            self._checkpoint.advance(Mark(entry.seq, entry.hash))
        except (OSError, CheckpointInvalid) as error:
            # The entry is stored: the action stands. `audit verify` reports the checkpoint.
            log.warning("audit checkpoint not advanced: %s", type(error).__name__)

    async def _append(self, draft: AuditEntry) -> AuditEntry:
        for attempt in range(self._attempts):
            if attempt:
                # Another replica appended first; jitter keeps two replicas from colliding again.
                await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))  # noqa: S311
            try:
                head_seq, head_hash = await self._store.head()
                entry = AuditEntry(
                    **{
                        **asdict(draft),
                        "seq": head_seq + 1,
                        "prev_hash": head_hash,
                        "time": self._clock(),
                    }
                ).sealed(self._key)
                appended = await self._store.append(entry.as_dict())
            except Exception as error:
                raise AuditUnavailable("audit log unavailable; action refused") from error
            if not appended:
                continue  # another replica appended first: chain onto its entry
            AUDIT_ENTRIES.labels(entry.action, entry.outcome).inc()
            return entry
        raise AuditUnavailable("audit log busy; action refused")

    async def verify(self, *, page: int = 1000) -> Verification:
        """Walk the chain in seq order with the key; report the first altered, removed or
        reordered entry, then hold the chain against the checkpoint (if this log has one)."""
        try:
            mark = self._checkpoint.read() if self._checkpoint is not None else None
        except CheckpointInvalid as error:
            return Verification(False, 0, None, str(error))
        expected_seq, prev_hash, checked, keyed_seen = 1, GENESIS_HASH, 0, False
        while True:
            batch = [
                AuditEntry.from_mapping(row)
                for row in await self._store.entries(expected_seq - 1, page)
            ]
            for entry in batch:
                problem = _check(entry, expected_seq, prev_hash, self._key, keyed_seen)
                problem = problem or _against_checkpoint(entry, mark)
                if problem is not None:
                    return Verification(False, checked, expected_seq, problem)
                keyed_seen = keyed_seen or entry.keyed
                expected_seq, prev_hash, checked = expected_seq + 1, entry.hash, checked + 1
            if len(batch) < page:
                break
        head_seq, head_hash = await self._store.head()
        if head_seq != checked or head_hash != prev_hash:
            # Entries after the last one found were removed (or the head was rewritten).
            return Verification(False, checked, checked + 1, "entry missing at the end of the log")
        if mark is not None and mark.seq > checked:
            problem = (
                f"missing: the log ends at entry {checked} but the checkpoint holds entry "
                f"{mark.seq} (entries were cut off the end)"
            )
            return Verification(False, checked, checked + 1, problem)
        warning = None
        if self._checkpoint is not None and mark is None and checked:
            warning = (
                f"no checkpoint at {self._checkpoint.path}: entries cut off the end of the log "
                "would go unseen"
            )
        return Verification(True, checked, warning=warning)


def _against_checkpoint(entry: AuditEntry, mark: Mark | None) -> str | None:
    if mark is not None and mark.seq == entry.seq and entry.hash != mark.hash:
        return "differs from the checkpoint: the chain was rewritten"
    return None


def _check(
    entry: AuditEntry, expected_seq: int, prev_hash: str, key: AuditKey, keyed_seen: bool
) -> str | None:
    if entry.seq != expected_seq:
        return f"missing: entry {entry.seq} comes next (removed or renumbered)"
    if entry.prev_hash != prev_hash:
        return "does not follow the previous entry: an entry was removed, reordered or altered"
    if entry.hash_alg not in (None, HASH_PLAIN, HASH_KEYED):
        return "unknown hash algorithm: the entry was altered"
    if not entry.keyed and keyed_seen:
        return "not sealed with the audit key, after keyed entries: the entry was rewritten"
    if not entry.keyed and entry.detail is not None:
        return "an unkeyed entry with a detail, which unkeyed entries never had: altered"
    if entry.computed_hash(key) != entry.hash:
        if entry.keyed:
            return "content does not match its keyed hash: altered, or written without the key"
        return "content does not match its hash: the entry was altered"
    return None
