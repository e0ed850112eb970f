"""Each force's daily history (`oversight { history }`), on both engines: back-filled from case
dates by `crossforce history backfill`, against figures computed here from the synced records,
over a month end; kept once (a later pass changes no day); by day, week and month."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from gateway.cli import app
from gateway.region import RegionFacts
from gateway.upkeep import upkeep_pass
from policies.case_rules import default_case_rules
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, iso, sync_all
from tests.gateway.test_oversight_activity import actions_of, at, case, month_end, region

TARGET = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}
HISTORY = """
query($from: Date!, $to: Date!, $every: Every!) {
  oversight { history(from: $from, to: $to, every: $every) {
    date force open pastTarget awaitingEnforcement received resolved } }
}
"""
runner = CliRunner()


def records_around(seed: int, now: datetime) -> list[dict[str, Any]]:
    """The activity tests' region around last month's start, with every risk level."""
    rng = random.Random(seed)
    records = region(seed, month_end(now), now)
    for record in records:
        record["risk"]["level"] = rng.choice(list(TARGET))
    return records


def expected_day(records: list[dict[str, Any]], force: str, day: date) -> dict[str, Any]:
    """The force's figures at the end of `day`, by the definitions of docs/graphql.md."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    cut = start + timedelta(days=1)
    row = {"date": day.isoformat(), "force": force, "open": 0, "pastTarget": 0}
    row |= {"awaitingEnforcement": 0, "received": 0, "resolved": 0}
    for r in records:
        if r["force"] != force:
            continue
        received = at(r["referral"]["receivedAt"])
        ends = [at(r["outcome"]["at"])] if "outcome" in r else []
        ends += [at(r["closedAt"])] if "closedAt" in r else []
        resolved = min(ends) if ends else None
        actions = [moment for _, moment in actions_of(r)]
        enforced = min(actions) if actions else None
        row["received"] += start <= received < cut
        row["resolved"] += resolved is not None and start <= resolved < cut
        if received >= cut or (resolved is not None and resolved < cut):
            continue
        row["open"] += 1
        if enforced is not None and enforced < cut:
            continue
        row["awaitingEnforcement"] += 1
        row["pastTarget"] += received + timedelta(days=TARGET[r["risk"]["level"]]) < cut
    return row


def last_kept_day(now: datetime) -> date:
    """Days are kept once they ended more than an hour ago."""
    return (now - timedelta(hours=1)).date() - timedelta(days=1)


def first_days(records: list[dict[str, Any]]) -> dict[str, date]:
    firsts: dict[str, date] = {}
    for r in records:
        day = at(r["referral"]["receivedAt"]).date()
        firsts[r["force"]] = min(firsts.get(r["force"], day), day)
    return firsts


async def backfill(hub: Hub, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("CROSSFORCE_GRAPH_URI", hub.settings.graph_uri or "")
    monkeypatch.setenv("CROSSFORCE_DATA_DIR", str(hub.settings.data_dir))
    result = await asyncio.to_thread(runner.invoke, app, ["history", "backfill"])
    assert result.exit_code == 0, result.output
    return result.stdout


async def synced_and_backfilled(
    hub: Hub, monkeypatch: pytest.MonkeyPatch, seed: int
) -> tuple[datetime, list[dict[str, Any]]]:
    now = datetime.now(UTC).replace(microsecond=0)
    records = records_around(seed, now)
    await sync_all(hub, records)
    # The hub's own keeper may have taken a pass while the records were synced: start afresh.
    await hub.store.write("MATCH (f:ForceDay) DETACH DELETE f")
    out = await backfill(hub, monkeypatch)
    assert out.endswith("0 already held\n"), out
    return now, records


async def history(hub: Hub, first: date, last: date, every: str = "DAY") -> list[dict[str, Any]]:
    variables = {"from": first.isoformat(), "to": last.isoformat(), "every": every}
    rows: list[dict[str, Any]] = (await data(hub, "coordinator", HISTORY, variables))["oversight"][
        "history"
    ]
    return rows


async def test_days_across_a_month_end_match_the_records(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    now, records = await synced_and_backfilled(hub, monkeypatch, 51)
    boundary = month_end(now).date()
    first, last = boundary - timedelta(days=12), boundary + timedelta(days=9)
    got = await history(hub, first, last)
    firsts = first_days(records)
    wanted = [
        expected_day(records, force, day)
        for force in sorted(firsts)
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
        if day >= firsts[force]
    ]
    assert got == wanted
    assert any(row["pastTarget"] for row in got) and any(row["resolved"] for row in got)
    # Every day from each force's first referral to the last complete day is kept.
    everything = await history(hub, now.date() - timedelta(days=400), now.date())
    for force, day in firsts.items():
        kept = [row["date"] for row in everything if row["force"] == force]
        assert kept[0] == day.isoformat() and kept[-1] == last_kept_day(now).isoformat()
        assert len(kept) == (last_kept_day(now) - day).days + 1


async def test_a_day_is_kept_once_and_a_later_pass_changes_nothing(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    now, records = await synced_and_backfilled(hub, monkeypatch, 52)
    before = await history(hub, now.date() - timedelta(days=400), now.date())
    reopened = [
        {k: v for k, v in r.items() if k != "closedAt"} | {"version": 2, "status": "NEW"}
        for r in records
        if "closedAt" in r and "outcome" not in r
    ]
    assert reopened
    await sync_all(hub, reopened)
    out = await backfill(hub, monkeypatch)
    assert out == f"0 force days written, {len(before)} already held\n"
    assert await history(hub, now.date() - timedelta(days=400), now.date()) == before


async def test_weeks_and_months_give_their_last_day_and_their_sums(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    now, _ = await synced_and_backfilled(hub, monkeypatch, 53)
    boundary = month_end(now).date()
    first, last = boundary - timedelta(days=20), boundary + timedelta(days=20)
    days = await history(hub, first, last)
    for every, period in (
        ("WEEK", lambda d: d - timedelta(days=d.weekday())),
        ("MONTH", lambda d: d.replace(day=1)),
    ):
        groups: dict[tuple[str, date], list[dict[str, Any]]] = defaultdict(list)
        for row in days:
            groups[(row["force"], period(date.fromisoformat(row["date"])))].append(row)
        wanted = [
            rows[-1] | {"received": sum(r["received"] for r in rows)}
            | {"resolved": sum(r["resolved"] for r in rows)}
            for _, rows in sorted(groups.items())
        ]  # fmt: skip
        assert await history(hub, first, last, every) == wanted, every
    assert len(await history(hub, first, last, "MONTH")) < len(days)


async def test_history_refuses_a_range_backwards_or_too_long(hub: Hub) -> None:
    for first, last in (("2026-02-01", "2026-01-31"), ("2020-01-01", "2026-01-01")):
        variables = {"from": first, "to": last, "every": "DAY"}
        answer = (await graphql(hub, "coordinator", HISTORY, variables)).json()
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    refused = (await graphql(hub, "analyst-AS", HISTORY, variables)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_hourly_upkeep_keeps_the_days_as_the_command_does(hub: Hub) -> None:
    """The pass every replica's lifespan runs hourly (and on its first start) back-fills the
    same days `crossforce history backfill` writes, and a second pass writes none."""
    now = datetime.now(UTC).replace(microsecond=0)
    records = records_around(54, now)
    await sync_all(hub, records)
    await hub.store.write("MATCH (f:ForceDay) DETACH DELETE f")
    rules = default_case_rules()
    await upkeep_pass(hub.store, RegionFacts(rules), rules)
    kept = await history(hub, now.date() - timedelta(days=400), now.date())
    firsts = first_days(records)
    assert len(kept) == sum((last_kept_day(now) - day).days + 1 for day in firsts.values())
    sample = kept[:: max(1, len(kept) // 15)]
    assert sample == [
        expected_day(records, row["force"], date.fromisoformat(row["date"])) for row in sample
    ]
    await upkeep_pass(hub.store, RegionFacts(rules), rules)
    assert await history(hub, now.date() - timedelta(days=400), now.date()) == kept


REGRADED = """
query($from: Date!, $to: Date!) {
  oversight { history(from: $from, to: $to) { date force pastTarget pastTargetUnsure } }
}
"""


async def test_a_case_regraded_later_is_not_past_the_new_target_on_earlier_days(
    hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A case synced low, then re-synced high: on the back-filled days before its regrading its
    level is not known to the hub (the graph keeps the level held now and when it was assessed),
    so it counts past target only once past the longest target of any level, and is unsure
    between the shortest and the longest; from its regrading, under the high target. A case
    regraded from high to low is unsure until regraded, then past its low target."""
    now = datetime.now(UTC).replace(microsecond=0)
    received = now - timedelta(days=60)
    up, down = case("AS", 1, received), case("GL", 1, received)
    for record in (up, down):
        record["risk"] = {"level": "LOW", "assessedAt": iso(received + timedelta(hours=2))}
    down["risk"]["level"] = "HIGH"
    await sync_all(hub, [up, down])
    regraded_at = now - timedelta(days=10, hours=5)
    later = [
        r | {"version": 2, "risk": {"level": level, "assessedAt": iso(regraded_at)}}
        for r, level in ((up, "HIGH"), (down, "LOW"))
    ]
    await sync_all(hub, later)
    await hub.store.write("MATCH (f:ForceDay) DETACH DELETE f")
    await backfill(hub, monkeypatch)
    variables = {"from": received.date().isoformat(), "to": now.date().isoformat()}
    rows = (await data(hub, "coordinator", REGRADED, variables))["oversight"]["history"]
    shortest, longest = min(TARGET.values()), max(TARGET.values())
    wanted = []
    for force, level in (("AS", "HIGH"), ("GL", "LOW")):
        for n in range((last_kept_day(now) - received.date()).days + 1):
            day = received.date() + timedelta(days=n)
            cut = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
            waited = cut - received
            if cut > regraded_at:  # the level held now is known to be in force
                past, unsure = waited > timedelta(days=TARGET[level]), False
            else:
                past = waited > timedelta(days=longest)
                unsure = timedelta(days=shortest) < waited <= timedelta(days=longest)
            wanted.append(
                {"date": day.isoformat(), "force": force, "pastTarget": int(past)}
                | {"pastTargetUnsure": int(unsure)}
            )
    assert rows == wanted
    # The days the case was low and within its 30 days do not count it under the high target.
    as_rows = [row for row in rows if row["force"] == "AS"]
    low_days = [
        row for row in as_rows if 8 <= (date.fromisoformat(row["date"]) - received.date()).days < 29
    ]
    assert low_days and all(row["pastTarget"] == 0 for row in low_days)
    assert all(row["pastTargetUnsure"] == 1 for row in low_days)
    assert as_rows[-1]["pastTarget"] == 1 and as_rows[-1]["pastTargetUnsure"] == 0
