"""The kept daily history held in each replica's memory, on both engines: read from the graph
once, then again only when some replica kept a day (or the days grew older than their bound)."""

from __future__ import annotations

from datetime import date, timedelta

from gateway.graphql.context import CountingStore
from gateway.region import RegionFacts
from graph import GraphStore
from graph.force_days import ForceDay, ForceDays
from policies.case_rules import default_case_rules

RULES = default_case_rules()
DAY = date(2026, 3, 31)


def day(force: str, on: date, open_cases: int) -> ForceDay:
    return ForceDay(force, on, open_cases, 1, 2, 3, 4)


async def history_of(replica: RegionFacts, store: CountingStore) -> tuple[list[ForceDay], int]:
    """A request's history, as the resolver reads it (after the read model's refresh), and
    how many reads beyond the refresh it took."""
    await replica.refresh(store)
    before = store.round_trips
    days = await replica.kept_days(store, DAY - timedelta(days=10), DAY + timedelta(days=10))
    return days, store.round_trips - before


async def test_a_day_kept_by_another_replica_shows_on_the_next_request(
    graph_store: GraphStore,
) -> None:
    this, other = RegionFacts(RULES), RegionFacts(RULES)
    store = CountingStore(graph_store)
    kept = [day("AS", DAY - timedelta(days=1), 5), day("BX", DAY - timedelta(days=1), 7)]
    assert await ForceDays(graph_store).keep(kept, 1) == 2  # by `other`'s keeper
    await other.refresh(graph_store)

    days, reads = await history_of(this, store)
    assert (days, reads) == (kept, 1)
    days, reads = await history_of(this, store)
    assert (days, reads) == (kept, 0), "nothing kept since: no read of the days"

    later = day("AS", DAY, 6)
    assert await ForceDays(graph_store).keep([later, kept[0]], 2) == 1  # by `other` again
    days, reads = await history_of(this, store)
    assert days == [kept[0], later, kept[1]]
    assert reads == 1
    outside = day("AS", DAY + timedelta(days=40), 9)  # kept, outside the range asked
    await ForceDays(graph_store).keep([outside], 3)
    assert (await history_of(this, store))[0] == [kept[0], later, kept[1]]


async def test_days_deleted_by_hand_are_gone_once_older_than_the_bound(
    graph_store: GraphStore,
) -> None:
    """A deletion moves no counter: the bound on the days' age is what lets it show."""
    replica = RegionFacts(RULES)
    store = CountingStore(graph_store)
    kept = [day("AS", DAY, 5)]
    await ForceDays(graph_store).keep(kept, 1)
    assert (await history_of(replica, store))[0] == kept
    await graph_store.write("MATCH (f:ForceDay) DETACH DELETE f")
    assert (await history_of(replica, store))[0] == kept  # within the bound: held
    replica.history.max_age = 0.0
    assert (await history_of(replica, store))[0] == []
