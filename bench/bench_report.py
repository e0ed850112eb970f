"""The scrutiny board's report for one force, HTML beside PDF, on a region of a given size.

Two views of the same report, each format in turn so that both see the same load:

  (a) `GET /reports/AS?period=28d&format=html|pdf` from a hub serving the region, end to end
      (its GraphQL pages, the rendering, the audit entry), seconds per request;
  (b) the rendering alone, in this process, of the report as the hub gathers it for each format
      (`gateway.report.gather`, `rendered`): CPU seconds, the document's size and the PDF's pages.

The region is the generator's (`gateway.demo.region`), ingested as `bench.bench_graphql` builds it
and in the same data dir, so a graph that benchmark kept (`--keep`) serves this one and the other
way round.

    python -m bench.bench_report --cases 20000 --keep
    python -m bench.bench_report --cases 100000 --keep --requests 5

Results: bench/results/report-<engine>-<cases>.json and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pypdf

from bench.bench_graphql import (
    Client,
    build,
    commit,
    connect,
    default_data_dir,
    engine_for,
    fresh_state,
    percentiles,
    prepare_data_dir,
    resumed,
    unlimited_policies,
)
from bench.bench_sync import load_line, start_hub
from gateway.cli.history import backfill
from gateway.config import Settings
from gateway.report import QUERY, Report, gather, overdue_wanted, rendered
from graph.embedded import free_port
from policies.case_rules import load_case_rules

RESULTS = Path(__file__).parent / "results"
FORCE = "AS"
PERIOD = timedelta(days=28)
TARGET_S = 5.0  # issue 22: the report for one force, each format
FORMATS = ("html", "pdf")
TIMEOUT_S = 300.0
HISTORY_DAYS = 120  # at least the chart's 90 days


async def served(http: httpx.AsyncClient, token: str, fmt: str) -> tuple[float, int]:
    """Seconds for one report from the hub, and its size."""
    started = time.perf_counter()
    response = await http.get(f"/reports/{FORCE}", params={"period": "28d", "format": fmt},
                              headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    took = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"report answered {response.status_code}: {response.text[:300]}")
    return took, len(response.content)


async def gathered(client: Client, fmt: str) -> Report:
    """The report as the hub gathers it for `fmt`, asked over HTTP as `crossforce report` asks."""

    async def ask(variables: dict[str, Any]) -> dict[str, Any]:
        answer = await client.query("coordinator", QUERY, variables)
        oversight: dict[str, Any] = answer["oversight"]
        return oversight

    end = datetime.now(UTC).replace(microsecond=0)
    return await gather(ask, FORCE, PERIOD, end, overdue=overdue_wanted(fmt))


def render_cpu(report: Report, fmt: str) -> tuple[float, bytes]:
    started = time.process_time()
    body = rendered(report, fmt)
    return time.process_time() - started, body


async def measure(url: str, data_dir: Path, requests: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=url, timeout=TIMEOUT_S) as http:
        client = Client(http, data_dir, url)
        token = client.token("coordinator")
        reports = {fmt: await gathered(client, fmt) for fmt in FORMATS}
        rendered(reports["pdf"], "pdf")  # WeasyPrint's import and fonts, once, as a hub would
        for fmt in FORMATS:  # a warm-up of each, unmeasured
            await served(http, token, fmt)
        seconds: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        cpu: dict[str, list[float]] = {fmt: [] for fmt in FORMATS}
        sizes: dict[str, int] = {}
        bodies: dict[str, bytes] = {}
        for _ in range(requests):
            for fmt in FORMATS:
                took, sizes[fmt] = await served(http, token, fmt)
                seconds[fmt].append(took)
                spent, bodies[fmt] = render_cpu(reports[fmt], fmt)
                cpu[fmt].append(spent)
    found: dict[str, Any] = {}
    for fmt in FORMATS:
        found[fmt] = {
            "requests": requests,
            "served_s": percentiles(seconds[fmt]) | {"max": max(seconds[fmt])},
            "render_cpu_s": percentiles(cpu[fmt]),
            "bytes": sizes[fmt],
            "overdue_named": len(reports[fmt].overdue),
            "meets_target": max(seconds[fmt]) < TARGET_S,
        }
    found["pdf"]["pages"] = len(pypdf.PdfReader(io.BytesIO(bodies["pdf"])).pages)
    found["overdue_count"] = reports["html"].overdue_count
    found["history_days"] = len(reports["html"].history)
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    data_dir: Path = args.data_dir or default_data_dir(args)
    prepare_data_dir(data_dir, keep=args.keep)
    load_before = os.getloadavg()[0]
    try:
        async with engine_for(args, data_dir) as engine:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            policies = unlimited_policies(data_dir)
            settings = Settings(graph_uri=engine.hub_uri, data_dir=data_dir, public_url=url,
                                policy_dir=policies)  # fmt: skip
            kept = engine.name == "falkordb" or args.neo4j_uri
            state = (resumed(data_dir, args) if kept else None) or fresh_state(args)
            connection = connect(engine, data_dir)
            try:
                await connection.store.migrate()
                if state.done < args.cases:
                    await build(settings, engine, connection.store, state, until=args.cases)
                # The backlog chart's days, as the hub keeps them (and would, soon after start).
                await backfill(connection, load_case_rules(policies), HISTORY_DAYS)
            finally:
                await connection.close()
            hub = start_hub(engine, data_dir, policies, port)
            try:
                found = await measure(url, data_dir, args.requests)
            finally:
                hub.terminate()
                hub.wait(60)
    finally:
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "benchmark": "report",
        "engine": engine.name,
        "cases": args.cases,
        "force": FORCE,
        "period_days": PERIOD.days,
        "hub_commit": commit(),
        "target_s": TARGET_S,
        **found,
        "load_average": {
            "before": load_before,
            "after": os.getloadavg()[0],
            "cpus": os.cpu_count(),
        },
        "command": "python -m bench.bench_report " + " ".join(sys.argv[1:]),
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"# The report for one force, HTML and PDF: {result['engine']}, {result['cases']:,} cases",
        "",
        f"`{result['command']}` at {result['hub_commit']}. Force {result['force']}, "
        f"{result['period_days']} days; {result['overdue_count']:,} of its cases past target, "
        f"{result['history_days']} days of history in the chart. Each format in turn, "
        f"{result['html']['requests']} times. {load_line(result)}",
        "",
        "| format | served p50 / max s | rendering CPU p50 s | bytes | overdue named | target |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for fmt in FORMATS:
        row = result[fmt]
        served_s = f"{row['served_s']['p50']:.2f} / {row['served_s']['max']:.2f}"
        pages = f", {row['pages']} pages" if "pages" in row else ""
        met = "met" if row["meets_target"] else "missed"
        lines.append(
            f"| {fmt} | {served_s} | {row['render_cpu_s']['p50']:.3f} | {row['bytes']:,}{pages} "
            f"| {row['overdue_named']:,} | < {result['target_s']:.0f} s: {met} |"
        )
    lines += [
        "",
        "Served: `GET /reports/AS?period=28d&format=…` end to end (GraphQL pages, rendering, "
        "audit). Rendering CPU: `gateway.report.rendered` alone in the benchmark's process, of "
        "the report as the hub gathers it for that format (the PDF names the longest waiting, the "
        "HTML every case past target).",
    ]
    return "\n".join(lines) + "\n"


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--cases", type=int, default=20_000, help="cases in the region")
    p.add_argument("--seed", type=int, default=7, help="the region's seed")
    p.add_argument("--engine", choices=("falkordb", "neo4j"), default="falkordb")
    p.add_argument("--requests", type=int, default=5, help="measured reports of each format")
    p.add_argument(
        "--keep", action="store_true", help="keep the data dir, and resume a build found there"
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="graph and keys (default: bench_graphql's, crossforce-bench-graphql-<engine>-<cases>)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="where the results go")
    p.add_argument("--neo4j-uri", default=os.environ.get("CROSSFORCE_TEST_NEO4J_URI"))
    p.add_argument("--neo4j-user", default=os.environ.get("CROSSFORCE_TEST_NEO4J_USER"))
    p.add_argument("--neo4j-password", default=os.environ.get("CROSSFORCE_TEST_NEO4J_PASSWORD"))
    p.add_argument(
        "--clear", action="store_true", help="delete everything in the --neo4j-uri database first"
    )
    return p


def main() -> None:
    args = parser().parse_args()
    if args.cases < 1 or args.requests < 1:
        raise SystemExit("--cases and --requests must be at least 1")
    result = asyncio.run(run(args))
    write_results(result, args.out)
    print(markdown(result))


def write_results(result: dict[str, Any], out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    name = f"report-{result['engine']}-{result['cases']}"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / f"{name}.md").write_text(markdown(result))
    return out / f"{name}.md"


if __name__ == "__main__":
    main()
