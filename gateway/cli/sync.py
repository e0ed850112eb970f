"""`crossforce sync FILE --client ID`: push a JSON Lines file of case summaries to the hub.

The file is streamed, never loaded whole. A line that is not a JSON object is reported rejected
with its line number and the sync goes on. Progress goes to stderr, the summary to stdout.

Exit status: 0 when every record was applied or stale; 1 when any was rejected, or the hub gave
an answer the sync could not use; 2 when the sync could not run (usage, credentials, the hub
unreachable or unavailable for the whole retry budget).
"""

from __future__ import annotations

import asyncio
import bisect
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from crossforce_sdk import (
    AuthError,
    CrossforceClient,
    CrossforceError,
    HubUnavailable,
    InvalidRecord,
    SyncProgress,
    SyncReport,
)
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_CANNOT_RUN = 2

DEFAULT_URL = "http://127.0.0.1:8000"
URL_ENV = "CROSSFORCE_URL"
SECRET_ENV = "CROSSFORCE_CLIENT_SECRET"  # noqa: S105 (the variable's name)
DATA_DIR_ENV = "CROSSFORCE_DATA_DIR"
DEFAULT_DATA_DIR = ".crossforce"
SHOWN_REJECTIONS = 10
SHOWN_MESSAGE_CHARS = 200


class SecretNotFound(Exception):
    """No client secret from the option, the environment or the development provider's file."""


# --- the input file -----------------------------------------------------------------------------


class JsonLinesFile:
    """Reads case summaries from a JSON Lines file one line at a time.

    Blank lines are skipped, so the n-th record is not always on line n+1; `line_of` maps back.
    It keeps only the record indexes where the gap grows (one entry per run of blank lines), so
    memory does not grow with the file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.bytes_read = 0
        self._gap_starts: list[int] = []  # record index from which...
        self._gaps: list[int] = []  # ...this many blank lines come before it

    def records(self) -> Iterator[dict[str, Any] | InvalidRecord]:
        index = 0
        gap = 0
        with self.path.open("rb") as handle:
            for line_number, raw in enumerate(handle, start=1):
                self.bytes_read += len(raw)
                if not raw.strip():
                    continue
                if line_number - 1 - index != gap:
                    gap = line_number - 1 - index
                    self._gap_starts.append(index)
                    self._gaps.append(gap)
                index += 1
                yield _parse_line(raw, first=line_number == 1)

    def line_of(self, index: int) -> int:
        """The 1-based line number of the record at `index`."""
        position = bisect.bisect_right(self._gap_starts, index) - 1
        return index + 1 + (self._gaps[position] if position >= 0 else 0)


def _parse_line(raw: bytes, *, first: bool) -> dict[str, Any] | InvalidRecord:
    """A record, or why the line is not one. Messages never quote the line: it is case data."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return InvalidRecord("line is not UTF-8 text")
    if first:
        text = text.removeprefix("\ufeff")  # a byte order mark some editors write
    try:
        record = json.loads(text)
    except json.JSONDecodeError as error:
        return InvalidRecord(f"line is not valid JSON ({error.msg} at column {error.colno})")
    except RecursionError:
        return InvalidRecord("line is not valid JSON (nested too deeply)")
    if not isinstance(record, dict):
        return InvalidRecord("line is not a JSON object")
    return record


# --- the client secret --------------------------------------------------------------------------


def data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV) or DEFAULT_DATA_DIR)


def devidp_secrets_file(directory: Path) -> Path:
    """Where the development identity provider keeps client secrets (policies/devidp.py)."""
    return directory / "devidp" / "client-secrets.json"


def resolve_secret(client_id: str, explicit: str | None) -> str:
    """--secret, else CROSSFORCE_CLIENT_SECRET, else the development provider's secrets file."""
    if explicit:
        return explicit
    from_env = os.environ.get(SECRET_ENV)
    if from_env:
        return from_env
    path = devidp_secrets_file(data_dir())
    if not path.exists():
        raise SecretNotFound(
            f"no client secret for {client_id!r}: pass --secret, set {SECRET_ENV}, or run this "
            f"beside a hub that uses the development identity provider (looked in {path})"
        )
    # As the provider itself does (and ssh): a secret others can read is refused, not used.
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        raise SecretNotFound(f"{path} must be readable by its owner only (chmod 600)")
    try:
        known = json.loads(path.read_bytes())
    except (OSError, ValueError):
        raise SecretNotFound(f"{path} could not be read as a JSON object") from None
    secret = known.get(client_id) if isinstance(known, dict) else None
    if not isinstance(secret, str) or not secret:
        raise SecretNotFound(f"no client secret for {client_id!r} in {path}")
    return secret


# --- progress and summary -----------------------------------------------------------------------


class ProgressBar:
    """A Rich progress bar on stderr over the file's bytes (a record count is unknown until the
    end of a streamed file), with running counts and records/s; fits 80 columns."""

    def __init__(self, source: JsonLinesFile) -> None:
        self._source = source
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=24),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]:>8.1f} records/s"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
        )
        self._task: TaskID = self.progress.add_task("syncing", total=source.size or None, rate=0.0)

    def update(self, progress: SyncProgress) -> None:
        self.progress.update(
            self._task,
            completed=self._source.bytes_read,
            description=(
                f"{progress.applied} applied, {progress.stale} stale, {progress.rejected} rejected"
            ),
            rate=progress.records_per_second,
        )


def print_summary(report: SyncReport, source: JsonLinesFile) -> None:
    typer.echo(
        f"{report.processed} record{'' if report.processed == 1 else 's'} "
        f"in {report.elapsed:.1f} s "
        f"({report.records_per_second:.1f} records/s): {report.applied} applied, "
        f"{report.stale} stale, {report.rejected} rejected"
    )
    if not report.rejections:
        return
    shown = report.rejections[:SHOWN_REJECTIONS]
    typer.echo(f"rejected (first {len(shown)} of {report.rejected}):")
    for rejection in shown:
        where = f"line {source.line_of(rejection.index)}"
        if rejection.case_ref:
            where += f" ({rejection.case_ref})"
        problems = "; ".join(
            f"{error.path or '(whole record)'}: {error.message[:SHOWN_MESSAGE_CHARS]}"
            for error in rejection.errors
        )
        typer.echo(f"  {where}: {problems or 'rejected'}")


# --- the command --------------------------------------------------------------------------------


def run_sync_command(
    file: Path, *, client_id: str, url: str, secret: str | None, batch_size: int
) -> int:
    """The whole of `crossforce sync`; returns the exit status."""
    if not url.startswith(("http://", "https://")):
        typer.echo("crossforce sync: --url must be an http:// or https:// URL", err=True)
        return EXIT_CANNOT_RUN
    try:
        client_secret = resolve_secret(client_id, secret)
    except SecretNotFound as error:
        typer.echo(f"crossforce sync: {error}", err=True)
        return EXIT_CANNOT_RUN
    source = JsonLinesFile(file)
    try:
        report = asyncio.run(_push(source, url, client_id, client_secret, batch_size))
    except CrossforceError as error:
        if error.report is not None and error.report.processed:
            print_summary(error.report, source)
        typer.echo(f"crossforce sync: {error}", err=True)
        if isinstance(error, AuthError | HubUnavailable):
            return EXIT_CANNOT_RUN
        return EXIT_REJECTED
    except OSError as error:
        typer.echo(f"crossforce sync: cannot read {file}: {error.strerror}", err=True)
        return EXIT_CANNOT_RUN
    print_summary(report, source)
    return EXIT_OK if report.ok else EXIT_REJECTED


async def _push(
    source: JsonLinesFile, url: str, client_id: str, client_secret: str, batch_size: int
) -> SyncReport:
    bar = ProgressBar(source)
    with bar.progress:
        async with CrossforceClient(url, client_id, client_secret, batch_size=batch_size) as client:
            report = await client.sync(source.records(), on_progress=bar.update)
        bar.update(report.progress())
    return report
