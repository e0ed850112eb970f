"""The board's PDF of a force with thousands of cases past target: a few pages whatever the
backlog, the same figures as the HTML, the longest waiting named and the rest counted; the HTML
and CSV still name every one. The report is gathered from an `oversight` answer paged as the hub
pages `cases` (oldest first, `first` at most 100), read back with pypdf."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pypdf
import pytest

from gateway.report import Report, gather, overdue_wanted, rendered

FORCE = "AS"
PAST_TARGET = 2_345
END = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PERIOD = timedelta(days=28)


def node(n: int) -> dict[str, Any]:
    return {
        "caseRef": f"{FORCE}-2025-{n:05d}",
        "riskLevel": ("VERY_HIGH", "HIGH", "MEDIUM", "LOW")[n % 4],
        "team": ("SPECIALIST", "LOCAL", None)[n % 3],
        "daysWaiting": 900.25 - n * 0.25,  # oldest first, as the hub lists them
    }


NODES = [node(n) for n in range(PAST_TARGET)]
ACTIVITY = {
    "force": FORCE,
    "received": 143,
    "arrests": 26,
    "resolved": 71,
    "enforcements": [
        {"method": "WARRANT", "count": 9},
        {"method": "ARREST", "count": 17},
        {"method": "VOLUNTARY_ATTENDANCE", "count": 31},
    ],
    "outcomes": [{"kind": "CHARGED", "count": 12}, {"kind": "CONDITIONAL_CAUTION", "count": 4}],
    "timeToEnforcement": [{"band": "0-7", "count": 5}, {"band": "91-180", "count": 13}],
}
TARGETS = [
    {"force": FORCE, "riskLevel": risk, "open": 1000 + n, "pastTarget": 500 + n,
     "dueWithin48Hours": 7 + n, "enforcedWithinTargetShare": 0.25 * n,
     "medianDaysToEnforcement": 10.5 + n}
    for n, risk in enumerate(("VERY_HIGH", "HIGH", "MEDIUM", "LOW"))
]  # fmt: skip
HISTORY = [
    {"date": (END - timedelta(days=d)).date().isoformat(), "force": FORCE,
     "open": 3000 + d, "pastTarget": 2000 + d, "awaitingEnforcement": 2500 + d}
    for d in range(90, -1, -1)
]  # fmt: skip


class Hub:
    """An `oversight` answer for one force, its past-target cases paged as `cases` pages them."""

    def __init__(self) -> None:
        self.pages: list[tuple[int, str | None]] = []

    async def __call__(self, variables: dict[str, Any]) -> dict[str, Any]:
        first, after = variables["first"], variables["after"]
        assert 1 <= first <= 100 and variables["forces"] == [FORCE]
        self.pages.append((first, after))
        start = 0 if after is None else int(after) + 1
        edges = [{"node": n} for n in NODES[start : start + first]]
        return {
            "asOf": END.isoformat(),
            "activity": [ACTIVITY, {**ACTIVITY, "force": "DC", "received": 999}],
            "byForce": [*TARGETS, {**TARGETS[0], "force": "DC", "open": 99999}],
            "history": HISTORY,
            "cases": {
                "totalCount": PAST_TARGET,
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": start + first < PAST_TARGET,
                    "endCursor": str(start + len(edges) - 1),
                },
            },
        }


async def report_in(fmt: str) -> tuple[Report, Hub]:
    hub = Hub()
    made = await gather(hub, FORCE, PERIOD, END, overdue=overdue_wanted(fmt))
    return made, hub


def pdf_text(body: bytes) -> tuple[int, str]:
    pages = pypdf.PdfReader(io.BytesIO(body)).pages
    return len(pages), re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))


def figures() -> list[str]:
    """Every figure of the report as its table row reads, made here from the answer above."""
    rows = [f"referrals received {ACTIVITY['received']}", f"arrests {ACTIVITY['arrests']}",
            f"cases resolved {ACTIVITY['resolved']}"]  # fmt: skip
    rows += [f"enforcement: {e['method']} {e['count']}" for e in ACTIVITY["enforcements"]]
    rows += [f"outcome: {o['kind']} {o['count']}" for o in ACTIVITY["outcomes"]]
    rows += [f"{b['band']} {b['count']}" for b in ACTIVITY["timeToEnforcement"]]
    for t in TARGETS:
        share = f"{t['enforcedWithinTargetShare'] * 100:.0f}%"
        rows.append(f"{t['riskLevel']} {t['open']} {t['pastTarget']} {t['dueWithin48Hours']} "
                    f"{share} {t['medianDaysToEnforcement']:.1f}")  # fmt: skip
    return rows


def overdue_row(n: dict[str, Any]) -> str:
    return f"{n['caseRef']} {n['riskLevel']} {n['team'] or ''} {n['daysWaiting']:.1f}"


async def test_the_pdf_names_the_longest_waiting_and_counts_the_rest() -> None:
    made, hub = await report_in("pdf")
    assert len(hub.pages) == 1, "the PDF asks for one page of overdue cases"
    named = hub.pages[0][0]
    assert 10 <= named < PAST_TARGET
    body = rendered(made, "pdf")
    pages, text = pdf_text(body)
    assert pages <= 5 and len(body) < 150_000, (pages, len(body))
    assert f"Force {FORCE}: report to the scrutiny board" in text
    for row in figures():
        assert row in text, row
    assert f"Cases past target now ({PAST_TARGET:,})" in text
    assert f"The {named:,} longest waiting, and {PAST_TARGET - named:,} more" in text
    for n in NODES[:named]:
        assert re.sub(r"\s+", " ", overdue_row(n)) in text, n
    assert NODES[named]["caseRef"] not in text and NODES[-1]["caseRef"] not in text
    assert "99999" not in text and "received 999" not in text, "another force's figures"


@pytest.mark.parametrize("fmt", ["html", "csv"])
async def test_the_html_and_csv_name_every_case_with_the_same_figures(fmt: str) -> None:
    made, hub = await report_in(fmt)
    assert len(hub.pages) == -(-PAST_TARGET // 100), "every page of overdue cases asked"
    body = rendered(made, fmt).decode()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body)))
        assert [r[1] for r in rows if r[0] == "overdue"][1:] == [n["caseRef"] for n in NODES]
        assert ["report", "cases past target", str(PAST_TARGET)] in rows
        return
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))
    for row in figures():
        assert row in text, row
    assert f"Cases past target now ({PAST_TARGET:,})" in text and "more," not in text
    for n in NODES:
        assert re.sub(r"\s+", " ", overdue_row(n)) in text, n
