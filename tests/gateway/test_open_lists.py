"""The read model's open-case lists against a brute-force filter over the same facts: every
combination of the named lists' filters, counted and paged, and kept right as facts change."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway import open_lists, region_index
from gateway.region_index import OpenAsked, RegionIndex
from policies.case_facts import DAY_MS, CaseFacts
from policies.case_rules import default_case_rules

NOW = 1_800_000_000_000
RULES = default_case_rules()
FORCES = ("AS", "BX", "CY")
LEVELS = ("VERY_HIGH", "HIGH", "MEDIUM", "LOW")
TEAMS = (None, "SPECIALIST", "LOCAL")


@st.composite
def facts(draw: st.DrawFn, key: str) -> CaseFacts:
    received = NOW - draw(st.integers(0, 800)) * DAY_MS // 2
    activity = draw(
        st.one_of(
            st.none(),
            # mostly after receipt; now and then before it (a force's clock or data)
            st.integers(-30, 800).map(lambda half_days: received + half_days * DAY_MS // 2),
        )
    )
    return CaseFacts(
        key=key,
        force=draw(st.sampled_from(FORCES)),
        case_ref=key,
        risk_level=draw(st.sampled_from(LEVELS)),
        status="NEW",
        open=draw(st.booleans() | st.just(True)),
        source="NCA",
        received_at=received,
        rules=RULES,
        enforcement_at=draw(st.none() | st.just(received + DAY_MS)),
        last_activity_at=None if activity is None else min(activity, NOW),
        team=draw(st.sampled_from(TEAMS)),
        seq=draw(st.integers(1, 5)),
    )


def region(size: int) -> st.SearchStrategy[list[CaseFacts]]:
    keys = [f"K{i:03d}" for i in range(size)]
    return st.tuples(*(facts(key) for key in keys)).map(list)


asks = st.builds(
    OpenAsked,
    forces=st.frozensets(st.sampled_from(FORCES), min_size=1),
    levels=st.none() | st.frozensets(st.sampled_from(LEVELS), min_size=1),
    past_target=st.sampled_from((None, True, False)),
    now=st.just(NOW),
    awaiting=st.sampled_from((None, True, False)),
    received_before=st.none() | st.integers(0, 400).map(lambda d: NOW - d * DAY_MS),
    team=st.sampled_from(TEAMS),
    quiet_before=st.none() | st.integers(0, 400).map(lambda d: NOW - d * DAY_MS),
)


def expected(held: dict[str, CaseFacts], asked: OpenAsked) -> list[CaseFacts]:
    """The brute force: every open case tested against every part of the filter."""
    selected = []
    for fact in held.values():
        quiet = fact.last_activity_at or fact.received_at
        if not (
            fact.open
            and fact.force in asked.forces
            and (asked.levels is None or fact.risk_level in asked.levels)
            and (asked.team is None or fact.team == asked.team)
            and (asked.awaiting is None or (fact.enforcement_at is None) == asked.awaiting)
            and (asked.received_before is None or fact.received_at < asked.received_before)
            and (asked.quiet_before is None or quiet < asked.quiet_before)
        ):
            continue
        if asked.past_target is not None:
            due = fact.received_at + RULES.target_days[fact.risk_level] * DAY_MS
            past = fact.enforcement_at is None and due < asked.now
            if past != asked.past_target:
                continue
        selected.append(fact)
    return sorted(selected, key=lambda f: (f.received_at, f.key))


def assert_lists_agree(index: RegionIndex, held: dict[str, CaseFacts], asked: OpenAsked) -> None:
    """Counted, listed whole and paged from each row's position as a cursor would, whatever
    the caller means to take (which decides whether a dense list is walked or merged)."""
    want = expected(held, asked)
    assert index.open_count(asked) == len(want)
    for hint in (0, 2, 51):
        assert list(index.open_oldest_first(asked, want=hint)) == want
        for page_size in (1, 3):
            paged: list[CaseFacts] = []
            after = None
            while True:
                walked = index.open_oldest_first(asked, after, want=hint)
                page = list(itertools.islice(walked, page_size))
                if not page:
                    break
                paged += page
                after = (page[-1].received_at, page[-1].key)
            assert paged == want


@settings(max_examples=80, deadline=None)
@given(
    region(40),
    st.lists(asks, min_size=1, max_size=6),
    st.sampled_from((0, 1, 10**9)),
    st.sampled_from((0, 1, 10**9)),
)
def test_every_filter_counts_and_pages_as_a_brute_force_does(
    cases: list[CaseFacts], asked: list[OpenAsked], walk_budget: int, merge_weight: int
) -> None:
    """Whichever way a page is taken: all open cases walked in receipt order (for a dense
    list), or the groups merged, each group's quiet cases taken by activity at once, walked by
    receipt, or walked and then taken by activity."""
    index = RegionIndex(cases)
    held = {fact.key: fact for fact in cases}
    kept = open_lists.WALK_BUDGET, region_index.MERGE_WEIGHT
    open_lists.WALK_BUDGET, region_index.MERGE_WEIGHT = walk_budget, merge_weight
    try:
        for one in asked:
            assert_lists_agree(index, held, one)
    finally:
        open_lists.WALK_BUDGET, region_index.MERGE_WEIGHT = kept


@settings(max_examples=50, deadline=None)
@given(region(30), st.lists(st.tuples(st.sampled_from(("put", "remove", "merge")), facts("K000")
       | facts("K001") | facts("K017")), max_size=12), asks)  # fmt: skip
def test_the_lists_stay_right_as_facts_are_put_removed_and_merged(
    cases: list[CaseFacts], changes: list[tuple[str, CaseFacts]], asked: OpenAsked
) -> None:
    index = RegionIndex(cases)
    held = {fact.key: fact for fact in cases}
    for action, fact in changes:
        old = held.get(fact.key)
        if action == "put":
            index.put(fact)
            held[fact.key] = fact
        elif action == "remove":
            index.remove(fact.key, fact.seq)
            if old is not None and old.seq <= fact.seq:
                del held[fact.key]
        else:
            index.merge([fact])
            if old is None or old.seq <= fact.seq:
                held[fact.key] = fact
        assert_lists_agree(index, held, asked)


def test_a_case_whose_activity_moves_leaves_and_enters_the_inactive_list() -> None:
    quiet = CaseFacts(
        key="AS:1",
        force="AS",
        case_ref="1",
        risk_level="LOW",
        status="NEW",
        open=True,
        source="NCA",
        received_at=NOW - 400 * DAY_MS,
        rules=RULES,
        last_activity_at=NOW - 200 * DAY_MS,
        seq=1,
    )
    index = RegionIndex([quiet])
    asked = OpenAsked(frozenset({"AS"}), now=NOW, quiet_before=NOW - 90 * DAY_MS)
    assert [f.key for f in index.open_oldest_first(asked)] == ["AS:1"]
    index.merge([CaseFacts(**{**_fields(quiet), "last_activity_at": NOW - DAY_MS, "seq": 2})])
    assert index.open_count(asked) == 0
    assert list(index.open_oldest_first(asked)) == []
    index.merge([CaseFacts(**{**_fields(quiet), "last_activity_at": NOW - 100 * DAY_MS, "seq": 3})])
    assert index.open_count(asked) == 1


def _fields(fact: CaseFacts) -> dict[str, object]:
    return {name: getattr(fact, name) for name in CaseFacts.__dataclass_fields__}
