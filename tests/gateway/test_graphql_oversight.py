"""Coordinators' figures, the priority queue and regrade alerts, against independent answers."""

from __future__ import annotations

import random
import statistics
from datetime import UTC, datetime
from typing import Any

from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, graphql, iso, summary, sync_all

CLOSED = {"CHARGED", "CAUTIONED", "NO_FURTHER_ACTION", "TRANSFERRED", "CLOSED"}
TARGET = {"VERY_HIGH": 7, "HIGH": 7, "MEDIUM": 14, "LOW": 30}
STATUSES = ["NEW", "ALLOCATED", "ENFORCED", "CHARGED", "CLOSED", "NO_FURTHER_ACTION"]

BY_FORCE = """
{ oversight { byForce { force riskLevel open pastTarget
                        enforcedWithinTargetShare medianDaysToEnforcement } } }
"""


def region(seed: int, now: datetime) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for n in range(60):
        received = rng.randrange(0, 80) + 0.5  # half days: no case sits on its target's edge
        enforced = None
        if rng.random() < 0.5:
            enforced = min(received - 0.25, rng.choice([1.0, 6.5, 7.0, 13.0, 20.0, 45.0]))
        records.append(
            summary(
                rng.choice(["AS", "GL", "WI"]),
                n,
                level=rng.choice(list(TARGET)),
                status=rng.choice(STATUSES),
                received_days_ago=received,
                enforced_after_days=enforced if enforced and enforced > 0 else None,
                now=now,
            )
        )
    return records


def expected_figures(records: list[dict[str, Any]], now: datetime) -> dict[tuple[str, str], Any]:
    """The contract's definitions, computed here without the hub's code."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in records:
        groups.setdefault((r["force"], r["risk"]["level"]), []).append(r)
    out = {}
    for (force, level), cases in groups.items():

        def at(text: str) -> datetime:
            return datetime.fromisoformat(text.replace("Z", "+00:00"))

        open_cases = [c for c in cases if c["status"] not in CLOSED]
        past = [
            c
            for c in open_cases
            if "enforcementAt" not in c
            and (now - at(c["referral"]["receivedAt"])).total_seconds() > TARGET[level] * 86400
        ]
        days = [
            (at(c["enforcementAt"]) - at(c["referral"]["receivedAt"])).total_seconds() / 86400
            for c in cases
            if "enforcementAt" in c
        ]
        out[(force, level)] = {
            "open": len(open_cases),
            "pastTarget": len(past),
            "enforcedWithinTargetShare": (
                sum(d <= TARGET[level] for d in days) / len(days) if days else None
            ),
            "medianDaysToEnforcement": statistics.median(days) if days else None,
        }
    return out


async def test_coordinator_figures_match_an_independent_calculation(hub: Hub) -> None:
    now = datetime.now(UTC)
    records = region(11, now)
    await sync_all(hub, records)
    rows = (await data(hub, "coordinator", BY_FORCE))["oversight"]["byForce"]
    got = {(r["force"], r["riskLevel"]): {k: r[k] for k in list(r)[2:]} for r in rows}
    expected = expected_figures(records, now)
    assert set(got) == set(expected)
    for key, figures in expected.items():
        for name, value in figures.items():
            if isinstance(value, float):
                assert abs(got[key][name] - value) < 1e-6, (key, name)
            else:
                assert got[key][name] == value, (key, name)


async def test_oversight_filters_by_force_and_needs_its_scope(hub: Hub) -> None:
    now = datetime.now(UTC)
    await sync_all(hub, region(12, now))
    query = '{ oversight(filter: {forces: ["GL"]}) { byForce { force } forces { force } } }'
    result = (await data(hub, "coordinator", query))["oversight"]
    assert {r["force"] for r in result["byForce"]} == {"GL"}
    assert [f["force"] for f in result["forces"]] == ["GL"]
    refused = (await graphql(hub, "analyst-AS", query)).json()
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


PRIORITY = "{ priorityQueue(first: 10) { force caseRef score reasons } }"


async def test_priority_queue_ranks_seeded_cases_in_the_expected_order(hub: Hub) -> None:
    media_a = [{"sha1": "5" * 40, "category": "A"}]
    child_suspect = [{"ref": "P1", "accessToChildren": True}]
    unidentified = [{"ref": "V1", "identified": False, "ageBand": "8-12"}]
    seeded = [
        summary("AS", 1, level="LOW", received_days_ago=2.5),
        summary("AS", 2, level="VERY_HIGH", received_days_ago=20.5, suspects=child_suspect,
                media=media_a, victims=unidentified),
        summary("AS", 3, level="HIGH", received_days_ago=3.5, media=media_a),
        summary("AS", 4, level="MEDIUM", received_days_ago=5.5, offences=["ONLINE_GROOMING"]),
        summary("AS", 5, level="HIGH", status="CHARGED", received_days_ago=40.5),  # closed
    ]  # fmt: skip
    await sync_all(hub, seeded)
    queue = (await data(hub, "analyst-AS", PRIORITY))["priorityQueue"]
    assert [q["caseRef"] for q in queue] == ["AS-T-0002", "AS-T-0003", "AS-T-0004", "AS-T-0001"]
    scores = [q["score"] for q in queue]
    assert scores == sorted(scores, reverse=True)
    top = queue[0]["reasons"]
    assert "graded VERY_HIGH" in top
    assert "suspect has access to children" in top
    assert any("past its 7-day target" in r for r in top)


REGRADE = "{ oversight { regradeAlerts { force caseRef riskLevel reasons } } }"


async def test_regrade_alerts_fire_for_each_sign_and_not_without_one(hub: Hub) -> None:
    phone = {"ref": "P1", "phones": ["07700 900555"]}
    cases = [
        summary("AS", 1, level="LOW", suspects=[{"ref": "P1", "accessToChildren": True}]),
        summary("AS", 2, level="LOW", media=[{"md5": "a" * 32, "category": "A"}]),
        summary("AS", 3, level="MEDIUM", offences=["CONTACT_ABUSE_INDICATED"]),
        summary("AS", 4, level="LOW", offences=["SEXTORTION"]),
        summary("AS", 5, level="LOW", suspects=[{"ref": "P1"}],
                victims=[{"ref": "V1", "identified": True, "contactWith": ["P1"]}]),
        summary("AS", 6, level="MEDIUM", suspects=[phone]),
        summary("GL", 7, level="HIGH", suspects=[{"ref": "P9", "phones": ["+447700900555"]}]),
        summary("AS", 8, level="LOW"),  # no sign
        summary("AS", 9, level="HIGH", suspects=[{"ref": "P1", "accessToChildren": True}]),
    ]  # fmt: skip
    await sync_all(hub, cases)
    alerts = (await data(hub, "coordinator", REGRADE))["oversight"]["regradeAlerts"]
    reasons = {a["caseRef"]: a["reasons"] for a in alerts}
    assert reasons == {
        "AS-T-0001": ["suspect has access to children"],
        "AS-T-0002": ["category A media (1)"],
        "AS-T-0003": ["contact abuse indicated"],
        "AS-T-0004": ["grooming indicated"],
        "AS-T-0005": ["a victim is in contact with the suspect"],
        "AS-T-0006": ["linked to GL case GL-T-0007, graded high risk"],
    }
    feed = (await hub.changes("force-AS")).json()["changes"]
    assert {c["caseRef"]: c["reasons"] for c in feed if c["kind"] == "REGRADE"} == reasons
    replay = await hub.sync("force-AS", cases[:1])
    assert replay.json()["results"][0]["status"] == "stale"
    again = (await hub.changes("force-AS")).json()["changes"]
    assert len([c for c in again if c["kind"] == "REGRADE"]) == len(reasons)


async def test_images_graded_in_another_case_need_not_be_viewed_again(hub: Hub) -> None:
    image = "b" * 40
    graded = {"sha1": image, "category": "A", "gradedAt": iso(datetime.now(UTC))}
    await sync_all(
        hub,
        [
            summary("AS", 1, media=[graded]),
            summary("GL", 2, media=[{"sha1": image.upper()}, {"md5": "c" * 32}]),
        ],
    )
    query = '{ case(force: "GL", caseRef: "GL-T-0002") { imageReview { items gradedElsewhere '
    query += "categoriesElsewhere { category count } } } }"
    review = (await data(hub, "analyst-GL", query))["case"]["imageReview"]
    assert review == {
        "items": 2,
        "gradedElsewhere": 1,
        "categoriesElsewhere": [{"category": "A", "count": 1}],
    }
    avoided = await data(hub, "coordinator", "{ oversight { imageViewsAvoided { force count } } }")
    assert avoided["oversight"]["imageViewsAvoided"] == [{"force": "GL", "count": 1}]
