"""A coordinator's list of open cases (`oversight { cases }`), on both engines: filters, order
and pages against the contract's definitions computed here from the synced records; no personal
data in it; and a force the sharing agreement hides from the reader stays out of it.

The hub here runs on the default policy files with two additions: a client `coordinator-AS`
(`oversight:read`, acting for AS), and an agreement hiding GL's cases from AS's oversight. The
region's coordinator, acting for no force, sees every force as before."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import DEFAULT_POLICY_DIR, Settings
from gateway.demo.server import BackgroundServer
from graph.embedded import free_port
from policies.devidp import mint_token
from tests.conftest import ENGINES
from tests.federation.conftest import Hub, _graph_uri, _hub_data_dir
from tests.gateway.graphql_client import data, graphql, iso, sync_all
from tests.gateway.test_oversight_activity import case

CLOSED = {"CHARGED", "CAUTIONED", "NO_FURTHER_ACTION", "TRANSFERRED", "CLOSED"}
TARGET = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}
STATUSES = ["NEW", "ALLOCATED", "ENFORCED", "CHARGED", "CLOSED", "NO_FURTHER_ACTION"]
HIDDEN_FROM_AS = """    other:
      fields: *case-metadata
    pairs:
      - viewer: AS
        owner: GL
        fields:
          case: {force: hidden, caseRef: hidden}
"""
ROW = "force caseRef riskLevel team daysWaiting lastActivityAt"
CASES = f"""
query($filter: OversightCaseFilter, $first: Int, $after: String) {{
  oversight {{ cases(filter: $filter, first: $first, after: $after) {{
    totalCount edges {{ cursor node {{ {ROW} }} }} pageInfo {{ hasNextPage endCursor }} }} }}
}}
"""


@pytest.fixture(scope="module", params=ENGINES)
def hub_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """The federation tests' hub, on a copy of the default policies with the two additions."""
    policies = tmp_path_factory.mktemp("policies") / "defaults"
    shutil.copytree(DEFAULT_POLICY_DIR, policies)
    clients = policies / "clients.yaml"
    added = "  coordinator-AS: {scopes: [oversight:read], force: AS}\n"
    clients.write_text(clients.read_text().replace("clients:\n", "clients:\n" + added, 1))
    sharing = policies / "sharing.yaml"
    text = sharing.read_text()
    other = "    other:\n      fields: *case-metadata\n"
    assert text.count(other) == 1
    sharing.write_text(text.replace(other, HIDDEN_FROM_AS))
    port = free_port()
    settings = Settings(
        graph_uri=_graph_uri(request),
        data_dir=_hub_data_dir(tmp_path_factory, request.param),
        public_url=f"http://127.0.0.1:{port}",
        policy_dir=policies,
    )
    server = BackgroundServer(settings, "127.0.0.1", port)
    server.start()
    yield settings
    server.stop()


def token_for_as(hub: Hub) -> str:
    settings = hub.settings
    policy_dir: Path = settings.policy_dir
    return mint_token(
        settings.data_dir,
        settings.public_url or "",
        settings.audience,
        "coordinator-AS",
        policy_dir=policy_dir,
    )


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def region(seed: int, now: datetime) -> list[dict[str, Any]]:
    """Cases received a distinct number of days (and a half) ago: open and closed, enforced
    or not, with and without a team and a last activity, each with personal data in it."""
    rng = random.Random(seed)
    records = []
    for n, days in enumerate(rng.sample(range(1, 500), 40)):
        received = now - timedelta(days=days + 0.5)
        fields: dict[str, Any] = {
            "status": rng.choice(STATUSES),
            "risk": {"level": rng.choice(list(TARGET)), "assessedAt": iso(received)},
            "summary": f"Private summary text {n}",
            "suspects": [{"ref": "P1", "givenName": "Privatename", "familyName": f"Secret{n}",
                          "phones": ["07700 900" + f"{n:03d}"]}],
            "officer": {"name": f"DC Officer{n}", "email": f"officer{n}@as.police.example"},
        }  # fmt: skip
        if rng.random() < 0.7:
            fields["team"] = rng.choice(["SPECIALIST", "LOCAL"])
        if rng.random() < 0.6:
            quiet = rng.randrange(0, days + 1) + 0.5
            fields["lastActivityAt"] = iso(now - timedelta(days=quiet))
        if rng.random() < 0.4:
            enforced = received + timedelta(days=rng.randrange(0, days + 1) * 0.5)
            fields["enforcements"] = [
                {"method": "ARREST", "at": iso(enforced)},
                {"method": "WARRANT", "at": iso(enforced + timedelta(hours=2))},
            ]
        records.append(case(rng.choice(["AS", "GL", "WI"]), n, received, **fields))
    return records


def expected(
    records: list[dict[str, Any]],
    now: datetime,
    *,
    forces: set[str] | None = None,
    levels: set[str] | None = None,
    team: str | None = None,
    past_target: bool | None = None,
    inactive_days: int | None = None,
) -> list[dict[str, Any]]:
    """The open cases the filter selects, oldest referral first, as the contract defines them."""

    def received(r: dict[str, Any]) -> datetime:
        return at(r["referral"]["receivedAt"])

    def past(r: dict[str, Any]) -> bool:
        target = timedelta(days=TARGET[r["risk"]["level"]])
        return "enforcements" not in r and now - received(r) > target

    def quiet_since(r: dict[str, Any]) -> datetime:
        return at(r["lastActivityAt"]) if "lastActivityAt" in r else received(r)

    chosen = [
        r
        for r in records
        if r["status"] not in CLOSED
        and (forces is None or r["force"] in forces)
        and (levels is None or r["risk"]["level"] in levels)
        and (team is None or r.get("team") == team)
        and (past_target is None or past(r) == past_target)
        and (inactive_days is None or now - quiet_since(r) > timedelta(days=inactive_days))
    ]
    return sorted(chosen, key=received)


def rows(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["force"], r["caseRef"], r["risk"]["level"], r.get("team"), r.get("lastActivityAt"))
        for r in records
    ]


def got_rows(edges: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    def instant(text: str | None) -> str | None:
        return None if text is None else iso(at(text))

    return [
        (n["force"], n["caseRef"], n["riskLevel"], n["team"], instant(n["lastActivityAt"]))
        for n in (e["node"] for e in edges)
    ]


async def all_pages(
    hub: Hub, client_id: str, first: int, filter: dict[str, Any] | None = None
) -> tuple[list[dict[str, Any]], set[int]]:
    """Every page, `first` at a time: the edges in order, and each page's totalCount."""
    edges: list[dict[str, Any]] = []
    totals: set[int] = set()
    after = None
    for _ in range(50):
        variables = {"filter": filter, "first": first, "after": after}
        page = (await data(hub, client_id, CASES, variables))["oversight"]["cases"]
        assert len(page["edges"]) <= first
        edges += page["edges"]
        totals.add(page["totalCount"])
        if not page["pageInfo"]["hasNextPage"]:
            return edges, totals
        after = page["pageInfo"]["endCursor"]
    raise AssertionError("more pages than cases")


async def test_open_cases_come_oldest_first_page_by_page(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = region(41, now)
    await sync_all(hub, records)
    before = datetime.now(UTC)
    edges, totals = await all_pages(hub, "coordinator", 7)
    after = datetime.now(UTC)
    wanted = expected(records, now)
    assert got_rows(edges) == rows(wanted)
    assert totals == {len(wanted)}
    for edge, record in zip(edges, wanted, strict=True):
        received = at(record["referral"]["receivedAt"])
        low = (before - received).total_seconds() / 86400 - 1e-6
        high = (after - received).total_seconds() / 86400 + 1e-6
        assert low <= edge["node"]["daysWaiting"] <= high


FILTERS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({"forces": ["GL"], "riskLevels": ["HIGH", "VERY_HIGH"]},
     {"forces": {"GL"}, "levels": {"HIGH", "VERY_HIGH"}}),
    ({"team": "SPECIALIST"}, {"team": "SPECIALIST"}),
    ({"pastTarget": True}, {"past_target": True}),
    ({"pastTarget": False, "inactiveDays": 30}, {"past_target": False, "inactive_days": 30}),
    ({"inactiveDays": 365, "forces": ["AS", "WI"]}, {"inactive_days": 365, "forces": {"AS", "WI"}}),
]  # fmt: skip


async def test_each_filter_selects_the_cases_the_contract_defines(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = region(42, now)
    await sync_all(hub, records)
    for given, meaning in FILTERS:
        edges, totals = await all_pages(hub, "coordinator", 3, given)
        wanted = expected(records, now, **meaning)
        assert got_rows(edges) == rows(wanted), given
        assert totals == {len(wanted)}, given
    assert expected(records, now, past_target=True), "the region has cases past target"


async def test_a_coordinator_sees_no_personal_data_in_cases_or_activity(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = region(43, now)
    await sync_all(hub, records)
    query = f"""
    {{ oversight {{
        cases(first: 100) {{ totalCount edges {{ cursor node {{ {ROW} }} }} }}
        activity(from: "2000-01-01T00:00:00Z", to: "{iso(now + timedelta(days=1))}") {{
          force received arrests resolved enforcements {{ method count }} }} }} }}
    """
    response = await graphql(hub, "coordinator", query)
    assert response.status_code == 200 and "errors" not in response.json()
    assert response.json()["data"]["oversight"]["cases"]["totalCount"] > 0
    text = response.text
    for record in records:
        for personal in (
            record["summary"],
            record["suspects"][0]["familyName"],
            record["suspects"][0]["phones"][0],
            record["officer"]["name"],
            record["officer"]["email"],
        ):
            assert personal not in text
    assert "Privatename" not in text


async def test_a_force_hidden_by_the_agreement_stays_hidden_in_cases(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = region(44, now)
    await sync_all(hub, records)
    everyone = expected(records, now)
    assert any(r["force"] == "GL" for r in everyone)
    seen, _ = await all_pages(hub, "coordinator", 100)
    assert got_rows(seen) == rows(everyone)

    headers = {"Authorization": f"Bearer {token_for_as(hub)}"}
    for ask in (None, {"forces": ["GL"]}, {"forces": ["GL", "AS"], "pastTarget": True}):
        body = {"query": CASES, "variables": {"filter": ask, "first": 5}}
        edges: list[dict[str, Any]] = []
        while True:
            response = await hub.http.post("/graphql", json=body, headers=headers)
            payload = response.json()
            assert "errors" not in payload, payload
            page = payload["data"]["oversight"]["cases"]
            edges += page["edges"]
            if not page["pageInfo"]["hasNextPage"]:
                break
            body["variables"]["after"] = page["pageInfo"]["endCursor"]
        forces = {"AS", "WI"} if ask is None else set(ask["forces"]) - {"GL"}
        past = None if ask is None else ask.get("pastTarget")
        wanted = expected(records, now, forces=forces, past_target=past)
        assert got_rows(edges) == rows(wanted), ask
        assert page["totalCount"] == len(wanted)
        assert "GL" not in response.text


async def test_cases_refuse_a_bad_page_or_filter(hub: Hub) -> None:
    query = "query($first: Int, $after: String, $filter: OversightCaseFilter) { oversight { "
    query += "cases(first: $first, after: $after, filter: $filter) { totalCount } } }"
    for variables, says in (
        ({"first": -1}, "first: between 0 and 100"),
        ({"first": 101}, "first: between 0 and 100"),
        ({"after": "not-a-cursor"}, "after: not a cursor"),
        ({"filter": {"inactiveDays": -1}}, "inactiveDays"),
        ({"filter": {"forces": ["as"]}}, "forces"),
    ):
        answer = (await graphql(hub, "coordinator", query, variables)).json()
        assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables
        assert says in answer["errors"][0]["message"]
    count = await data(hub, "coordinator", query, {"first": 0})
    assert count["oversight"]["cases"]["totalCount"] == 0
    refused = (await graphql(hub, "analyst-AS", query)).json()
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_cases_of_a_period_are_the_open_cases_received_then(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = region(45, now)
    await sync_all(hub, records)
    low, high = now - timedelta(days=200), now - timedelta(days=20)
    period = f'receivedFrom: "{iso(low)}", receivedBefore: "{iso(high)}"'
    query = CASES.replace("oversight {", f"oversight(filter: {{{period}}}) {{", 1)
    received = [r for r in records if low <= at(r["referral"]["receivedAt"]) < high]
    for filter, meaning in ((None, {}), ({"pastTarget": True}, {"past_target": True})):
        edges, totals = [], set()
        variables: dict[str, Any] = {"filter": filter, "first": 4, "after": None}
        while True:
            page = (await data(hub, "coordinator", query, variables))["oversight"]["cases"]
            edges += page["edges"]
            totals.add(page["totalCount"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            variables["after"] = page["pageInfo"]["endCursor"]
        wanted = expected(received, now, **meaning)
        assert got_rows(edges) == rows(wanted), filter
        assert totals == {len(wanted)}
