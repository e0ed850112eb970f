"""`crossforce report --force AS --period 28d --format csv|html|pdf`: the scrutiny board's report
on one force (gateway/report.py), from the running hub's `oversight` with a development token for
the client (`coordinator` by default), as `crossforce search` asks for its holders.

Exit status: 0 when written; 1 when the hub refused (a scope the client lacks, a bad force);
2 when the report could not be made (no such client, the hub unreachable, a bad period).
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.report import QUERY, Report, render_csv, render_html, render_pdf

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2
TIMEOUT_SECONDS = 60.0
HISTORY_AT_LEAST = timedelta(days=90)  # the backlog chart shows this much even for 28 days
MAX_OVERDUE_PAGES = 100  # 10,000 references: beyond that the list is not what the board reads
_PERIOD = re.compile(r"^(\d{1,4})([dw])$")


class ReportError(Exception):
    """The report cannot be made; `code` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def parse_period(text: str) -> timedelta:
    """`28d` or `4w`: 1 to 3660 days."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ReportError("--period takes days or weeks, e.g. 28d or 4w", EXIT_CANNOT_RUN)
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= 3660:
        raise ReportError("--period: 1 to 3660 days", EXIT_CANNOT_RUN)
    return timedelta(days=days)


def _ask(url: str, token: str, variables: dict[str, Any]) -> dict[str, Any]:
    try:
        response = httpx.post(
            f"{url.rstrip('/')}/graphql",
            json={"query": QUERY, "variables": variables},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as error:
        message = f"cannot reach the hub at {url}: {type(error).__name__}"
        raise ReportError(message, EXIT_CANNOT_RUN) from None
    try:
        payload = response.json()
    except ValueError:
        message = f"the hub answered {response.status_code} without JSON"
        raise ReportError(message, EXIT_CANNOT_RUN) from None
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors or response.status_code != 200:
        problem = (errors or [{"message": f"HTTP {response.status_code}"}])[0]
        code = (problem.get("extensions") or {}).get("code")
        suffix = f" ({code})" if code else ""
        raise ReportError(f"{problem.get('message')}{suffix}", EXIT_REFUSED)
    oversight: dict[str, Any] = payload["data"]["oversight"]
    return oversight


def fetch_report(url: str, token: str, force: str, period: timedelta, end: datetime) -> Report:
    """Ask the hub, a page of overdue cases at a time."""
    start = end - period
    variables: dict[str, Any] = {
        "forces": [force],
        "from": start.isoformat(),
        "to": end.isoformat(),
        "historyFrom": (end - max(period, HISTORY_AT_LEAST)).date().isoformat(),
        "historyTo": end.date().isoformat(),
        "after": None,
    }
    first = _ask(url, token, variables)
    overdue = [e["node"] for e in first["cases"]["edges"]]
    page = first["cases"]
    for _ in range(MAX_OVERDUE_PAGES - 1):
        if not page["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = page["pageInfo"]["endCursor"]
        page = _ask(url, token, variables)["cases"]
        overdue += [e["node"] for e in page["edges"]]
    return Report.of(force, start, end, first, overdue)


def write_report(report: Report, fmt: str, out: Path | None) -> None:
    """The report in `fmt` to the file `out`, or to standard output."""
    body: bytes
    if fmt == "pdf":
        body = render_pdf(report)
    else:
        body = (render_csv(report) if fmt == "csv" else render_html(report)).encode()
    if out is None:
        sys.stdout.buffer.write(body)
        sys.stdout.buffer.flush()
    else:
        out.write_bytes(body)


def report_end(text: str | None) -> datetime:
    """`--end`: an ISO date or instant (a date means its midnight UTC; no zone means UTC)."""
    if text is None:
        return datetime.now(UTC).replace(microsecond=0)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        message = "--end takes an ISO date or instant, e.g. 2026-11-30"
        raise ReportError(message, EXIT_CANNOT_RUN) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
