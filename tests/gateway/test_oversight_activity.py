"""A coordinator's activity in a window (`oversight { activity(from, to) }`), against the
contract's definitions computed here from the synced records, on both engines: windows across a
month end, cases with several enforcement actions, v1 and v1.1 records side by side."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, iso, sync_all

V1_1 = "crossforce/case-summary/v1.1"
METHODS = ["WARRANT", "ARREST", "VOLUNTARY_ATTENDANCE", "OTHER"]
KINDS = [
    "CHARGED",
    "CONDITIONAL_CAUTION",
    "CAUTION",
    "COMMUNITY_RESOLUTION",
    "FAST_TRACK_CPS_FILE",
    "NO_FURTHER_ACTION",
    "TRANSFERRED",
]
ACTIVITY = """
query($a: DateTime!, $b: DateTime!, $c: DateTime!, $d: DateTime!) {
  oversight {
    across: activity(from: $a, to: $b) { ...row }
    later: activity(from: $c, to: $d) { ...row }
  }
}
fragment row on ForceActivity {
  force received arrests resolved
  enforcements { method count }
  outcomes { kind count }
}
"""


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def month_end(now: datetime) -> datetime:
    """The start of last month: a month end with weeks of the past on either side of it."""
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return (first - timedelta(days=1)).replace(day=1)


def case(force: str, number: int, received: datetime, **fields: Any) -> dict[str, Any]:
    """A v1.1 case summary received at `received`, with its v1.1 fields as given."""
    record: dict[str, Any] = {
        "schema": V1_1,
        "force": force,
        "caseRef": f"{force}-A-{number:04d}",
        "version": 1,
        "referral": {"source": "NCA", "receivedAt": iso(received)},
        "risk": {"level": "MEDIUM", "assessedAt": iso(received + timedelta(hours=1))},
        "status": "NEW",
        "openedAt": iso(received + timedelta(hours=1)),
    }
    record.update(fields)
    return record


def region(seed: int, boundary: datetime, now: datetime) -> list[dict[str, Any]]:
    """Cases around `boundary`: some v1 (`enforcementAt` only), most v1.1 with zero to four
    enforcement actions, an outcome, a closing date, or none."""
    rng = random.Random(seed)
    latest = now - timedelta(hours=1)

    def after(start: datetime, low: float, high: float) -> datetime:
        moment = start + timedelta(seconds=rng.randrange(int(low * 86400), int(high * 86400)))
        return min(moment, latest)

    records = []
    for n in range(45):
        received = after(boundary, -40, 25)
        fields: dict[str, Any] = {}
        if n % 5 == 0:  # a v1 record: its enforcementAt is one action of method OTHER
            fields["schema"] = "crossforce/case-summary/v1"
            if rng.random() < 0.7:
                fields["enforcementAt"] = iso(after(received, 0, 30))
        else:
            actions = [
                {"method": rng.choice(METHODS), "at": iso(after(received, 0, 30))}
                for _ in range(rng.choice([0, 1, 1, 2, 3, 4]))
            ]
            if actions:
                fields["enforcements"] = actions
                if rng.random() < 0.5:
                    fields["enforcementAt"] = min(actions, key=lambda a: at(a["at"]))["at"]
            if rng.random() < 0.5:
                fields["outcome"] = {"kind": rng.choice(KINDS), "at": iso(after(received, 5, 40))}
        if rng.random() < 0.4:
            fields["closedAt"] = iso(after(received, 3, 50))
            fields["status"] = "CLOSED"
        records.append(case(rng.choice(["AS", "GL", "WI"]), n, received, **fields))
    return records


def actions_of(record: dict[str, Any]) -> list[tuple[str, datetime]]:
    if "enforcements" in record:
        return [(a["method"], at(a["at"])) for a in record["enforcements"]]
    if "enforcementAt" in record:
        return [("OTHER", at(record["enforcementAt"]))]
    return []


def expected_activity(
    records: list[dict[str, Any]], low: datetime, high: datetime
) -> dict[str, dict[str, Any]]:
    """The contract's definitions, computed here without the hub's code."""

    def inside(moment: datetime | None) -> bool:
        return moment is not None and low <= moment < high

    rows: dict[str, dict[str, Any]] = {}
    for r in records:
        row = rows.setdefault(
            r["force"],
            {"received": 0, "enforcements": Counter(), "outcomes": Counter(), "resolved": 0},
        )
        row["received"] += inside(at(r["referral"]["receivedAt"]))
        for method, moment in actions_of(r):
            row["enforcements"][method] += inside(moment)
        outcome_at = at(r["outcome"]["at"]) if "outcome" in r else None
        if inside(outcome_at):
            row["outcomes"][r["outcome"]["kind"]] += 1
        ends = [t for t in (outcome_at, at(r["closedAt"]) if "closedAt" in r else None) if t]
        row["resolved"] += inside(min(ends, default=None))
    return {
        force: {
            "received": row["received"],
            "arrests": row["enforcements"]["ARREST"],
            "resolved": row["resolved"],
            "enforcements": {m: row["enforcements"][m] for m in METHODS},
            "outcomes": {k: row["outcomes"][k] for k in KINDS},
        }
        for force, row in rows.items()
    }


def as_got(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["force"]: {
            "received": r["received"],
            "arrests": r["arrests"],
            "resolved": r["resolved"],
            "enforcements": {e["method"]: e["count"] for e in r["enforcements"]},
            "outcomes": {o["kind"]: o["count"] for o in r["outcomes"]},
        }
        for r in rows
    }


async def test_activity_in_windows_across_a_month_end_matches_the_records(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    boundary = month_end(now)
    records = region(31, boundary, now)
    # A case with several actions, two on the window's edges: `from` counts, `to` does not.
    low, high = boundary - timedelta(days=9, hours=12), boundary + timedelta(days=5)
    several = [
        {"method": "WARRANT", "at": iso(low)},
        {"method": "ARREST", "at": iso(low + timedelta(minutes=15))},
        {"method": "ARREST", "at": iso(boundary - timedelta(seconds=1))},
        {"method": "VOLUNTARY_ATTENDANCE", "at": iso(boundary + timedelta(days=2))},
        {"method": "ARREST", "at": iso(high)},
    ]
    outcome = {"kind": "FAST_TRACK_CPS_FILE", "at": iso(boundary + timedelta(days=4))}
    records.append(
        case("DO", 1, low - timedelta(days=3), enforcements=several, outcome=outcome,
             closedAt=iso(high - timedelta(days=1)), status="CHARGED")
    )  # fmt: skip
    await sync_all(hub, records)
    later_low, later_high = boundary + timedelta(days=1), boundary + timedelta(days=20)
    answer = await data(
        hub,
        "coordinator",
        ACTIVITY,
        {"a": iso(low), "b": iso(high), "c": iso(later_low), "d": iso(later_high)},
    )
    across = as_got(answer["oversight"]["across"])
    assert across == expected_activity(records, low, high)
    assert across["DO"]["enforcements"] == {
        "WARRANT": 1, "ARREST": 2, "VOLUNTARY_ATTENDANCE": 1, "OTHER": 0
    }  # fmt: skip
    assert (across["DO"]["arrests"], across["DO"]["resolved"]) == (2, 1)
    assert across["DO"]["outcomes"]["FAST_TRACK_CPS_FILE"] == 1
    later = as_got(answer["oversight"]["later"])
    assert later == expected_activity(records, later_low, later_high)
    assert [r["force"] for r in answer["oversight"]["across"]] == ["AS", "DO", "GL", "WI"]


async def test_activity_needs_a_window_that_ends_after_it_starts(hub: Hub) -> None:
    query = '{ oversight { activity(from: "2026-11-01T00:00:00Z", to: "2026-11-01T00:00:00Z") '
    query += "{ force } } }"
    refused = (await graphql(hub, "coordinator", query)).json()
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "`from` must be before `to`" in refused["errors"][0]["message"]
    forbidden = (await graphql(hub, "analyst-AS", query)).json()
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_case_synced_again_moves_its_activity_and_leaves_the_open_list(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    received = now - timedelta(days=20)
    first = case("GL", 7, received, enforcements=[
        {"method": "WARRANT", "at": iso(received + timedelta(days=2))}])  # fmt: skip
    await sync_all(hub, [first])
    query = """query($a: DateTime!, $b: DateTime!) { oversight {
      activity(from: $a, to: $b) { ...row }
      cases { totalCount edges { node { caseRef } } } } }
    fragment row on ForceActivity {
      force received arrests resolved enforcements { method count } outcomes { kind count } }"""
    window = {"a": iso(received - timedelta(days=1)), "b": iso(now + timedelta(minutes=1))}
    low, high = at(window["a"]), at(window["b"])
    before = (await data(hub, "coordinator", query, window))["oversight"]
    assert as_got(before["activity"]) == expected_activity([first], low, high)
    assert before["cases"]["edges"] == [{"node": {"caseRef": "GL-A-0007"}}]

    again = first | {
        "version": 2,
        "status": "CHARGED",
        "enforcements": first["enforcements"]
        + [
            {"method": "ARREST", "at": iso(received + timedelta(days=2, hours=1))},
            {"method": "ARREST", "at": iso(received + timedelta(days=9))},
        ],
        "outcome": {"kind": "CHARGED", "at": iso(received + timedelta(days=15))},
    }
    await sync_all(hub, [again])
    after = (await data(hub, "coordinator", query, window))["oversight"]
    assert as_got(after["activity"]) == expected_activity([again], low, high)
    assert (after["activity"][0]["arrests"], after["activity"][0]["resolved"]) == (2, 1)
    assert after["cases"] == {"totalCount": 0, "edges": []}
