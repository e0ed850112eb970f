"""What keeps the audit chain honest from outside the graph: its key and its checkpoint.

Whoever can write the graph could otherwise remove an entry and recompute every later hash. So
entries are sealed with HMAC-SHA256 under a key the graph never holds (`AuditKey`), and the
newest entry this hub appended is written, HMAC'd under the same key, to a checkpoint file in the
data dir (`Checkpoint`): a chain whose head falls below the checkpoint was cut short, and a chain
that no longer holds the checkpointed entry with the same hash was rewritten.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from pathlib import Path

from policies.files import read_or_create_private, read_private, replace_private

KEY_BYTES = 32


class AuditKeyError(ValueError):
    """The audit key is missing or too short; the hub must not start without one."""


class AuditKey:
    """The HMAC key of the audit chain. Every replica of one hub must hold the same key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < KEY_BYTES:
            raise AuditKeyError(f"the audit key must be at least {KEY_BYTES} bytes")
        self._key = key

    @classmethod
    def ephemeral(cls) -> AuditKey:
        """A random key for one process: entries it seals verify only in that process."""
        return cls(os.urandom(KEY_BYTES))

    def mac(self, content: bytes) -> str:
        return hmac.new(self._key, content, hashlib.sha256).hexdigest()


def load_audit_key(
    data_dir: Path, key_file: Path | None = None, *, create: bool = True
) -> AuditKey:
    """The key from `key_file` (a mounted secret, shared by replicas), which must exist; without
    one, `<data dir>/keys/audit.key`, created (0600, 32 random bytes) on first use unless
    `create` is False (a verifier must not make up a key the hub never used)."""
    path = key_file or data_dir / "keys" / "audit.key"
    if key_file is None and create:
        return AuditKey(read_or_create_private(path, lambda: os.urandom(KEY_BYTES)))
    if not path.exists():
        raise AuditKeyError(f"no audit key at {path}: the hub's key is needed")
    return AuditKey(read_private(path))


@dataclass(frozen=True)
class Mark:
    """One entry of the chain as a checkpoint remembers it."""

    seq: int
    hash: str


class CheckpointInvalid(Exception):
    """The checkpoint file is unreadable or its MAC does not match: it was altered."""


class Checkpoint:
    """The newest entry this data dir's hub appended, in a file HMAC'd with the audit key.

    It only moves forward: a write with a lower seq than the file holds is ignored, so a
    checkpoint left from before a restore keeps saying how far the log once reached."""

    def __init__(self, path: Path, key: AuditKey) -> None:
        self.path = path
        self._key = key

    @classmethod
    def in_data_dir(cls, data_dir: Path, key: AuditKey) -> Checkpoint:
        return cls(data_dir / "audit" / "checkpoint.json", key)

    def _mac(self, mark: Mark) -> str:
        return self._key.mac(f"crossforce-audit-checkpoint:{mark.seq}:{mark.hash}".encode())

    def read(self) -> Mark | None:
        """The checkpointed entry, None when there is no file; `CheckpointInvalid` if altered."""
        if not self.path.exists():
            return None
        try:
            content = json.loads(read_private(self.path))
            mark = Mark(int(content["seq"]), str(content["hash"]))
            valid = hmac.compare_digest(self._mac(mark), str(content["mac"]))
        except (ValueError, KeyError, TypeError) as error:
            raise CheckpointInvalid(f"checkpoint {self.path} is unreadable") from error
        if not valid:
            raise CheckpointInvalid(f"checkpoint {self.path} does not match its MAC: altered")
        return mark

    def advance(self, mark: Mark) -> None:
        """Move the checkpoint to `mark` unless it already holds a later entry; raises
        `CheckpointInvalid` (and leaves the file as it is) when the file was altered."""
        current = self.read()  # an altered file is left as evidence: `CheckpointInvalid`
        if current is not None and current.seq >= mark.seq:
            return
        content = {"seq": mark.seq, "hash": mark.hash, "mac": self._mac(mark)}
        replace_private(self.path, json.dumps(content).encode())


def append_line(path: Path, line: str) -> None:
    """Append one line to a private (0600) file: the audit mirror, a copy outside the graph."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")
