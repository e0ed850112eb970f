"""The `crossforce` command line: the hub's server and operator tooling, `search` for analysts,
and `sync`, `region` and `demo` for trying it out."""

from __future__ import annotations

import getpass
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from gateway.cli.region import region

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from federation.changes import Hold
    from federation.hashsets import HashSetImport
    from federation.reseal import ResealProgress
    from gateway.config import Settings
    from gateway.history_keeper import Kept
    from graph import GraphConnection
    from policies.audit import Verification

T = TypeVar("T")

app = typer.Typer(no_args_is_help=True, add_completion=False, help="Crossforce regional hub")
app.command()(region)


def _print_version(asked: bool) -> None:
    if asked:
        from importlib.metadata import version

        typer.echo(f"crossforce {version('crossforce')}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="print the installed version and exit",
    ),
) -> None:
    """Crossforce regional hub"""


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="address to listen on"),
    port: int = typer.Option(8000, help="port to listen on"),
    workers: int = typer.Option(
        1, min=1, max=64, help="hub processes on this port (needs CROSSFORCE_GRAPH_URI)"
    ),
) -> None:
    """Run the gateway; the graph comes from CROSSFORCE_GRAPH_URI, embedded when unset."""
    import os

    import uvicorn

    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.http_server import uvicorn_options
    from gateway.observability import configure_logging
    from policies.devidp import NotInProduction, require_external_issuer

    settings = Settings()
    try:
        require_external_issuer(settings.environment, settings.oidc_issuer)
    except NotInProduction as error:
        typer.echo(f"crossforce serve: {error}", err=True)
        raise typer.Exit(2) from None
    if settings.public_url is None:
        settings.public_url = f"http://{host}:{port}"
    _check_policies(settings)
    configure_logging(settings)
    # On SIGTERM uvicorn stops accepting, lets in-flight syncs finish for up to the grace
    # period, then stops the app. Header size and time are bounded (gateway/http_server.py).
    options = dict(host=host, port=port, **uvicorn_options(settings))
    if workers == 1:
        uvicorn.run(create_app(settings), **options)
        return
    # Each worker is a replica of its own (README, "The graph"): the embedded graph belongs to
    # one process, so several need a graph server.
    if settings.graph_uri is None:
        raise typer.BadParameter("needs CROSSFORCE_GRAPH_URI", param_hint="--workers")
    _prepare_data_dir(settings)
    os.environ["CROSSFORCE_PUBLIC_URL"] = settings.public_url  # workers read it from there
    uvicorn.run("gateway.cli:worker_app", factory=True, workers=workers, **options)


def _check_policies(settings: Settings) -> None:
    """Refuse to start on a policy file that does not validate, saying where the mistake is."""
    from policies.case_rules import load_case_rules
    from policies.scopes import PolicyFileError

    try:
        load_case_rules(settings.policy_dir)
    except PolicyFileError as error:
        typer.echo(f"crossforce serve: {error}", err=True)
        raise typer.Exit(2) from None


def _prepare_data_dir(settings: Settings) -> None:
    """Development keys are made on first use: make them once here, not in each worker."""
    from policies.devidp import provider
    from policies.keys import LocalKeyFile

    if settings.oidc_issuer is None:
        provider(settings.data_dir, issuer=settings.public_url or "",
                 audience=settings.audience, policy_dir=settings.policy_dir)  # fmt: skip
    if settings.vault_addr is None:
        LocalKeyFile.in_data_dir(settings.data_dir)


def worker_app() -> Starlette:
    """One `serve --workers` process: settings from the environment, as the parent's."""
    from gateway.app import create_app
    from gateway.config import Settings
    from gateway.http_server import configure_server
    from gateway.observability import configure_logging

    settings = Settings()
    configure_logging(settings)
    configure_server(settings)
    return create_app(settings)


@app.command()
def demo(
    keep_serving: bool | None = typer.Option(
        None, "--serve/--exit", help="keep the hub running afterwards (default: when interactive)"
    ),
    port: int | None = typer.Option(None, help="port for the hub (default: a free one)"),
    cases: int = typer.Option(3000, min=50, max=200_000, help="size of the synthetic region"),
) -> None:
    """What `make demo` runs: start the hub, sync a synthetic region, print where to look."""
    from gateway.demo.tour import run_demo

    run_demo(keep_serving, port, cases)


@app.command()
def token(
    client: str = typer.Option(..., "--client", help="client id from clients.yaml"),
    scope: str | None = typer.Option(None, "--scope", help='space-separated, e.g. "cases:read"'),
) -> None:
    """Print an access token from the development identity provider (no server needed), for
    the hub last started on this data dir (CROSSFORCE_PUBLIC_URL overrides)."""
    from gateway.config import Settings
    from policies.devidp import mint_token

    settings = Settings()
    if settings.oidc_issuer:
        typer.echo("CROSSFORCE_OIDC_ISSUER is set: get tokens from that issuer", err=True)
        raise typer.Exit(2)
    issuer = _local_hub(settings, "token")
    try:
        access_token = mint_token(
            settings.data_dir,
            issuer,
            settings.audience,
            client,
            scope,
            policy_dir=settings.policy_dir,
        )
    except ValueError as error:
        typer.echo(f"crossforce token: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(access_token)


def _local_hub(settings: Settings, command: str) -> str:
    """The hub this data dir belongs to: CROSSFORCE_PUBLIC_URL, else the issuer the last hub
    started on it recorded (whatever its port), else `serve`'s default address."""
    from policies.devidp import DEFAULT_DEV_ISSUER, recorded_issuer
    from policies.files import InsecureFile

    if settings.public_url:
        return settings.public_url
    try:
        return recorded_issuer(settings.data_dir) or DEFAULT_DEV_ISSUER
    except InsecureFile as error:
        typer.echo(f"crossforce {command}: {error}", err=True)
        raise typer.Exit(2) from None


keys_app = typer.Typer(no_args_is_help=True, help="Data keys of field encryption")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log")
links_app = typer.Typer(no_args_is_help=True, help="Link events held by the case rules' ceiling")
history_app = typer.Typer(no_args_is_help=True, help="Each force's figures kept day by day")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(links_app, name="links")
app.add_typer(history_app, name="history")


def _force_code(command: str, force: str | None, *, of_region: bool = True) -> str | None:
    """`--force` upper-cased; with `of_region`, one of the forces CROSSFORCE_POLICY_DIR's
    clients.yaml names. Anything else is a one-line error and exit 2."""
    from gateway.config import Settings
    from policies.scopes import FORCE_CODE, PolicyFileError, load_clients

    if force is None:
        return None
    code = force.strip().upper()
    if not FORCE_CODE.match(code):
        typer.echo(f"crossforce keys {command}: --force takes a force code such as AS", err=True)
        raise typer.Exit(2)
    if of_region:
        path = Settings().policy_dir / "clients.yaml"
        try:
            known = load_clients(path).forces
        except PolicyFileError as error:
            typer.echo(f"crossforce keys {command}: {error}", err=True)
            raise typer.Exit(2) from None
        if code not in known:
            region = ", ".join(known) or f"none listed in {path}"
            typer.echo(
                f"crossforce keys {command}: unknown force {code}; the region's forces: {region}",
                err=True,
            )
            raise typer.Exit(2)
    return code


def _run(command: str, work: Coroutine[Any, Any, T]) -> T:
    """Run an admin command's work; a graph or key problem is one line and exit 1, not a
    traceback."""
    import asyncio

    from graph import GraphError
    from graph.embedded import EmbeddedGraphError
    from policies.audit import AuditUnavailable
    from policies.keys import KeyringError

    try:
        return asyncio.run(work)
    except (EmbeddedGraphError, GraphError, KeyringError, AuditUnavailable) as error:
        typer.echo(f"crossforce {command}: {error}", err=True)
        raise typer.Exit(1) from None


@keys_app.command("rotate")
def keys_rotate(
    force: str | None = typer.Option(None, "--force", help="force code; all forces when omitted"),
) -> None:
    """Add a data key version: new writes use it, old ciphertext stays readable."""
    added = _run("keys rotate", _rotate(_force_code("rotate", force)))
    if not added:
        typer.echo("no data keys yet: nothing to rotate")
    for code, version in sorted(added.items()):
        typer.echo(f"{code}: now data key version {version}")
    if added:
        typer.echo(
            "older data is re-encrypted by the hub in the background, or now by `keys reseal`"
        )


@keys_app.command("reseal")
def keys_reseal(
    force: str | None = typer.Option(None, "--force", help="force code; all forces when omitted"),
) -> None:
    """Re-encrypt data sealed under older key versions with each force's current version."""
    for progress in _run("keys reseal", _reseal(_force_code("reseal", force))):
        line = (
            f"{progress.force}: {progress.resealed} of {progress.total} cases resealed "
            f"to data key version {progress.version}"
        )
        if progress.changed:
            line += f"; {progress.changed} rewritten by syncs meanwhile"
        if progress.unreadable:
            line += f"; {progress.unreadable} unreadable (shredded key)"
        typer.echo(line)


@keys_app.command("shred")
def keys_shred(
    force: str = typer.Option(..., "--force", help="force code"),
    version: int = typer.Option(..., "--version", min=1, help="data key version to destroy"),
    yes: bool = typer.Option(False, "--yes", help="do not ask for confirmation"),
) -> None:
    """Destroy one data key version for good: whatever it sealed can never be read again."""
    code = _force_code("shred", force, of_region=False) or force
    if not yes:
        typer.confirm(
            f"Shred data key {code} v{version}? Data sealed with it becomes unreadable for good",
            abort=True,
        )
    for line in _run("keys shred", _shred(code, version)):
        typer.echo(line)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit log's hash chain; non-zero exit and the first bad entry if broken."""
    from policies.audit_anchor import AuditKeyError

    try:
        result = _run("audit verify", _verify())
    except AuditKeyError as error:
        typer.echo(f"crossforce audit verify: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(result.describe())
    if not result.ok:
        raise typer.Exit(1)


@links_app.command("held")
def links_held() -> None:
    """The forces whose link events are held (their intake went over the daily ceiling)."""
    import asyncio
    from datetime import UTC, datetime

    found = asyncio.run(_holds())
    if not found:
        typer.echo("no force's link events are held")
    for hold in found:
        since = datetime.fromtimestamp(hold.since_ms / 1000, UTC).isoformat(timespec="seconds")
        typer.echo(f"{hold.force}: held since {since}, {hold.events} events waiting")


@links_app.command("release")
def links_release(
    force: str = typer.Option(..., "--force", help="force code whose held events to release"),
) -> None:
    """Put a force's held link events on its change feed and lift the hold (audited)."""
    import asyncio

    from policies.scopes import FORCE_CODE

    if not FORCE_CODE.match(force):
        typer.echo("crossforce links release: --force takes a force code such as AS", err=True)
        raise typer.Exit(2)
    released = asyncio.run(_release(force))
    typer.echo(f"{force}: {released} held events released to its change feed")


@history_app.command("backfill")
def history_backfill(
    days: int = typer.Option(400, "--days", min=1, max=3660, help="how many days back at most"),
) -> None:
    """Write each force's figures for the days the graph does not hold, from case dates."""
    kept = _run("history backfill", _backfill(days))
    typer.echo(f"{kept.written} force days written, {kept.held} already held")


async def _backfill(days: int) -> Kept:
    from gateway.cli.history import backfill
    from policies.case_rules import load_case_rules

    settings, connection = _graph()
    try:
        return await backfill(connection, load_case_rules(settings.policy_dir), days)
    finally:
        await connection.close()


async def _holds() -> list[Hold]:
    from federation.changes import holds

    _, connection = _graph()
    try:
        await connection.store.migrate()
        return await holds(connection.store)
    finally:
        await connection.close()


async def _release(force: str) -> int:
    import time

    from federation.changes import release
    from graph.audit_store import GraphAuditStore
    from policies.audit import AuditLog
    from policies.case_rules import load_case_rules

    settings, connection = _graph()
    try:
        rules = load_case_rules(settings.policy_dir)  # the links are counted again under them
        await connection.store.migrate()
        audit = AuditLog(GraphAuditStore(connection.store))
        # Audited first: a release that cannot be recorded does not happen.
        await audit.record(actor=_operator(), action="links.release", target=f"force:{force}")
        return await release(connection.store, force, int(time.time() * 1000), rules=rules)
    finally:
        await connection.close()


def _graph() -> tuple[Settings, GraphConnection]:
    from gateway.config import Settings, open_configured_graph

    settings = Settings()
    # While the hub runs on the embedded graph, join its server rather than refuse.
    return settings, open_configured_graph(settings, attach=True)


async def _rotate(force: str | None) -> dict[str, int]:
    from gateway.protection import keyring_for

    settings, connection = _graph()
    try:
        await connection.store.migrate()
        keyring = keyring_for(settings, connection.store)
        return await keyring.rotate(force, actor=_operator())
    finally:
        await connection.close()


async def _shred(force: str, version: int) -> list[str]:
    """Shred, then have the graph's files forget the wrapped key; lines to print."""
    from gateway.protection import keyring_for
    from policies.keys import UnknownKeyVersion

    settings, connection = _graph()
    try:
        await connection.store.migrate()
        keyring = keyring_for(settings, connection.store)
        stored = {key.version: key for key in await keyring.versions(force)}
        if version not in stored:
            raise UnknownKeyVersion(force, version)
        if stored[version].wrapped is None:
            lines = [f"{force}: data key version {version} was already shredded"]
        else:
            await keyring.shred(force, version, actor=_operator())
            lines = [f"{force}: data key version {version} shredded"]
        lines.append(await connection.purge_history())
        return lines
    finally:
        await connection.close()


async def _reseal(force: str | None) -> list[ResealProgress]:
    from federation.reseal import Resealer
    from gateway.protection import keyring_for
    from policies.crypto import FieldCipher

    def report(progress: ResealProgress) -> None:
        typer.echo(f"{progress.force}: {progress.handled}/{progress.total}", err=True)

    settings, connection = _graph()
    try:
        await connection.store.migrate()
        resealer = Resealer(connection.store, FieldCipher(keyring_for(settings, connection.store)))
        if force is None:
            return await resealer.reseal_all(report)
        one = await resealer.reseal_force(force, report)
        return [one] if one is not None else []
    finally:
        await connection.close()


def _operator() -> str:
    """The audit log's actor for local commands: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


async def _verify() -> Verification:
    from gateway.protection import audit_log_for

    settings, connection = _graph()
    try:
        await connection.store.migrate()
        return await audit_log_for(settings, connection.store, create_key=False).verify()
    finally:
        await connection.close()


# The options every command that pushes case summaries as a force system takes.
ForceClient = Annotated[str, typer.Option("--client", help="client id of the force, e.g. force-AS")]
HubUrl = Annotated[
    str | None,
    typer.Option(
        envvar="CROSSFORCE_URL",
        show_default=False,
        help="the hub's base URL (default: the hub last started on the data dir, else "
        "http://127.0.0.1:8000)",
    ),
]
ClientSecret = Annotated[
    str | None,
    typer.Option(
        envvar="CROSSFORCE_CLIENT_SECRET",
        show_default=False,
        help="client secret (default: the development identity provider's, from the data dir)",
    ),
]
BatchSize = Annotated[int, typer.Option(min=1, help="case summaries per request at most")]
Partial = Annotated[
    bool, typer.Option("--partial", help="import the referrals that can be, even if others cannot")
]


@app.command()
def sync(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="JSON Lines file of case summaries"
        ),
    ],
    client: ForceClient,
    url: HubUrl = None,
    secret: ClientSecret = None,
    batch_size: BatchSize = 500,
) -> None:
    """Push a JSON Lines file of case summaries; exit 0 only if all were applied or stale."""
    from gateway.cli.sync import run_sync_command
    from gateway.config import Settings

    hub = url or _local_hub(Settings(), "sync")
    raise typer.Exit(
        run_sync_command(file, client_id=client, url=hub, secret=secret, batch_size=batch_size)
    )


import_app = typer.Typer(no_args_is_help=True, help="Import referrals from other bodies' formats")
app.add_typer(import_app, name="import")


@import_app.command("cybertipline")
def import_cybertipline(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CyberTipline referral XML file"
        ),
    ],
    client: ForceClient,
    partial: Partial = False,
    url: HubUrl = None,
    secret: ClientSecret = None,
    batch_size: BatchSize = 500,
) -> None:
    """Import NCMEC CyberTipline reports as the client's case summaries; all or nothing."""
    _import_referrals("cybertipline", file, client, partial, url, secret, batch_size)


@import_app.command("csv")
def import_csv(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="CSV referral package (docs/intake.md)"
        ),
    ],
    client: ForceClient,
    partial: Partial = False,
    url: HubUrl = None,
    secret: ClientSecret = None,
    batch_size: BatchSize = 500,
) -> None:
    """Import a CSV referral package (NCA, ROCU, Child Protection System); all or nothing."""
    _import_referrals("csv", file, client, partial, url, secret, batch_size)


def _import_referrals(
    format_name: str,
    file: Path,
    client: str,
    partial: bool,
    url: str | None,
    secret: str | None,
    batch_size: int,
) -> None:
    from federation.referrals.case_refs import CaseRefs
    from gateway.cli.referrals import EXIT_CANNOT_RUN, run_import_command
    from gateway.config import Settings
    from policies.blind_index import load_linking_key
    from policies.scopes import PolicyFileError, load_clients

    command = f"crossforce import {format_name}"
    settings = Settings()
    try:
        force = load_clients(settings.policy_dir / "clients.yaml").force_of(client)
    except PolicyFileError as error:
        typer.echo(f"{command}: {error}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    if force is None:
        typer.echo(f"{command}: client {client!r} acts for no force", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    # Case references are keyed by the region's linking key: the command runs beside the hub.
    linking_key = settings.data_dir / "keys" / "linking.key"
    if not linking_key.exists():
        typer.echo(
            f"{command}: no linking key in {settings.data_dir} (set CROSSFORCE_DATA_DIR to the "
            "hub's data dir): imported cases are named with it",
            err=True,
        )
        raise typer.Exit(EXIT_CANNOT_RUN)
    case_refs = CaseRefs.for_region(load_linking_key(settings.data_dir))
    hub = url or _local_hub(settings, f"import {format_name}")
    raise typer.Exit(
        run_import_command(
            file,
            format_name=format_name,
            client_id=client,
            force=force,
            case_refs=case_refs,
            url=hub,
            secret=secret,
            partial=partial,
            batch_size=batch_size,
        )
    )


hashsets_app = typer.Typer(no_args_is_help=True, help="Known-image hash sets of the region")
app.add_typer(hashsets_app, name="hashsets")


@hashsets_app.command("import")
def hashsets_import(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="Project VIC VICS JSON (.json) or a CSV hash list (md5/sha1/pdq,category)",
        ),
    ],
    name: str | None = typer.Option(None, "--name", help="the set's name (default: the file's)"),
    source: str = typer.Option("Project VIC", "--source", help="who graded the set"),
    set_date: str | None = typer.Option(None, "--date", help="the set's date, YYYY-MM-DD"),
) -> None:
    """Keep a known-image hash set as the region's: matching media need no viewing."""
    from federation.hashsets import SHOWN_SKIPS, HashSetFileError

    set_name = name or file.stem
    if set_date is not None:
        from datetime import date

        try:
            date.fromisoformat(set_date)
        except ValueError:
            typer.echo("crossforce hashsets import: --date takes YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
    try:
        done = _run("hashsets import", _import_hash_set(file, set_name, source, set_date))
    except HashSetFileError as error:
        typer.echo(f"crossforce hashsets import: {file}: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(
        f"{source}: {set_name}: {done.listed} hashes listed ({done.entries} read, "
        f"{len(done.skipped)} entries skipped)"
    )
    for reason in done.skipped[:SHOWN_SKIPS]:
        typer.echo(f"  skipped: {reason}")


async def _import_hash_set(
    file: Path, name: str, source: str, set_date: str | None
) -> HashSetImport:
    from federation.hashsets import import_hash_set
    from gateway.protection import audit_log_for, blind_index_for, near_images_for
    from graph.hashsets import HashSets

    settings, connection = _graph()
    try:
        await connection.store.migrate()
        blind = blind_index_for(settings)
        audit = audit_log_for(settings, connection.store)
        return await import_hash_set(
            file,
            HashSets(connection.store),
            blind,
            name=name,
            source=source,
            set_date=set_date,
            near=near_images_for(settings, connection.store, blind, audit),
            audit=audit,
            actor=_operator(),
        )
    finally:
        await connection.close()


@app.command()
def report(
    force: str = typer.Option(..., "--force", help="force code, e.g. AS"),
    period: str = typer.Option("28d", "--period", help="days or weeks up to --end: 28d, 4w"),
    fmt: str = typer.Option("csv", "--format", help="csv, html or pdf"),
    out: Annotated[
        Path | None,
        typer.Option("--out", dir_okay=False, help="file to write (default: standard output)"),
    ] = None,
    end: str | None = typer.Option(
        None, "--end", show_default=False, help="end of the period, ISO (default: now)"
    ),
    client: str = typer.Option("coordinator", "--client", help="client id with oversight:read"),
    url: str | None = typer.Option(
        None,
        envvar="CROSSFORCE_URL",
        show_default=False,
        help="the hub's base URL (default: the hub last started on the data dir)",
    ),
) -> None:
    """The scrutiny board's report on one force: activity, targets, backlog, overdue cases."""
    from gateway.cli.report import (
        EXIT_CANNOT_RUN,
        ReportError,
        fetch_report,
        parse_period,
        report_end,
        write_report,
    )
    from gateway.config import Settings
    from gateway.report import FORMATS
    from policies.devidp import mint_token
    from policies.scopes import FORCE_CODE

    settings = Settings()
    try:
        if not FORCE_CODE.match(force):
            raise ReportError("--force takes a force code such as AS", EXIT_CANNOT_RUN)
        if fmt not in FORMATS:
            raise ReportError(f"--format is one of {', '.join(FORMATS)}", EXIT_CANNOT_RUN)
        length, until = parse_period(period), report_end(end)
        if settings.oidc_issuer:
            message = "CROSSFORCE_OIDC_ISSUER is set: report from a client of that issuer"
            raise ReportError(message, EXIT_CANNOT_RUN)
        issuer = _local_hub(settings, "report")
        try:
            access_token = mint_token(
                settings.data_dir, issuer, settings.audience, client, policy_dir=settings.policy_dir
            )
        except ValueError as error:
            raise ReportError(str(error), EXIT_CANNOT_RUN) from None
        made = fetch_report(url or issuer, access_token, force, length, until, fmt)
        write_report(made, fmt, out)
    except ReportError as error:
        typer.echo(f"crossforce report: {error}", err=True)
        raise typer.Exit(error.code) from None


@app.command()
def search(
    kind: Annotated[
        str,
        typer.Argument(
            help="PHONE, EMAIL, IMEI, SERIAL, IP_ADDRESS, ACCOUNT, MD5, SHA1, PDQ or PERSON"
        ),
    ],
    value: Annotated[
        str,
        typer.Argument(
            help="as a case summary writes it; ACCOUNT platform:handle, SERIAL make:serial, "
            "PERSON 'given family YYYY-MM-DD'"
        ),
    ],
    purpose: str = typer.Option(..., "--purpose", help="why you search, in a short sentence"),
    client: str = typer.Option(..., "--client", help="client id, e.g. analyst-AS"),
    url: str | None = typer.Option(
        None,
        envvar="CROSSFORCE_URL",
        show_default=False,
        help="the hub's base URL (default: the hub last started on the data dir)",
    ),
) -> None:
    """Does any force hold this identifier? Asks the running hub, audited with the purpose."""
    from rich.console import Console

    from gateway.cli.search import EXIT_CANNOT_RUN, kind_name, run_search
    from gateway.config import Settings
    from gateway.graphql.holders import IdentifierKind
    from policies.devidp import mint_token

    settings = Settings()
    kinds = [k.value for k in IdentifierKind]
    if kind_name(kind) not in kinds:
        typer.echo(f"crossforce search: KIND is one of {', '.join(kinds)}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    if settings.oidc_issuer:
        typer.echo("CROSSFORCE_OIDC_ISSUER is set: search from a client of that issuer", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN)
    issuer = _local_hub(settings, "search")
    try:
        access_token = mint_token(
            settings.data_dir, issuer, settings.audience, client, policy_dir=settings.policy_dir
        )
    except ValueError as error:
        typer.echo(f"crossforce search: {error}", err=True)
        raise typer.Exit(EXIT_CANNOT_RUN) from None
    raise typer.Exit(
        run_search(
            url=url or issuer,
            token=access_token,
            kind=kind_name(kind),
            value=value,
            purpose=purpose,
            out=Console(),
            err=Console(stderr=True),
        )
    )
