"""The priority queue over GraphQL: paged past the first page, and filtered by force, risk, team
and reason, each checked against the synced records."""

from __future__ import annotations

from typing import Any

import pytest

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, summary, sync_all

QUEUE = """query Q($first: Int!, $after: String, $filter: PriorityFilter) {
  priorityQueue(first: $first, after: $after, filter: $filter) {
    force caseRef riskLevel cursor reasonCodes } }"""

RECORDS: list[dict[str, Any]] = [
    summary("AS", n, schema="crossforce/case-summary/v1.1", level=level, team=team,
            received_days_ago=days, suspects=[{"ref": "P1", "accessToChildren": children}])
    for n, (level, team, days, children) in enumerate(
        [
            ("HIGH", "SPECIALIST", 20, True), ("LOW", "LOCAL", 2, False),
            ("MEDIUM", "SPECIALIST", 40, False), ("HIGH", "LOCAL", 1, True),
        ],
        start=1,
    )
] + [
    summary("GL", n, schema="crossforce/case-summary/v1.1", level=level, team=team,
            received_days_ago=days, suspects=[{"ref": "P1", "accessToChildren": children}])
    for n, (level, team, days, children) in enumerate(
        [("LOW", "SPECIALIST", 90, True), ("VERY_HIGH", "LOCAL", 3, False)], start=11
    )
]  # fmt: skip


@pytest.fixture
async def queue_hub(hub: Hub) -> Hub:
    await sync_all(hub, RECORDS)
    return hub


async def queue(hub: Hub, first: int = 50, after: str | None = None,
                filter: dict[str, Any] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    variables = {"first": first, "after": after, "filter": filter}
    result: list[dict[str, Any]] = (await data(hub, "analyst-AS", QUEUE, variables))[
        "priorityQueue"
    ]
    return result


async def test_pages_cover_the_queue_once_in_its_order(queue_hub: Hub) -> None:
    whole = await queue(queue_hub)
    assert len(whole) == len(RECORDS)
    seen: list[str] = []
    after = None
    while True:
        page = await queue(queue_hub, first=2, after=after)
        if not page:
            break
        seen += [row["caseRef"] for row in page]
        after = page[-1]["cursor"]
    assert seen == [row["caseRef"] for row in whole]
    bad = (await graphql(queue_hub, "analyst-AS", QUEUE, {"first": 2, "after": "nope"})).json()
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("filter", "keeps"),
    [
        ({"forces": ["GL"]}, lambda r: r["force"] == "GL"),
        ({"riskLevels": ["HIGH", "VERY_HIGH"]},
         lambda r: r["risk"]["level"] in ("HIGH", "VERY_HIGH")),
        ({"team": "SPECIALIST"}, lambda r: r["team"] == "SPECIALIST"),
        ({"reasons": ["ACCESS_TO_CHILDREN"]}, lambda r: r["suspects"][0]["accessToChildren"]),
        (
            {"forces": ["AS"], "team": "LOCAL", "reasons": ["ACCESS_TO_CHILDREN"]},
            lambda r: r["force"] == "AS" and r["team"] == "LOCAL"
            and r["suspects"][0]["accessToChildren"],
        ),
    ],
)  # fmt: skip
async def test_filters_keep_exactly_the_matching_cases_in_queue_order(
    queue_hub: Hub, filter: dict[str, Any], keeps: Any
) -> None:
    whole = await queue(queue_hub)
    filtered = await queue(queue_hub, filter=filter)
    expected = {r["caseRef"] for r in RECORDS if keeps(r)}
    assert expected and {row["caseRef"] for row in filtered} == expected
    assert [row["caseRef"] for row in filtered] == [
        row["caseRef"] for row in whole if row["caseRef"] in expected
    ]
    if "reasons" in filter:
        assert all("ACCESS_TO_CHILDREN" in row["reasonCodes"] for row in filtered)
