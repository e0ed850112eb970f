"""`crossforce report --force AS --period 28d --format csv|html|pdf`: the scrutiny board's report
on one force (gateway/report.py), from the running hub's `oversight` with a development token for
the client (`coordinator` by default), as `crossforce search` asks for its holders.

Exit status: 0 when written; 1 when the hub refused (a scope the client lacks, a bad force);
2 when the report could not be made (no such client, the hub unreachable, a bad period).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from gateway.report import QUERY, Report, gather, overdue_wanted, period_of, rendered

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2
TIMEOUT_SECONDS = 60.0


class ReportError(Exception):
    """The report cannot be made; `code` is the exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def parse_period(text: str) -> timedelta:
    """`28d` or `4w`: 1 to 3660 days."""
    try:
        return period_of(text)
    except ValueError as error:
        raise ReportError(f"--period: {error}", EXIT_CANNOT_RUN) from None


async def _ask(http: httpx.AsyncClient, token: str, variables: dict[str, Any]) -> dict[str, Any]:
    url = str(http.base_url)
    try:
        response = await http.post(
            "/graphql",
            json={"query": QUERY, "variables": variables},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
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


def fetch_report(
    url: str, token: str, force: str, period: timedelta, end: datetime, fmt: str = "csv"
) -> Report:
    """Ask the running hub, a page of overdue cases at a time, as many as `fmt` names."""

    async def fetch() -> Report:
        async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=TIMEOUT_SECONDS) as http:

            async def ask(variables: dict[str, Any]) -> dict[str, Any]:
                return await _ask(http, token, variables)

            return await gather(ask, force, period, end, overdue=overdue_wanted(fmt))

    return asyncio.run(fetch())


def write_report(report: Report, fmt: str, out: Path | None) -> None:
    """The report in `fmt` to the file `out`, or to standard output."""
    body = rendered(report, fmt)
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
