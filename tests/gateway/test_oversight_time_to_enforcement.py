"""Time to enforcement as a distribution (`oversight { activity { timeToEnforcement } }`) and
the cases behind each band (`oversight { enforced }`), on both engines, against figures
computed here from the synced records: a window across a month end, cases with several
enforcement actions (the first one counts), waits in every band."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, iso, sync_all
from tests.gateway.test_oversight_activity import actions_of, at, case, month_end, region

BANDS = [("0-7", 0, 7), ("8-14", 7, 14), ("15-30", 14, 30), ("31-60", 30, 60)]
BANDS += [("61-90", 60, 90), ("91-180", 90, 180), ("181+", 180, None)]
DISTRIBUTION = """
query($from: DateTime!, $to: DateTime!) {
  oversight { activity(from: $from, to: $to) {
    force timeToEnforcement { band minDays maxDays count } } }
}
"""
ENFORCED = """
query($from: DateTime!, $to: DateTime!, $band: String!, $forces: [String!], $after: String) {
  oversight { enforced(from: $from, to: $to, band: $band, forces: $forces, first: 3,
                       after: $after) {
    totalCount
    edges { node { force caseRef daysToEnforcement firstEnforcementAt } }
    pageInfo { hasNextPage endCursor } } }
}
"""


def band_of(days: float) -> str:
    return next(label for label, _, high in BANDS if high is None or days < high)


def first_enforced(records: list[dict[str, Any]], low: datetime, high: datetime) -> list[Any]:
    """(first action, force, case reference, days waited) of the cases whose first action is
    in [low, high), earliest first."""
    out = []
    for r in records:
        moments = [moment for _, moment in actions_of(r)]
        if not moments or not low <= min(moments) < high:
            continue
        waited = (min(moments) - at(r["referral"]["receivedAt"])).total_seconds() / 86400
        out.append((min(moments), r["force"], r["caseRef"], waited))
    return sorted(out)


def long_waits(boundary: datetime) -> list[dict[str, Any]]:
    """Cases enforced around the month end after waits of every length; one with several
    actions whose first is before the window (it does not count), one whose first is in it
    and later ones after it (it counts once)."""
    records = []
    for n, waited in enumerate((3, 10, 20, 45, 75, 120, 250)):
        first = boundary + timedelta(days=n - 4, hours=n)
        actions = [{"method": "ARREST", "at": iso(first)}]
        actions.append({"method": "WARRANT", "at": iso(first + timedelta(days=2))})
        records.append(
            case("DO", 100 + n, first - timedelta(days=waited, hours=1), enforcements=actions)
        )
    early = boundary - timedelta(days=30)
    records.append(
        case("DO", 200, early - timedelta(days=50), enforcements=[
            {"method": "VOLUNTARY_ATTENDANCE", "at": iso(early)},
            {"method": "ARREST", "at": iso(boundary + timedelta(days=1))},
        ])
    )  # fmt: skip
    return records


async def test_time_to_enforcement_across_a_month_end_matches_the_records(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    boundary = month_end(now)
    records = region(41, boundary, now) + long_waits(boundary)
    await sync_all(hub, records)
    low, high = boundary - timedelta(days=10), boundary + timedelta(days=8)
    answer = await data(hub, "coordinator", DISTRIBUTION, {"from": iso(low), "to": iso(high)})
    wanted: dict[str, dict[str, int]] = defaultdict(lambda: {label: 0 for label, *_ in BANDS})
    for r in records:
        wanted[r["force"]]  # every force with cases has a row, zeros included
    for _, force, _, waited in first_enforced(records, low, high):
        wanted[force][band_of(waited)] += 1
    got = {
        row["force"]: {b["band"]: b["count"] for b in row["timeToEnforcement"]}
        for row in answer["oversight"]["activity"]
    }
    assert got == wanted
    assert all(count == 1 for count in got["DO"].values())  # one of DO's waits in every band
    bands = answer["oversight"]["activity"][0]["timeToEnforcement"]
    assert [(b["band"], b["minDays"], b["maxDays"]) for b in bands] == BANDS
    # A period of later days: the case first enforced before the window is in none of them.
    later = await data(
        hub, "coordinator", DISTRIBUTION, {"from": iso(high), "to": iso(now + timedelta(days=1))}
    )
    for row in later["oversight"]["activity"]:
        wanted_later = {label: 0 for label, *_ in BANDS}
        for _, force, _, waited in first_enforced(records, high, now + timedelta(days=1)):
            wanted_later[band_of(waited)] += force == row["force"]
        assert {b["band"]: b["count"] for b in row["timeToEnforcement"]} == wanted_later


async def test_a_band_opens_the_cases_behind_it_page_by_page(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    boundary = month_end(now)
    records = region(42, boundary, now) + long_waits(boundary)
    await sync_all(hub, records)
    low, high = boundary - timedelta(days=12), boundary + timedelta(days=10)
    enforced = first_enforced(records, low, high)
    for band in ("0-7", "15-30", "181+"):
        wanted = [(force, ref) for _, force, ref, waited in enforced if band_of(waited) == band]
        got: list[tuple[str, str]] = []
        after = None
        while True:
            variables = {"from": iso(low), "to": iso(high), "band": band, "after": after}
            page = (await data(hub, "coordinator", ENFORCED, variables))["oversight"]["enforced"]
            assert page["totalCount"] == len(wanted)
            for edge in page["edges"]:
                node = edge["node"]
                assert band_of(node["daysToEnforcement"]) == band
                assert low <= at(node["firstEnforcementAt"]) < high
                got.append((node["force"], node["caseRef"]))
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert got == wanted, band
    assert len([e for e in enforced if band_of(e[3]) == "0-7"]) > 3  # more than one page
    variables = {"from": iso(low), "to": iso(high), "band": "0-7", "forces": ["DO"]}
    only = (await data(hub, "coordinator", ENFORCED, variables))["oversight"]["enforced"]
    assert {e["node"]["force"] for e in only["edges"]} == {"DO"}
    refused = await graphql(hub, "coordinator", ENFORCED, variables | {"band": "8-15"})
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


PERIOD = """
query($since: DateTime!, $from: DateTime!, $to: DateTime!, $band: String!) {
  oversight(filter: {receivedFrom: $since}) {
    activity(from: $from, to: $to) { force timeToEnforcement { band count } }
    enforced(from: $from, to: $to, band: $band, first: 100) {
      totalCount edges { node { force caseRef } } } }
}
"""


async def test_the_distribution_of_cases_received_in_a_period_is_counted_afresh(
    hub: Hub,
) -> None:
    """With `oversight(filter: {receivedFrom})` the bars and their cases are those of the cases
    received since then, counted from their facts rather than the running index."""
    now = datetime.now(UTC).replace(microsecond=0)
    boundary = month_end(now)
    records = region(43, boundary, now) + long_waits(boundary)
    await sync_all(hub, records)
    since = boundary - timedelta(days=20)
    low, high = boundary - timedelta(days=10), boundary + timedelta(days=10)
    recent = [r for r in records if at(r["referral"]["receivedAt"]) >= since]
    enforced = first_enforced(recent, low, high)
    counts: dict[str, int] = {label: 0 for label, *_ in BANDS}
    for *_, waited in enforced:
        counts[band_of(waited)] += 1
    band = max(counts, key=lambda b: counts[b])
    variables = {"since": iso(since), "from": iso(low), "to": iso(high), "band": band}
    answer = (await data(hub, "coordinator", PERIOD, variables))["oversight"]
    got: dict[str, int] = {label: 0 for label, *_ in BANDS}
    for row in answer["activity"]:
        for b in row["timeToEnforcement"]:
            got[b["band"]] += b["count"]
    assert got == counts and counts[band] > 0
    listed = [(e["node"]["force"], e["node"]["caseRef"]) for e in answer["enforced"]["edges"]]
    assert listed == [(force, ref) for _, force, ref, w in enforced if band_of(w) == band]
    assert answer["enforced"]["totalCount"] == counts[band]
    assert len(recent) < len(records)  # the filter left cases out
