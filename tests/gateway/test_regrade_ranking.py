"""Regrade alerts in the order of what matters, and stale cases told once, on both engines,
against orders and sets computed here from the synced records and the case rules file.

Ranking: the sum of the child-safety signs' severities (read from the default case rules file
here), then the longest waiting since referral, then the longest quiet. Stale: an open case
with no activity for the file's `stale.after_days` is told to its force once per quiet spell."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import yaml

from federation.after_sync.stale import feed_stale
from policies.case_rules import DEFAULTS, default_case_rules
from tests.federation.conftest import Hub
from tests.gateway.graphql_client import data, iso, sync_all
from tests.gateway.test_oversight_activity import at, case

RULES_FILE = yaml.safe_load(DEFAULTS.read_text())
SEVERITY: dict[str, int] = RULES_FILE["regrade"]["signs"]
STALE_DAYS: int = RULES_FILE["stale"]["after_days"]
ALERTS = """query($after: String) { oversight { alerts(first: 7, after: $after) {
  totalCount edges { node { force caseRef reasons } } pageInfo { hasNextPage endCursor } } } }"""


def with_signs(seed: int, now: datetime) -> list[tuple[dict[str, Any], set[str]]]:
    """Open and closed cases of every level, each with a random set of signs."""
    rng = random.Random(seed)
    made = []
    for n in range(36):
        received = now - timedelta(days=rng.randrange(1, 300), hours=rng.randrange(24))
        signs = {s for s in SEVERITY if s != "linked_high_risk" and rng.random() < 0.2}
        suspect: dict[str, Any] = {"ref": "P1", "accessToChildren": "access_to_children" in signs}
        suspect["registeredSexOffender"] = "registered_sex_offender" in signs
        offences = ["IIOC_POSSESSION"]
        offences += ["ONLINE_GROOMING"] if "grooming" in signs else []
        offences += ["CONTACT_ABUSE_INDICATED"] if "contact_abuse" in signs else []
        offences += ["SELF_GENERATED_IMAGERY"] if "self_generated_imagery" in signs else []
        fields: dict[str, Any] = {
            "risk": {"level": rng.choice(["LOW", "LOW", "MEDIUM", "HIGH"]),
                     "assessedAt": iso(received)},
            "status": rng.choice(["NEW", "ALLOCATED", "ENFORCED", "NEW", "CLOSED"]),
            "suspects": [suspect],
            "offences": offences,
        }  # fmt: skip
        if "category_a_media" in signs:
            sha1 = hashlib.sha256(f"{seed}-{n}".encode()).hexdigest()[:40]  # any 40 hex digits
            fields["media"] = [{"sha1": sha1, "category": "A"}]
        if "victim_in_contact" in signs:
            fields["victims"] = [{"ref": "V1", "identified": False, "contactWith": ["P1"]}]
        if rng.random() < 0.6:
            fields["lastActivityAt"] = iso(received + (now - received) * rng.random())
        made.append((case(rng.choice(["AS", "GL", "WI"]), n, received, **fields), signs))
    return made


def quiet_since(record: dict[str, Any]) -> datetime:
    return at(record.get("lastActivityAt") or record["referral"]["receivedAt"])


async def test_alerts_come_by_child_safety_signs_then_waiting_then_quiet(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    made = with_signs(71, now)
    await sync_all(hub, [record for record, _ in made])
    alerting = [
        (record, signs)
        for record, signs in made
        if signs and record["risk"]["level"] in {"LOW", "MEDIUM"} and record["status"] != "CLOSED"
    ]
    wanted = sorted(
        alerting,
        key=lambda pair: (
            -sum(SEVERITY[s] for s in pair[1]),
            at(pair[0]["referral"]["receivedAt"]),
            quiet_since(pair[0]),
            pair[0]["force"],
            pair[0]["caseRef"],
        ),
    )
    got: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await data(hub, "coordinator", ALERTS, {"after": after}))["oversight"]["alerts"]
        got += [e["node"] for e in page["edges"]]
        assert page["totalCount"] == len(wanted)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert [(n["force"], n["caseRef"]) for n in got] == [
        (r["force"], r["caseRef"]) for r, _ in wanted
    ]
    assert len({len(signs) for _, signs in wanted}) > 1, "cases with fewer and more signs"
    offender = [n for n, (_, signs) in zip(got, wanted, strict=True)
                if "registered_sex_offender" in signs]  # fmt: skip
    assert offender and all(
        "suspect is a registered sex offender" in n["reasons"] for n in offender
    )
    listed = await data(
        hub, "coordinator", "{ oversight { regradeAlerts(first: 100) { caseRef } } }"
    )
    assert [a["caseRef"] for a in listed["oversight"]["regradeAlerts"]] == [
        n["caseRef"] for n in got
    ]


def stale_events(feed: dict[str, Any]) -> list[str]:
    return [c["caseRef"] for c in feed["changes"] if c["kind"] == "STALE"]


async def test_a_stale_case_is_told_to_its_force_once_per_quiet_spell(hub: Hub) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    records = [record for record, _ in with_signs(72, now)]
    await sync_all(hub, records)
    now_ms = int(datetime.now(UTC).timestamp() * 1000)
    rules = default_case_rules()
    wanted = {
        r["force"]: sorted(
            x["caseRef"]
            for x in records
            if x["force"] == r["force"]
            and x["status"] != "CLOSED"
            and now - quiet_since(x) > timedelta(days=STALE_DAYS)
        )
        for r in records
    }
    assert sum(map(len, wanted.values())) > 4
    told = 0
    for _ in range(40):  # two at a time: each pass tells what the last left
        added = await feed_stale(hub.store, rules, now_ms, limit=2)
        if not added:
            break
        told += added
    assert told == sum(map(len, wanted.values()))
    for force, refs in wanted.items():
        feed = (await hub.changes(f"force-{force}")).json()
        assert sorted(stale_events(feed)) == refs, force
        assert all(
            c["reasons"] == [f"no activity for {STALE_DAYS} days"]
            for c in feed["changes"] if c["kind"] == "STALE"
        )  # fmt: skip
    assert await feed_stale(hub.store, rules, now_ms) == 0  # told once

    # Activity synced later, still long ago: a new quiet spell, told again, once.
    again = next(r for r in records if r["caseRef"] in wanted["AS"])
    later = quiet_since(again) + timedelta(days=1)
    await sync_all(hub, [again | {"version": 2, "lastActivityAt": iso(later)}])
    assert await feed_stale(hub.store, rules, now_ms) == 1
    assert await feed_stale(hub.store, rules, now_ms) == 0
    feed = (await hub.changes("force-AS")).json()
    assert stale_events(feed).count(again["caseRef"]) == 2
