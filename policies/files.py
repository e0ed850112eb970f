"""Private files in the data dir: development keys and secrets, readable by this user only.

Files are created whole or not at all (written to a temporary file, then linked into place), so
two processes starting at once agree on one key instead of each writing its own.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path


class InsecureFile(PermissionError):
    """A key or secret file that other users could read or change."""


def private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def read_private(path: Path) -> bytes:
    """Read a secret file, refusing one that group or others may access (as ssh does)."""
    mode = path.stat().st_mode
    if stat.S_IMODE(mode) & 0o077:
        raise InsecureFile(f"{path} must be readable by its owner only (chmod 600)")
    return path.read_bytes()


def create_private(path: Path, content: bytes) -> bool:
    """Create `path` with mode 0600 holding `content`; False when it already exists."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


def replace_private(path: Path, content: bytes) -> None:
    """Atomically replace `path` (mode 0600) with `content`."""
    private_dir(path.parent)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def read_or_create_private(path: Path, make: Callable[[], bytes]) -> bytes:
    """The file's content, creating it from `make()` on first use."""
    if not path.exists():
        create_private(path, make())
    return read_private(path)
