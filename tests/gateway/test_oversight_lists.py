"""Coordinators' named lists on both engines, against the records synced: the oldest cases waiting
for enforcement, the cases with devices awaiting examination (to and beyond 12 months), and the
regrade alerts a page at a time; no personal data in any of them; a force the agreement hides
from the reader stays out of every list, its pages and its totals.

The hub is `test_oversight_cases`'s: the default policies with a client `coordinator-AS` and an
agreement hiding GL's cases from AS."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, iso, sync_all
from tests.gateway.test_oversight_cases import (
    at,
    expected,
    got_rows,
    hub_server,
    region,
    rows,
    token_for_as,
)

__all__ = ["hub_server"]

CASE_ROW = "force caseRef riskLevel team daysWaiting lastActivityAt"
DEVICE_ROW = "force caseRef riskLevel team devicesAwaiting oldestSeizedAt daysSinceSeizure"
ALERT_ROW = "force caseRef riskLevel team daysWaiting reasons"
LISTS = {
    "awaitingEnforcement": ("OversightCaseFilter", CASE_ROW),
    "devicesAwaiting": ("DeviceFilter", DEVICE_ROW),
    "alerts": ("OversightCaseFilter", ALERT_ROW),
}


def query(name: str) -> str:
    kind, row = LISTS[name]
    return f"""
    query($filter: {kind}, $first: Int!, $after: String) {{
      oversight {{ {name}(filter: $filter, first: $first, after: $after) {{
        totalCount edges {{ cursor node {{ {row} }} }} pageInfo {{ hasNextPage endCursor }} }} }}
    }}"""


def imei(body: str) -> str:
    """The 14 digits with their Luhn check digit."""
    total = 0
    for i, digit in enumerate(int(c) for c in reversed(body)):
        doubled = digit * 2 if i % 2 == 0 else digit
        total += doubled - 9 if doubled > 9 else doubled
    return body + str((10 - total % 10) % 10)


def with_devices(records: list[dict[str, Any]], now: datetime, seed: int) -> list[dict[str, Any]]:
    """Devices on most cases: seized between a week and two years ago, some examined; some
    without an identifier."""
    rng = random.Random(seed)
    for n, record in enumerate(records):
        devices = []
        for d in range(rng.choice([0, 1, 1, 2, 3])):
            seized = now - timedelta(days=rng.randrange(7, 730), hours=d)
            device: dict[str, Any] = {"ref": f"D{d}", "type": "PHONE", "seizedAt": iso(seized)}
            if rng.random() < 0.3:
                device["examinedAt"] = iso(seized + timedelta(days=rng.randrange(1, 6)))
            if rng.random() < 0.5:
                device["imei"] = imei(f"35{n:06d}{d:06d}")
            devices.append(device)
        if devices:
            record["devices"] = devices
    return records


async def pages(
    hub: Hub, name: str, first: int, filter: dict[str, Any] | None, token: str | None = None
) -> tuple[list[dict[str, Any]], set[int], str]:
    """Every page of a list: its edges in order, each page's totalCount, the answers' text."""
    edges: list[dict[str, Any]] = []
    totals: set[int] = set()
    texts = []
    variables: dict[str, Any] = {"filter": filter, "first": first, "after": None}
    for _ in range(60):
        if token is None:
            response = await graphql(hub, "coordinator", query(name), variables)
        else:
            body = {"query": query(name), "variables": variables}
            headers = {"Authorization": f"Bearer {token}"}
            response = await hub.http.post("/graphql", json=body, headers=headers)
        payload = response.json()
        assert "errors" not in payload, payload
        texts.append(response.text)
        page = payload["data"]["oversight"][name]
        assert len(page["edges"]) <= first
        edges += page["edges"]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return edges, totals, "".join(texts)
        variables["after"] = page["pageInfo"]["endCursor"]
    raise AssertionError("more pages than cases")


def waiting(records: list[dict[str, Any]], now: datetime, **meaning: Any) -> list[dict[str, Any]]:
    """Open cases with no enforcement action, oldest referral first."""
    older = meaning.pop("min_days_waiting", None)
    return [
        r
        for r in expected(records, now, **meaning)
        if "enforcements" not in r
        and (older is None or now - at(r["referral"]["receivedAt"]) > timedelta(days=older))
    ]


def unexamined(record: dict[str, Any]) -> list[datetime]:
    return [
        at(d["seizedAt"])
        for d in record.get("devices", [])
        if "seizedAt" in d and "examinedAt" not in d
    ]


def device_rows(
    records: list[dict[str, Any]],
    now: datetime,
    *,
    forces: set[str] | None = None,
    levels: set[str] | None = None,
    older_than_days: int | None = None,
) -> list[tuple[Any, ...]]:
    chosen = [
        (min(unexamined(r)), r)
        for r in records
        if unexamined(r)
        and (forces is None or r["force"] in forces)
        and (levels is None or r["risk"]["level"] in levels)
        and (older_than_days is None or now - min(unexamined(r)) > timedelta(days=older_than_days))
    ]
    chosen.sort(key=lambda pair: (pair[0], f"{pair[1]['force']}:{pair[1]['caseRef']}"))
    return [
        (r["force"], r["caseRef"], r["risk"]["level"], r.get("team"), len(unexamined(r)), iso(s))
        for s, r in chosen
    ]


def got_device_rows(edges: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (n["force"], n["caseRef"], n["riskLevel"], n["team"], n["devicesAwaiting"],
         iso(at(n["oldestSeizedAt"])))
        for n in (e["node"] for e in edges)
    ]  # fmt: skip


async def synced(hub: Hub, seed: int, signs: int = 0) -> tuple[datetime, list[dict[str, Any]]]:
    """The region with devices; the first `signs` cases LOW and open, with signs of higher
    risk (access to children on every other one, grooming on every third)."""
    now = datetime.now(UTC).replace(microsecond=0)
    records = with_devices(region(seed, now), now, seed)
    for n, record in enumerate(records[:signs]):
        record["risk"]["level"] = "LOW"
        record["status"] = "NEW"
        record["suspects"][0]["accessToChildren"] = n % 2 == 0
        record["offences"] = ["ONLINE_GROOMING"] if n % 3 == 0 else ["IIOC_POSSESSION"]
    await sync_all(hub, records)
    return now, records


async def test_the_oldest_waiting_for_enforcement_come_first_page_by_page(hub: Hub) -> None:
    now, records = await synced(hub, 61)
    for given, meaning in (
        (None, {}),
        ({"minDaysWaiting": 90}, {"min_days_waiting": 90}),
        ({"forces": ["AS", "GL"], "riskLevels": ["LOW", "MEDIUM"]},
         {"forces": {"AS", "GL"}, "levels": {"LOW", "MEDIUM"}}),
        ({"team": "LOCAL", "minDaysWaiting": 30}, {"team": "LOCAL", "min_days_waiting": 30}),
    ):  # fmt: skip
        edges, totals, _ = await pages(hub, "awaitingEnforcement", 4, given)
        wanted = waiting(records, now, **meaning)
        assert got_rows(edges) == rows(wanted), given
        assert totals == {len(wanted)}, given
    assert waiting(records, now, min_days_waiting=90), "some wait beyond 90 days"


async def test_devices_awaiting_examination_come_oldest_seizure_first(hub: Hub) -> None:
    now, records = await synced(hub, 62)
    before = datetime.now(UTC)
    for given, meaning in (
        (None, {}),
        ({"minDaysSinceSeizure": 365}, {"older_than_days": 365}),
        ({"forces": ["WI"], "riskLevels": ["HIGH", "VERY_HIGH", "LOW"]},
         {"forces": {"WI"}, "levels": {"HIGH", "VERY_HIGH", "LOW"}}),
    ):  # fmt: skip
        edges, totals, _ = await pages(hub, "devicesAwaiting", 5, given)
        wanted = device_rows(records, now, **meaning)
        assert got_device_rows(edges) == wanted, given
        assert totals == {len(wanted)}, given
    assert device_rows(records, now, older_than_days=365), "some wait beyond 12 months"
    edges, _, _ = await pages(hub, "devicesAwaiting", 100, None)
    after = datetime.now(UTC)
    for edge in edges:
        seized = at(edge["node"]["oldestSeizedAt"])
        days = edge["node"]["daysSinceSeizure"]
        assert (now - seized).days - 1 <= days <= (after - seized).total_seconds() / 86400 + 1e-6
        assert days >= (before - seized).total_seconds() / 86400 - 1


async def test_alerts_page_through_every_alert_in_the_order_of_the_list(hub: Hub) -> None:
    _, records = await synced(hub, 63, signs=12)
    listed = await data(hub, "coordinator", "{ oversight { regradeAlerts(first: 100) { caseRef } "
                        "regradeAlertCount } }")  # fmt: skip
    order = [a["caseRef"] for a in listed["oversight"]["regradeAlerts"]]
    assert len(order) >= 8
    edges, totals, _ = await pages(hub, "alerts", 3, None)
    assert [e["node"]["caseRef"] for e in edges] == order
    assert totals == {listed["oversight"]["regradeAlertCount"]}
    local, _, _ = await pages(hub, "alerts", 2, {"forces": ["AS"], "minDaysWaiting": 30})
    wanted = [
        r["caseRef"]
        for r in records
        if r["force"] == "AS"
        and r["caseRef"] in order
        and datetime.now(UTC) - at(r["referral"]["receivedAt"]) > timedelta(days=30)
    ]
    assert sorted(e["node"]["caseRef"] for e in local) == sorted(wanted)


async def test_no_list_shows_personal_data_or_a_hidden_force(hub: Hub) -> None:
    _, records = await synced(hub, 64, signs=15)
    personal = ["Privatename"]
    for record in records:
        personal += [record["summary"], record["suspects"][0]["familyName"]]
        personal += [record["suspects"][0]["phones"][0], record["officer"]["name"]]
        personal += [d["imei"] for d in record.get("devices", []) if "imei" in d]
    seen_gl = set()
    for name in LISTS:
        edges, _, text = await pages(hub, name, 100, None)
        assert edges, name
        seen_gl.add(any(e["node"]["force"] == "GL" for e in edges))
        assert not [p for p in personal if p in text], name
        hidden, totals, text = await pages(hub, name, 7, None, token_for_as(hub))
        assert {e["node"]["force"] for e in hidden} <= {"AS", "WI"}, name
        others = [(e["node"]["force"], e["node"]["caseRef"]) for e in edges]
        others = [pair for pair in others if pair[0] != "GL"]
        assert [(e["node"]["force"], e["node"]["caseRef"]) for e in hidden] == others, name
        assert totals == {len(others)}, name
        assert '"GL"' not in text, name
        asked_gl, totals, _ = await pages(hub, name, 7, {"forces": ["GL"]}, token_for_as(hub))
        assert (asked_gl, totals) == ([], {0}), name
    assert seen_gl == {True}, "GL has cases in every list for the coordinator"


async def test_lists_refuse_a_bad_cursor_or_filter(hub: Hub) -> None:
    for name, variables, says in (
        ("devicesAwaiting", {"first": 5, "after": "bm90LWEtY3Vyc29y"}, "after"),
        ("alerts", {"first": 5, "after": "xyz"}, "after"),
        ("devicesAwaiting", {"first": 5, "filter": {"minDaysSinceSeizure": -1}}, "minDays"),
        ("awaitingEnforcement", {"first": 5, "filter": {"minDaysWaiting": -2}}, "minDays"),
        ("alerts", {"first": 101}, "first"),
    ):
        answer = (await graphql(hub, "coordinator", query(name), variables)).json()
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (name, answer)
        assert says in answer["errors"][0]["message"]
    refused = (await graphql(hub, "analyst-AS", query("alerts"), {"first": 5})).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
