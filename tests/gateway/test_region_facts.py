"""The case-facts projection, without a graph: its running indexes give the same figures and
queue as counting afresh, here, by the definitions."""

from __future__ import annotations

import random
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable

import pytest

from gateway import oversight, priority
from gateway.graphql.alerts import alerted
from gateway.region_index import RegionIndex
from policies.case_facts import DAY_MS, CaseFacts, facts_of
from policies.case_rules import default_case_rules

NOW = 1_800_000_000_000
RULES = default_case_rules()
TARGET_DAYS = RULES.target_days
STATUSES = ["NEW", "ALLOCATED", "ENFORCED", "CHARGED", "CLOSED"]


def random_fact(rng: random.Random, n: int) -> CaseFacts:
    received = NOW - int(rng.uniform(-0.5, 200) * DAY_MS)
    enforced = received + int(rng.uniform(0, 60) * DAY_MS) if rng.random() < 0.4 else None
    status = rng.choice(STATUSES)
    seized = received + int(rng.uniform(0, 30) * DAY_MS) if rng.random() < 0.3 else None
    force = ["AS", "GL", "WI"][n % 3]
    return CaseFacts(
        rules=RULES,
        key=f"{force}:{n}",
        force=force,
        case_ref=str(n),
        risk_level=rng.choice(list(TARGET_DAYS)),
        status=status,
        open=status in ("NEW", "ALLOCATED", "ENFORCED"),
        source=rng.choice(["NCA", "ROCU", "NCMEC"]),
        received_at=received,
        enforcement_at=enforced,
        last_activity_at=received + int(rng.uniform(0, 100) * DAY_MS)
        if rng.random() < 0.7
        else None,
        access_to_children=rng.random() < 0.2,
        media_a=rng.choice([0, 0, 1, 3]),
        media_b=rng.choice([0, 2]),
        victims_unidentified=rng.choice([0, 0, 1, 2]),
        victims_identified=rng.choice([0, 1]),
        victim_in_contact=rng.random() < 0.1,
        grooming_indicated=rng.random() < 0.2,
        devices_unexamined=rng.choice([0, 1, 3]) if seized else 0,
        oldest_unexamined_seized_at=seized,
        first_safeguarding_at=received + int(rng.uniform(0, 20) * DAY_MS)
        if rng.random() < 0.3
        else None,
        linked_cases=rng.choice([0, 0, 0, 1, 2, 6]),
        linked_high=rng.choice([(), (), ("GL:9",), ("AS:3", "WI:4")]),
        views_avoided=rng.choice([0, 0, 1, 4]),
    )


def risk_counted_afresh(facts: Iterable[CaseFacts], now: int) -> list[oversight.RiskFigures]:
    """Each figure of a force's risk level by its definition, case by case."""
    groups: dict[tuple[str, str], list[CaseFacts]] = defaultdict(list)
    for fact in facts:
        groups[(fact.force, fact.risk_level)].append(fact)
    rows = []
    for (force, risk), cases in sorted(groups.items()):
        row = oversight.RiskFigures(force, risk, cases=len(cases))
        row.open = sum(1 for c in cases if c.open)
        awaiting = [c for c in cases if c.open and c.enforcement_at is None]
        row.past_target = sum(1 for c in awaiting if c.due_at < now)
        row.due_soon = sum(1 for c in awaiting if now <= c.due_at <= now + 48 * 3_600_000)
        row.backlog_by_age = dict(
            Counter(oversight.age_band(now - c.received_at) for c in awaiting)
        )
        days = [(c.enforcement_at - c.received_at) / DAY_MS for c in cases if c.enforcement_at]
        if days:
            row.enforced_within_target_share = sum(d <= TARGET_DAYS[risk] for d in days) / len(days)
            row.median_days_to_enforcement = statistics.median(days)
            row.p90_days_to_enforcement = oversight.percentile(days, 0.9)
        rows.append(row)
    return rows


def force_counted_afresh(facts: Iterable[CaseFacts], now: int) -> list[oversight.ForceFigures]:
    groups: dict[str, list[CaseFacts]] = defaultdict(list)
    for fact in facts:
        groups[fact.force].append(fact)
    rows = []
    for force, cases in sorted(groups.items()):
        by_source = Counter((oversight.month_of(c.received_at), c.source) for c in cases)
        totals = Counter(oversight.month_of(c.received_at) for c in cases)
        months = oversight.months_between(min(totals), max(totals))
        monthly = [(m, totals.get(m, 0)) for m in months]
        since, idle_since = now - 28 * DAY_MS, now - 30 * DAY_MS
        devices: Counter[str] = Counter()
        for c in cases:
            if c.devices_unexamined and c.oldest_unexamined_seized_at is not None:
                devices[oversight.age_band(now - c.oldest_unexamined_seized_at)] += (
                    c.devices_unexamined
                )
        safeguarding = [
            (c.first_safeguarding_at - c.received_at) / DAY_MS
            for c in cases
            if c.first_safeguarding_at is not None
        ]
        rows.append(
            oversight.ForceFigures(
                force=force,
                referrals_by_month=sorted((m, s, n) for (m, s), n in by_source.items()),
                monthly_totals=monthly,
                trend=oversight.trend(monthly),
                new_cases_28_days=sum(1 for c in cases if since <= c.received_at <= now),
                enforcements_28_days=sum(
                    1
                    for c in cases
                    if c.enforcement_at is not None and since <= c.enforcement_at <= now
                ),
                inactive_30_days=sum(
                    1
                    for c in cases
                    if c.open and (c.last_activity_at or c.opened_at or c.received_at) < idle_since
                ),
                devices_awaiting_examination=dict(devices),
                median_days_to_first_safeguarding=(
                    statistics.median(safeguarding) if safeguarding else None
                ),
            )
        )
    return rows


def views_counted_afresh(facts: Iterable[CaseFacts]) -> dict[str, int]:
    counts: Counter[str] = Counter()
    for fact in facts:
        counts[fact.force] += fact.views_avoided
    return {force: count for force, count in sorted(counts.items()) if count}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_indexed_figures_equal_figures_counted_afresh(seed: int) -> None:
    rng = random.Random(seed)
    facts = [random_fact(rng, n) for n in range(400)]
    region = RegionIndex()
    for fact in facts:
        region.put(fact)
    current = {f.key: f for f in facts}
    for n in range(0, 400, 3):  # later versions of a third of the cases replace the first
        fact = random_fact(rng, n)
        region.put(fact)
        current[fact.key] = fact
    expected = list(current.values())
    assert region.risk_figures(None, NOW) == risk_counted_afresh(expected, NOW)
    assert region.force_figures(None, NOW) == force_counted_afresh(expected, NOW)


@pytest.mark.parametrize("seed", [1, 2])
def test_figures_of_a_period_are_counted_as_the_running_figures(seed: int) -> None:
    """One implementation: the figures of any set of facts (a period's) equal those counted
    afresh, as the running index's do."""
    rng = random.Random(seed)
    facts = [random_fact(rng, n) for n in range(300)]
    period = [f for f in facts if f.received_at < NOW - 30 * DAY_MS]
    assert oversight.risk_figures(period, NOW) == risk_counted_afresh(period, NOW)
    assert oversight.force_figures(period, NOW) == force_counted_afresh(period, NOW)
    assert oversight.views_avoided(period) == views_counted_afresh(period)


def test_indexed_regrade_alerts_and_views_avoided_match_counting_afresh() -> None:
    rng = random.Random(7)
    region = RegionIndex()
    current = {}
    for n in [*range(300), *range(0, 300, 4)]:  # later versions replace a quarter
        fact = random_fact(rng, n)
        region.put(fact)
        current[fact.key] = fact
    region.remove("GL:1", removed_seq=1)
    del current["GL:1"]
    expected = alerted(current.values())
    assert len(expected) > 20
    assert region.regrade_alerts(None, first=len(expected) + 1) == expected
    assert region.regrade_alerts(None, first=7) == expected[:7]
    in_gl = [f for f in expected if f.force == "GL"]
    assert region.regrade_alerts({"GL"}, first=5) == in_gl[:5]
    assert region.regrade_count(None) == len(expected)
    assert region.regrade_count({"GL", "WI"}) == sum(f.force != "AS" for f in expected)
    assert region.views_avoided(None) == views_counted_afresh(current.values())
    assert region.views_avoided({"WI"}).keys() == {"WI"}


@pytest.mark.parametrize("seed", [4, 5])
def test_indexed_candidates_rank_like_all_cases(seed: int) -> None:
    rng = random.Random(seed)
    facts = {f.key: f for f in (random_fact(rng, n) for n in range(600))}
    region = RegionIndex()
    for fact in facts.values():
        region.put(fact)
    for first in (1, 5, 20):
        fast = priority.rank(region.candidates(["AS", "GL", "WI"], NOW, first), NOW, first)
        slow = priority.rank([f for f in facts.values() if f.open], NOW, first)
        assert [s.facts.key for s in fast] == [s.facts.key for s in slow]


def test_an_index_built_at_once_equals_one_built_case_by_case() -> None:
    rng = random.Random(6)
    facts = [random_fact(rng, n) for n in range(500)]
    one_by_one = RegionIndex()
    for fact in facts:
        one_by_one.put(fact)
    reloaded = RegionIndex(facts)
    assert reloaded.risk_figures(None, NOW) == risk_counted_afresh(facts, NOW)
    assert reloaded.risk_figures(None, NOW) == one_by_one.risk_figures(None, NOW)
    assert reloaded.force_figures(None, NOW) == force_counted_afresh(facts, NOW)
    forces = ["AS", "GL", "WI"]
    assert reloaded.candidates(forces, NOW, 20) == one_by_one.candidates(forces, NOW, 20)
    assert len(reloaded) == len(facts)


def test_facts_share_one_string_per_force_level_status_and_source() -> None:
    def row(n: int) -> dict[str, object]:
        # The graph client gives every row its own strings; "".join makes fresh ones here.
        return {"key": f"k{n}", "caseRef": f"AS-{n}", "open": True, "receivedAt": NOW,
                "force": "".join(["A", "S"]), "riskLevel": "".join(["HI", "GH"]),
                "status": "".join(["OP", "EN"]), "source": "".join(["NC", "A"])}  # fmt: skip

    first, second = facts_of(row(1), RULES), facts_of(row(2), RULES)
    for name in ("force", "risk_level", "status", "source"):
        assert getattr(first, name) is getattr(second, name)


def test_a_removed_case_leaves_the_figures_unless_written_again_since() -> None:
    rng = random.Random(7)
    facts = [random_fact(rng, n) for n in range(50)]
    index = RegionIndex(facts)
    gone, back = facts[0], facts[1]
    index.remove(gone.key, removed_seq=gone.seq + 1)
    index.remove(back.key, removed_seq=back.seq - 1)  # written again after its removal
    kept = [f for f in facts if f.key != gone.key]
    assert len(index) == 49 and back.key in index.facts
    assert index.risk_figures(None, NOW) == risk_counted_afresh(kept, NOW)
    assert index.force_figures(None, NOW) == force_counted_afresh(kept, NOW)
