"""`crossforce demo`: start the hub on the embedded graph and show where to look."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from crossforce_sdk import CrossforceClient
from rich.console import Console
from rich.table import Table

from gateway.cli.sync import devidp_secrets_file
from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.connector import ConnectorUnavailable, DemoConnector, demo_policy_dir
from gateway.demo.region import RegionParams, recent_start, region_cases
from gateway.demo.server import BackgroundServer
from graph.embedded import free_port

console = Console()


DEMO_CASES = 3000
PULLED = "WI"  # the demo's force that cannot push
ROLES = (
    ("regional coordinator", "coordinator"),
    ("analyst, Avon and Somerset", "analyst-AS"),
    ("analyst, Gloucestershire", "analyst-GL"),
    ("operator", "admin"),
)

OVERSIGHT = """
{ oversight {
    byForce { force riskLevel open pastTarget dueWithin48Hours }
    regradeAlerts(first: 5) { force caseRef riskLevel reasons }
    regradeAlertCount
    pulledForces { force recordsApplied recordsRejected lagSeconds consecutiveErrors } } }
"""
QUEUE = "{ priorityQueue(first: 5) { force caseRef riskLevel score reasons } }"


def region_by_force(cases: int) -> dict[str, list[dict[str, Any]]]:
    """A synthetic South West region: a year of referrals, ending this month."""
    params = RegionParams(seed=7, forces=5, cases=cases, start=recent_start(12))
    by_force: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for case in region_cases(params):
        by_force[case["force"]].append(case)
    return by_force


async def push_all(url: str, secrets: dict[str, str], by_force: dict[str, list[Any]]) -> None:
    """Each force system pushes its own cases with its own client and token."""
    for force, cases in sorted(by_force.items()):
        client_id = f"force-{force}"
        async with CrossforceClient(url, client_id, secrets[client_id]) as client:
            report = await client.sync(cases)
        console.print(
            f"  {client_id}: {report.applied} applied, {report.stale} already held, "
            f"{report.rejected} rejected ({report.records_per_second:.0f} records/s)"
        )


async def show_coordinator(url: str, secrets: dict[str, str]) -> None:
    async with CrossforceClient(url, "coordinator", secrets["coordinator"]) as client:
        oversight = (await client.graphql(OVERSIGHT))["oversight"]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in oversight["byForce"]:
        for i, name in enumerate(("open", "pastTarget", "dueWithin48Hours")):
            totals[row["force"]][i] += row[name]
    table = Table(title="Coordinator: cases against their 7/14/30-day targets")
    for column in ("force", "open", "past target", "due within 48 h"):
        table.add_column(column, justify="right")
    for force, (open_, past, due) in sorted(totals.items()):
        table.add_row(force, str(open_), str(past), str(due))
    console.print(table)
    for pull in oversight["pulledForces"]:
        console.print(
            f"  {pull['force']} is pulled: {pull['recordsApplied']} records applied, "
            f"{pull['recordsRejected']} rejected, {pull['consecutiveErrors']} errors in a row"
        )
    alerts = oversight["regradeAlerts"]
    count = oversight["regradeAlertCount"]
    table = Table(title=f"Regrade alerts: {count} LOW/MEDIUM cases with high-risk signs")
    for column in ("force", "case", "graded", "why"):
        table.add_column(column)
    for alert in alerts[:5]:
        table.add_row(
            alert["force"], alert["caseRef"], alert["riskLevel"], "; ".join(alert["reasons"])
        )
    console.print(table)


async def show_analyst(url: str, secrets: dict[str, str], client_id: str) -> None:
    async with CrossforceClient(url, client_id, secrets[client_id]) as client:
        queue = (await client.graphql(QUEUE))["priorityQueue"]
    table = Table(title=f"Analyst ({client_id}): the top of the regional priority queue")
    for column in ("force", "case", "graded", "score", "why"):
        table.add_column(column)
    for item in queue:
        table.add_row(
            item["force"], item["caseRef"], item["riskLevel"], f"{item['score']:.1f}",
            "; ".join(item["reasons"][:4]),
        )  # fmt: skip
    console.print(table)


async def links_table(url: str, secrets: dict[str, str], forces: list[str]) -> Table:
    """Read first: a change feed's read waits for the hub's after-sync step, which also counts
    the links that the queue and the alerts are made of."""
    table = Table(title="Cross-force links found (each force's change feed)")
    for column in ("force", "links to other forces' cases", "other forces", "regrade alerts"):
        table.add_column(column)
    for force in forces:
        client_id = f"force-{force}"
        links, others, regrades = 0, set(), 0
        async with CrossforceClient(url, client_id, secrets[client_id]) as client:
            async for page in client.change_pages():
                for change in page.changes:
                    if change["kind"] == "LINK":
                        links += 1
                        others.add(change["otherForce"])
                    elif change["kind"] == "REGRADE":
                        regrades += 1
        table.add_row(force, str(links), ", ".join(sorted(others)), str(regrades))
    return table


def show_sign_in(url: str, data_dir: Path, secrets: dict[str, str], *, serving: bool) -> None:
    """Where and how to sign in. The secrets go out as plain lines, never folded by a table's
    width, so that each can be copied whole; in `--exit` mode the hub has already stopped, so
    no address is offered as if it were live."""
    if serving:
        console.print(f"[bold]Sign in[/] at {url}/ with a role and its secret:")
    else:
        console.print(
            "[bold]The hub has stopped[/] (--exit). `.venv/bin/crossforce serve` starts it "
            "again on this data dir, at http://127.0.0.1:8000/; sign in there with a role "
            "and its secret:"
        )
    width = max(len(client_id) for _, client_id in ROLES)
    for role, client_id in ROLES:
        line = f"  {client_id.ljust(width)}  {secrets.get(client_id, '')}  ({role})"
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print("  (admin has no pages in the web UI: it uses the crossforce command line)")
    if serving:
        console.print("Tokens: .venv/bin/crossforce token --client analyst-AS (or any role above)")
    console.print(
        f"Client secrets of the development issuer: {devidp_secrets_file(data_dir)}",
        soft_wrap=True,
    )


async def tour(
    url: str,
    data_dir: Path,
    by_force: dict[str, list[dict[str, Any]]],
    pulled: DemoConnector,
    total: int,
    serving: bool,
) -> None:
    secrets = json.loads(devidp_secrets_file(data_dir).read_text())
    console.print(f"Syncing {total} case summaries from {len(by_force) + 1} force systems:")
    await push_all(url, secrets, by_force)
    caught_up = await asyncio.to_thread(pulled.wait_caught_up, 120)
    console.print(
        f"  force-{pulled.force}: pulled by the hub from its Graphene connector, "
        f"{pulled.pages_served} pages, " + ("all read" if caught_up else "still reading")
    )
    links = await links_table(url, secrets, sorted([*by_force, pulled.force]))
    await show_coordinator(url, secrets)
    await show_analyst(url, secrets, "analyst-AS")
    console.print(links)
    if serving:
        show_sign_in(url, data_dir, secrets, serving=True)


def run_demo(
    keep_serving: bool | None = None, port: int | None = None, cases: int = DEMO_CASES
) -> None:
    host = "127.0.0.1"
    port = port or free_port()
    issuer = f"http://{host}:{port}"
    with console.status(f"generating a region of {cases} cases"):
        by_force = region_by_force(cases)
    data_dir = Settings().data_dir
    # One force cannot push: it serves its cases from a Graphene connector (a process of its
    # own, from the connector's environment), and the hub pulls.
    try:
        pulled = DemoConnector(
            PULLED, by_force.pop(PULLED, []), issuer=issuer, folder=data_dir / "demo-connector"
        )
        pulled.start()
    except ConnectorUnavailable as error:
        console.print(f"[bold red]The demo's pulled force cannot start:[/] {error}")
        raise SystemExit(1) from None
    try:
        policies = demo_policy_dir(data_dir, DEFAULT_POLICY_DIR, [pulled], issuer)
        settings = Settings(public_url=issuer, policy_dir=policies)
        started = time.monotonic()
        with console.status("starting the hub on the embedded graph"):
            server = BackgroundServer(settings, host, port)
            server.start()
    except BaseException:
        pulled.stop()
        raise
    console.print(
        f"[bold green]Crossforce hub ready[/] at {server.url} ({time.monotonic() - started:.1f} s)"
    )
    console.print(f"  readiness: {server.url}/readyz")
    console.print(f"  data dir:  {settings.data_dir.resolve()}")
    if keep_serving is None:
        keep_serving = sys.stdin.isatty()
    try:
        asyncio.run(tour(server.url, settings.data_dir, by_force, pulled, cases, keep_serving))
        if keep_serving:
            console.print("Serving until Ctrl-C.")
            while server.thread.is_alive():
                time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        pulled.stop()
    if not keep_serving:
        secrets = json.loads(devidp_secrets_file(settings.data_dir).read_text())
        show_sign_in(server.url, settings.data_dir, secrets, serving=False)
