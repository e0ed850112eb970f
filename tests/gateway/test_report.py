"""`crossforce report` on both engines: the CSV's activity, history and overdue cases against
figures computed here from the synced records; the HTML with its chart; the PDF read back with
pypdf; no personal data in any of them; a client without oversight is refused."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pypdf
import pytest
from typer.testing import CliRunner

from gateway.cli import app
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import iso, sync_all
from tests.gateway.test_oversight_activity import case, expected_activity
from tests.gateway.test_oversight_cases import at, expected, region
from tests.gateway.test_oversight_history import expected_day
from tests.gateway.test_oversight_time_to_enforcement import BANDS, band_of, first_enforced

runner = CliRunner()


def records_of(now: datetime) -> list[dict[str, Any]]:
    """The open-case tests' region (personal data in every record), closed cases dated, and AS
    cases first enforced in the last 28 days after waits of a few days to months (each with a
    second action later)."""
    records = region(81, now)
    for n, record in enumerate(records):
        if record["status"] in {"CLOSED", "CHARGED", "NO_FURTHER_ACTION"}:
            received = at(record["referral"]["receivedAt"])
            record["closedAt"] = iso(min(received + timedelta(days=5 + n), now))
    for n, (waited, ago) in enumerate(((3, 20), (12, 9), (40, 2), (95, 15), (200, 27))):
        first = now - timedelta(days=ago, hours=3)
        received = first - timedelta(days=waited, hours=5)
        record = case("AS", 500 + n, received, status="ENFORCED")
        record["risk"] = {"level": "HIGH", "assessedAt": iso(received)}
        record |= {k: records[0][k] for k in ("summary", "suspects", "officer")}
        record["enforcements"] = [
            {"method": "ARREST", "at": iso(first)},
            {"method": "WARRANT", "at": iso(first + timedelta(days=1))},
        ]
        records.append(record)
    return records


def personal(records: list[dict[str, Any]]) -> list[str]:
    found = ["Privatename"]
    for r in records:
        found += [r["summary"], r["suspects"][0]["familyName"], r["suspects"][0]["phones"][0]]
        found += [r["officer"]["name"], r["officer"]["email"]]
    return found


async def cli(args: list[str]) -> Any:
    return await asyncio.to_thread(runner.invoke, app, args)


@pytest.fixture
async def synced(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> tuple[datetime, list[Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    records = records_of(now)
    await sync_all(hub, records)
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", hub.settings.graph_uri or "")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(hub.settings.data_dir))
    monkeypatch.setenv("CROSSFORCE_PUBLIC_URL", hub.url)
    await hub.store.write("MATCH (f:ForceDay) DETACH DELETE f")  # the hub's own pass, if any
    kept = await cli(["history", "backfill"])
    assert kept.exit_code == 0, kept.output
    return now, records


async def report(args: list[str], out: Path) -> bytes:
    result = await cli(["report", "--force", "AS", *args, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return await asyncio.to_thread(out.read_bytes)


async def test_the_csv_report_says_what_the_records_say(
    synced: tuple[datetime, list[dict[str, Any]]], tmp_path: Path
) -> None:
    now, records = synced
    body = await report(["--period", "28d", "--end", iso(now)], tmp_path / "as.csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    section = {name: [r[1:] for r in rows if r[0] == name] for name in {r[0] for r in rows}}
    wanted = expected_activity(records, now - timedelta(days=28), now)["AS"]
    activity = {what: int(count) for what, count, *_ in section["activity"]}
    assert activity["referrals received"] == wanted["received"]
    assert activity["arrests"] == wanted["arrests"]
    assert activity["cases resolved"] == wanted["resolved"]
    for method, count in wanted["enforcements"].items():
        assert activity[f"enforcement: {method}"] == count
    waits = {label: 0 for label, *_ in BANDS}
    for _, force, _, waited in first_enforced(records, now - timedelta(days=28), now):
        waits[band_of(waited)] += force == "AS"
    assert section["time to enforcement"][0] == ["days from referral", "cases first enforced"]
    assert {band: int(n) for band, n, *_ in section["time to enforcement"][1:]} == waits
    assert [band for band, *_ in section["time to enforcement"][1:]] == list(waits)
    assert sum(waits.values()), "AS has cases first enforced in the period"
    overdue = [r[0] for r in section["overdue"][1:]]
    assert overdue == [
        r["caseRef"] for r in expected(records, now, forces={"AS"}, past_target=True)
    ]
    assert overdue, "AS has cases past target"
    history = section["history"][1:]
    assert len(history) >= 88  # the chart covers 90 days even for a 28-day period
    for date, open_, past, awaiting, *_ in history:
        day = expected_day(records, "AS", datetime.fromisoformat(date).date())
        assert (int(open_), int(past), int(awaiting)) == (
            day["open"], day["pastTarget"], day["awaitingEnforcement"]
        ), date  # fmt: skip
    assert not [p for p in personal(records) if p in body.decode()]


async def test_the_html_and_pdf_reports_name_the_force_and_its_overdue_cases(
    synced: tuple[datetime, list[dict[str, Any]]], tmp_path: Path
) -> None:
    now, records = synced
    overdue = [r["caseRef"] for r in expected(records, now, forces={"AS"}, past_target=True)]
    page = (await report(["--format", "html"], tmp_path / "as.html")).decode()
    assert "Force AS" in page and page.count("<svg") == 2 and "<polyline" in page
    waits = {label: 0 for label, *_ in BANDS}
    for _, force, _, waited in first_enforced(records, now - timedelta(days=28), now):
        waits[band_of(waited)] += force == "AS"
    assert "<h2>Time to enforcement</h2>" in page
    for band, count in waits.items():  # each band's row in the table under the bars
        assert f"<tr><td>{band}</td><td>{count}</td></tr>" in page
    assert all(ref in page for ref in overdue)
    assert not [p for p in personal(records) if p in page]
    pdf = await report(["--format", "pdf", "--period", "4w"], tmp_path / "as.pdf")
    assert pdf.startswith(b"%PDF")
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Force AS" in text and overdue[0] in text and "Time to enforcement" in text
    assert f"Cases past target now ({len(overdue)})" in text
    assert not [p for p in personal(records) if p in text]


async def test_a_report_needs_oversight_and_a_sound_request(
    synced: tuple[datetime, list[dict[str, Any]]], tmp_path: Path
) -> None:
    out = tmp_path / "x.csv"
    refused = await cli(["report", "--force", "AS", "--client", "analyst-AS", "--out", str(out)])
    assert refused.exit_code == 1 and "FORBIDDEN" in refused.output
    for args, says in (
        (["--period", "28x"], "--period"),
        (["--format", "docx"], "--format"),
        (["--end", "yesterday"], "--end"),
    ):
        bad = await cli(["report", "--force", "AS", *args, "--out", str(out)])
        assert bad.exit_code == 2 and says in bad.output, bad.output
    assert not await asyncio.to_thread(out.exists)


async def test_the_web_report_is_the_cli_report_and_is_audited(
    synced: tuple[datetime, list[dict[str, Any]]], hub: Hub, tmp_path: Path
) -> None:
    now, records = synced
    headers = {"Authorization": f"Bearer {hub.token('coordinator')}"}
    answer = await hub.http.get("/reports/AS", params={"format": "csv"}, headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    assert 'filename="crossforce-report-AS-' in answer.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(answer.text)))
    overdue = [r[1] for r in rows if r[0] == "overdue"][1:]
    assert overdue == [
        r["caseRef"] for r in expected(records, now, forces={"AS"}, past_target=True)
    ]
    assert not [p for p in personal(records) if p in answer.text]
    pdf = await hub.http.get("/reports/AS", params={"format": "pdf"}, headers=headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    audited = await hub.store.read(
        "MATCH (e:AuditEntry {action: 'export'}) WHERE e.target = 'report:AS' "
        "RETURN e.actor AS actor, e.detail AS detail ORDER BY e.seq"
    )
    assert [(a["actor"], a["detail"]) for a in audited][-2:] == [
        ("coordinator", "format=csv period=28d"), ("coordinator", "format=pdf period=28d")
    ]  # fmt: skip


async def test_the_web_report_needs_oversight_and_a_sound_request(hub: Hub) -> None:
    coordinator = {"Authorization": f"Bearer {hub.token('coordinator')}"}
    analyst = {"Authorization": f"Bearer {hub.token('analyst-AS')}"}
    assert (await hub.http.get("/reports/AS")).status_code == 401
    assert (await hub.http.get("/reports/AS", headers=analyst)).status_code == 403
    for path, params in (
        ("/reports/as", {}),
        ("/reports/AS", {"format": "docx"}),
        ("/reports/AS", {"period": "28x"}),
        ("/reports/AS", {"period": "9999d"}),
    ):
        bad = await hub.http.get(path, params=params, headers=coordinator)
        assert bad.status_code == 400, (path, params, bad.text)
