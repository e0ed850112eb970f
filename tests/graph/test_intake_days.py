"""The intake days' repository on both engines: a force's day adds up its batches beside the
window before it, a hold is made once and reported on every later batch, and a release makes
the day count afresh."""

from __future__ import annotations

import pytest

from graph import GraphStore
from graph.cases import insert_cases
from graph.change_feed import ChangeFeed
from graph.intake_days import COUNTED_LABELS, DayIntake, IntakeDays, Sighting
from tests.graph.builders import case_row

TODAY = 20_000  # days since the epoch


async def test_a_day_adds_up_its_batches_beside_the_days_before_it(
    graph_store: GraphStore,
) -> None:
    days = IntakeDays(graph_store)
    batches = {TODAY - 40: (50, 500), TODAY - 3: (4, 40), TODAY - 1: (6, 60)}
    for day, (cases, identifiers) in batches.items():
        await days.add("AS", day, day - 28, cases, identifiers)
    await days.add("GL", TODAY, TODAY - 28, 900, 9000)  # another force's day is its own

    first = await days.add("AS", TODAY, TODAY - 28, 2, 11)
    second = await days.add("AS", TODAY, TODAY - 28, 3, 7)

    # The day 40 days back is outside the 28-day window; the other two are summed.
    in_window = [v for d, v in batches.items() if d >= TODAY - 28]
    cases_before = sum(c for c, _ in in_window)
    identifiers_before = sum(i for _, i in in_window)
    assert first == DayIntake(False, 2, 11, cases_before, identifiers_before)
    assert second == DayIntake(False, 5, 18, cases_before, identifiers_before)


async def test_a_hold_is_made_once_and_a_release_counts_the_day_afresh(
    graph_store: GraphStore,
) -> None:
    days = IntakeDays(graph_store)
    await days.add("AS", TODAY, TODAY - 28, 300, 10)
    assert await days.hold("AS", 1_000)
    assert not await days.hold("AS", 2_000)  # another replica's batch: no second alert
    assert (await days.add("AS", TODAY, TODAY - 28, 1, 1)).held
    assert not (await days.add("GL", TODAY, TODAY - 28, 1, 1)).held

    feed = ChangeFeed(graph_store)
    assert [(h.force, h.since_ms) for h in await feed.holds()] == [("AS", 1_000)]
    await feed.release("AS", TODAY)

    after = await days.add("AS", TODAY, TODAY - 28, 4, 2)
    assert after == DayIntake(False, 4, 2, 0, 0)  # what was released no longer counts
    assert await days.hold("AS", 3_000)  # a new hold once the ceiling is passed again


async def test_sighting_tells_known_keys_and_those_other_forces_hold(
    graph_store: GraphStore,
) -> None:
    await insert_cases(
        graph_store,
        [
            case_row("GL", "GL-1", persons=("p-shared",), devices=("d-gl",)),
            case_row("AS", "AS-1", persons=("p-mine",), accounts=("a-mine",)),
        ],
    )
    days = IntakeDays(graph_store)
    asked = {"Person": {"p-shared", "p-mine", "p-new"}, "Device": {"d-gl"}, "Account": set()}

    assert await days.sight("AS", asked) == Sighting(
        frozenset({"p-shared", "p-mine", "d-gl"}), frozenset({"p-shared", "d-gl"})
    )
    assert await days.sight("AS", {label: set() for label in COUNTED_LABELS}) == Sighting(
        frozenset(), frozenset()
    )
    with pytest.raises(ValueError, match="Media"):
        await days.sight("AS", {"Media": {"m-1"}})
