"""The scrutiny board's report on one force: what it did in a period, how long the cases first
enforced in it had waited, how it stands against its targets, its backlog day by day, and its
cases past target by reference. As CSV, HTML or PDF.

The CSV and the HTML name every case past target (up to `MAX_OVERDUE_PAGES` pages); the PDF, the
paper the board reads, names the `PRINTED_OVERDUE` longest waiting and says how many more there
are, with the same figures as the others. WeasyPrint's layout of a table costs more per row the
longer the table runs across pages, so a bounded list keeps the PDF a few pages and quick to make
at any size of region.

Built from the hub's own answers to `oversight` (`Report.of`, from the GraphQL data), so it says
exactly what the dashboard says, under the reader's agreements: figures and case references,
never personal data. `crossforce report` (gateway/cli/report.py) fetches and writes it.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from typing import Any

from gateway.activity import DELAY_BANDS
from gateway.report_chart import Series, bar_chart, line_chart

FORMATS = ("csv", "html", "pdf")
MEDIA_TYPES = {"csv": "text/csv", "html": "text/html", "pdf": "application/pdf"}
HISTORY_AT_LEAST = timedelta(days=90)  # the backlog chart shows this much even for 28 days
MAX_OVERDUE_PAGES = 100  # 10,000 references: beyond that the list is not what the board reads
OVERDUE_PAGE = 100  # references asked per page (the most `cases` gives at once)
PRINTED_OVERDUE = 50  # references the PDF names: the longest waiting, the list being oldest first
_PERIOD = re.compile(r"^(\d{1,4})([dw])$")

# One page of the report's query: its variables in, the `oversight` answer out.
Ask = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]


def period_of(text: str) -> timedelta:
    """`28d` or `4w`: 1 to 3660 days; `ValueError` says what is wrong."""
    match = _PERIOD.match(text.strip())
    if match is None:
        raise ValueError("the period takes days or weeks, e.g. 28d or 4w")
    days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
    if not 1 <= days <= 3660:
        raise ValueError("the period is 1 to 3660 days")
    return timedelta(days=days)


def overdue_wanted(fmt: str) -> int:
    """How many overdue references a report in `fmt` names (before the count of the rest)."""
    return PRINTED_OVERDUE if fmt == "pdf" else MAX_OVERDUE_PAGES * OVERDUE_PAGE


async def gather(
    ask: Ask, force: str, period: timedelta, end: datetime, *, overdue: int | None = None
) -> Report:
    """The report, asked a page of overdue cases at a time, up to `overdue` references (by
    default as many as any format names; `overdue_wanted(fmt)` for one format)."""
    wanted = overdue_wanted("csv") if overdue is None else overdue
    start = end - period
    variables: dict[str, Any] = {
        "forces": [force],
        "from": start.isoformat(),
        "to": end.isoformat(),
        "historyFrom": (end - max(period, HISTORY_AT_LEAST)).date().isoformat(),
        "historyTo": end.date().isoformat(),
        "first": min(wanted, OVERDUE_PAGE),
        "after": None,
    }
    first = await ask(variables)
    page = first["cases"]
    nodes = [e["node"] for e in page["edges"]]
    while page["pageInfo"]["hasNextPage"] and len(nodes) < wanted:
        variables["first"] = min(wanted - len(nodes), OVERDUE_PAGE)
        variables["after"] = page["pageInfo"]["endCursor"]
        page = (await ask(variables))["cases"]
        nodes += [e["node"] for e in page["edges"]]
    return Report.of(force, start, end, first, nodes)


def rendered(report: Report, fmt: str) -> bytes:
    """The report in `fmt` (one of `FORMATS`)."""
    if fmt == "pdf":
        return render_pdf(report)
    return (render_csv(report) if fmt == "csv" else render_html(report)).encode()


# What the report asks the hub; `$forces` is the one force, `$historyFrom` the history's first
# day, `$first` and `$after` the page of overdue cases.
QUERY = """
query Report($forces: [String!], $from: DateTime!, $to: DateTime!, $historyFrom: Date!,
             $historyTo: Date!, $first: Int!, $after: String) {
  oversight(filter: {forces: $forces}) {
    asOf
    activity(from: $from, to: $to) {
      force received arrests resolved
      enforcements { method count }  outcomes { kind count }
      timeToEnforcement { band count } }
    byForce { force riskLevel open pastTarget dueWithin48Hours enforcedWithinTargetShare
              medianDaysToEnforcement }
    history(from: $historyFrom, to: $historyTo) { date force open pastTarget awaitingEnforcement }
    cases(filter: {forces: $forces, pastTarget: true}, first: $first, after: $after) {
      totalCount
      edges { node { caseRef riskLevel team daysWaiting } }
      pageInfo { hasNextPage endCursor } }
  }
}
"""


@dataclass(frozen=True)
class Overdue:
    case_ref: str
    risk_level: str
    team: str | None
    days_waiting: float


@dataclass(frozen=True)
class Report:
    force: str
    start: datetime
    end: datetime
    as_of: str
    activity: dict[str, Any] | None  # the force's `ForceActivity` row; None without cases
    targets: list[dict[str, Any]]  # its `ForceRiskFigures` rows
    history: list[dict[str, Any]]  # its `ForceDay` rows
    overdue: list[Overdue]  # the oldest first, as many as were asked for
    overdue_count: int  # every case past target, named above or not

    @classmethod
    def of(
        cls,
        force: str,
        start: datetime,
        end: datetime,
        oversight: dict[str, Any],
        overdue: list[dict[str, Any]],
    ) -> Report:
        """From the `oversight` answer (its first page) and the overdue cases' nodes asked."""
        return cls(
            force=force,
            start=start,
            end=end,
            as_of=oversight["asOf"],
            activity=next((r for r in oversight["activity"] if r["force"] == force), None),
            targets=[r for r in oversight["byForce"] if r["force"] == force],
            history=[r for r in oversight["history"] if r["force"] == force],
            overdue=[
                Overdue(n["caseRef"], n["riskLevel"], n["team"], n["daysWaiting"]) for n in overdue
            ],
            overdue_count=oversight["cases"]["totalCount"],
        )

    def activity_rows(self) -> list[tuple[str, int]]:
        """The period's activity as (what, how many), zeros included."""
        row = self.activity
        if row is None:
            return [("referrals received", 0), ("arrests", 0), ("cases resolved", 0)]
        rows = [("referrals received", row["received"])]
        rows += [(f"enforcement: {e['method']}", e["count"]) for e in row["enforcements"]]
        rows += [("arrests", row["arrests"])]
        rows += [(f"outcome: {o['kind']}", o["count"]) for o in row["outcomes"]]
        rows += [("cases resolved", row["resolved"])]
        return rows

    def time_to_enforcement(self) -> list[tuple[str, int]]:
        """(band of days from referral, cases) for the cases first enforced in the period,
        every band, zeros included."""
        counts = {b["band"]: b["count"] for b in (self.activity or {}).get("timeToEnforcement", [])}
        return [(label, counts.get(label, 0)) for label, *_ in DELAY_BANDS]

    def period(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC"


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _days(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def render_csv(report: Report) -> str:
    """One table: section, item, and up to four values, so that a spreadsheet opens it whole."""
    out = io.StringIO()
    rows = csv.writer(out, lineterminator="\n")
    rows.writerow(["section", "item", "value", "value2", "value3", "value4"])
    rows.writerow(["report", "force", report.force])
    rows.writerow(["report", "period", report.start.isoformat(), report.end.isoformat()])
    rows.writerow(["report", "as of", report.as_of])
    rows.writerow(["report", "cases past target", report.overdue_count])
    for what, count in report.activity_rows():
        rows.writerow(["activity", what, count])
    rows.writerow(["time to enforcement", "days from referral", "cases first enforced"])
    for band, count in report.time_to_enforcement():
        rows.writerow(["time to enforcement", band, count])
    rows.writerow(["targets", "risk level", "open", "past target", "due within 48 hours",
                   "enforced within target"])  # fmt: skip
    for t in report.targets:
        rows.writerow(["targets", t["riskLevel"], t["open"], t["pastTarget"],
                       t["dueWithin48Hours"], _share(t["enforcedWithinTargetShare"])])  # fmt: skip
    rows.writerow(["history", "date", "open", "past target", "awaiting enforcement"])
    for day in report.history:
        rows.writerow(["history", day["date"], day["open"], day["pastTarget"],
                       day["awaitingEnforcement"]])  # fmt: skip
    rows.writerow(["overdue", "case reference", "risk level", "team", "days waiting"])
    for case in report.overdue:
        rows.writerow(["overdue", case.case_ref, case.risk_level, case.team or "",
                       _days(case.days_waiting)])  # fmt: skip
    return out.getvalue()


STYLE = """
body { font-family: sans-serif; font-size: 11pt; color: #222; margin: 2em; }
h1 { font-size: 18pt; margin-bottom: 0; } h2 { font-size: 13pt; margin-top: 1.6em; }
table { border-collapse: collapse; margin-top: 0.4em; }
th, td { border: 1px solid #ccc; padding: 2px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
p.meta { color: #555; margin-top: 0.2em; }
"""
# The PDF's: A4 with the page's own margins, a smaller type, and few rules (WeasyPrint matches
# every rule against every element, so each one costs per table cell).
PRINT_STYLE = """
@page { size: A4; margin: 15mm; }
body { font-family: sans-serif; font-size: 9pt; color: #222; }
h1 { font-size: 16pt; margin: 0; } h2 { font-size: 12pt; margin: 1.2em 0 0.2em; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 1px 6px; text-align: right; }
.meta { color: #555; }
svg { width: 100%; height: auto; }
"""


def _table(head: list[str], rows: list[list[Any]]) -> str:
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{cells}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """A page for the board: activity, targets, the backlog chart, every overdue reference."""
    return _page(report, STYLE, len(report.overdue))


def _page(report: Report, style: str, named: int) -> str:
    """The report as one HTML document, naming the first `named` overdue references."""
    force = escape(report.force)
    activity = _table(["", "count"], [[what, n] for what, n in report.activity_rows()])
    bands = report.time_to_enforcement()
    waits = bar_chart(
        f"{report.force}: cases first enforced in the period, by days from referral",
        [f"{band} days" for band, _ in bands],
        [count for _, count in bands],
    ) + _table(["days from referral", "cases first enforced"], [[b, n] for b, n in bands])
    targets = _table(
        ["risk level", "open", "past target", "due within 48 hours", "enforced within target",
         "median days to enforcement"],
        [[t["riskLevel"], t["open"], t["pastTarget"], t["dueWithin48Hours"],
          _share(t["enforcedWithinTargetShare"]), _days(t["medianDaysToEnforcement"])]
         for t in report.targets],
    )  # fmt: skip
    if report.history:
        chart = line_chart(
            f"{report.force} backlog day by day",
            [d["date"] for d in report.history],
            [
                Series("open", [d["open"] for d in report.history]),
                Series("awaiting enforcement", [d["awaitingEnforcement"] for d in report.history]),
                Series("past target", [d["pastTarget"] for d in report.history]),
            ],
        )
    else:
        chart = "<p>No history kept yet for this force.</p>"
    listed = report.overdue[:named]
    overdue = _table(
        ["case reference", "risk level", "team", "days waiting"],
        [[c.case_ref, c.risk_level, c.team or "", _days(c.days_waiting)] for c in listed],
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Crossforce report: {force}</title><style>{style}</style></head>
<body>
<h1>Force {force}: report to the scrutiny board</h1>
<p class="meta">Period {escape(report.period())}; figures as of {escape(report.as_of)}.
Case references only: no personal data.</p>
<h2>Activity in the period</h2>{activity}
<h2>Time to enforcement</h2>
<p class="meta">Days from referral to the first enforcement action, for the
{sum(n for _, n in bands)} cases first enforced in the period.</p>{waits}
<h2>Targets now</h2>{targets}
<h2>Backlog day by day</h2>{chart}
<h2>Cases past target now ({report.overdue_count:,})</h2>{_the_rest(report, len(listed))}{overdue}
</body></html>
"""


def _the_rest(report: Report, listed: int) -> str:
    """What the list below leaves out, if anything: how many, and where they are named."""
    if listed >= report.overdue_count:
        return ""
    return (
        f'<p class="meta">The {listed:,} longest waiting, and {report.overdue_count - listed:,} '
        "more, named in the hub's list of cases past target (Oversight) and in the report's CSV "
        f"(/reports/{escape(report.force)}?format=csv).</p>"
    )


def render_pdf(report: Report) -> bytes:
    """The report as PDF for the board (WeasyPrint, which needs Pango on the machine): the same
    figures and charts as the HTML, the `PRINTED_OVERDUE` longest-waiting references named."""
    from weasyprint import HTML  # imported here: only the PDF needs it and its system libraries

    pdf: bytes = HTML(string=_page(report, PRINT_STYLE, PRINTED_OVERDUE)).write_pdf()
    return pdf
