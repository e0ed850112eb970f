"""`crossforce import cybertipline|csv FILE --client C`: a referral file imported as case
summaries.

The file is read twice, streamed both times: first to map and validate every referral for the
client's force, refusing the whole file (nothing sent) at a malformed line or a referral that
cannot become a case summary, unless `--partial`; then to push the summaries with the Python
SDK under the client's own credentials, as the force's system would, so the hub's
authentication, limits, validation and audit all apply. Nothing of the file is written to disk.

Exit status: 0 when every referral was applied or already held; 1 when the file was refused or
the hub rejected a referral; 2 when the import could not run (no such client, no secret, the
hub unreachable).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from crossforce_sdk import AuthError, CrossforceClient, CrossforceError, HubUnavailable, SyncReport

from federation.referrals.case_refs import CaseRefs
from federation.referrals.errors import MalformedFile
from federation.referrals.importer import Check, Mapped, Refused, check, reader
from federation.referrals.xml_records import file_chunks
from gateway.cli.sync import SecretNotFound, resolve_secret

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2
SHOWN = 10


class ReferralFile:
    """The referrals of one file for one force, read as often as asked, the same each time."""

    def __init__(self, path: Path, format_name: str, force: str, case_refs: CaseRefs) -> None:
        self.path = path
        self.force = force
        self.now = datetime.now(UTC)  # one receipt time for both readings
        self._read = reader(format_name, case_refs)
        self.lines: list[int] = []  # the line of each referral pushed, by its index

    def outcomes(self) -> Iterator[Mapped | Refused]:
        return self._read(file_chunks(str(self.path)), self.force, self.now)

    def summaries(self) -> Iterator[dict[str, Any]]:
        self.lines.clear()
        for outcome in self.outcomes():
            if isinstance(outcome, Mapped):
                self.lines.append(outcome.line)
                yield outcome.summary


def run_import_command(
    file: Path,
    *,
    format_name: str,
    client_id: str,
    force: str,
    case_refs: CaseRefs,
    url: str,
    secret: str | None,
    partial: bool,
    batch_size: int,
) -> int:
    """The whole of `crossforce import`; returns the exit status."""
    command = f"crossforce import {format_name}"
    source = ReferralFile(file, format_name, force, case_refs)
    try:
        found = check(source.outcomes())
    except MalformedFile as error:
        typer.echo(f"{command}: {file}: {error}; nothing was imported", err=True)
        return EXIT_REFUSED
    except OSError as error:
        typer.echo(f"{command}: cannot read {file}: {error.strerror}", err=True)
        return EXIT_CANNOT_RUN
    _print_check(found)
    if found.refused and not partial:
        typer.echo(
            f"{command}: nothing was imported; fix the file, or pass --partial to import the "
            f"{found.importable} other referral(s)",
            err=True,
        )
        return EXIT_REFUSED
    if not found.importable:
        typer.echo(f"{command}: no referral could be imported", err=True)
        return EXIT_REFUSED
    try:
        client_secret = resolve_secret(client_id, secret)
    except SecretNotFound as error:
        typer.echo(f"{command}: {error}", err=True)
        return EXIT_CANNOT_RUN
    try:
        report = asyncio.run(_push(source, url, client_id, client_secret, batch_size))
    except CrossforceError as error:
        if error.report is not None:
            _print_report(error.report, source)
        typer.echo(f"{command}: {error}", err=True)
        return EXIT_CANNOT_RUN if isinstance(error, AuthError | HubUnavailable) else EXIT_REFUSED
    _print_report(report, source)
    return EXIT_OK if report.ok and not found.refused else EXIT_REFUSED


async def _push(
    source: ReferralFile, url: str, client_id: str, secret: str, batch_size: int
) -> SyncReport:
    async with CrossforceClient(url, client_id, secret, batch_size=batch_size) as client:
        return await client.sync(source.summaries())


def _print_check(found: Check) -> None:
    """Refused referrals, and those with parts not mapped, by line and report id only."""
    typer.echo(
        f"{found.referrals} referral(s) read: {found.importable} importable, "
        f"{len(found.refused)} refused, {found.with_gaps} with parts not mapped"
    )
    for refused in found.refused[:SHOWN]:
        typer.echo(f"  refused: line {refused.line} ({refused.reference or 'no report id'}): "
                   f"{refused.reason}")  # fmt: skip
    if len(found.refused) > SHOWN:
        typer.echo(f"  ... and {len(found.refused) - SHOWN} more refused")
    for mapped in found.first_gaps[:SHOWN]:
        typer.echo(f"  not mapped: line {mapped.line} ({mapped.reference}): "
                   + "; ".join(mapped.unmapped))  # fmt: skip
    if found.with_gaps > SHOWN:
        typer.echo(f"  ... and {found.with_gaps - SHOWN} more referrals with parts not mapped")


def _print_report(report: SyncReport, source: ReferralFile) -> None:
    typer.echo(
        f"{report.processed} case summar{'y' if report.processed == 1 else 'ies'} sent in "
        f"{report.elapsed:.1f} s ({report.records_per_second:.1f}/s): {report.applied} applied, "
        f"{report.stale} already held, {report.rejected} rejected by the hub"
    )
    for rejection in report.rejections[:SHOWN]:
        line = source.lines[rejection.index] if rejection.index < len(source.lines) else "?"
        problems = "; ".join(f"{e.path or '(case)'}: {e.message}" for e in rejection.errors)
        typer.echo(f"  rejected: line {line} ({rejection.case_ref}): {problems or 'rejected'}")
