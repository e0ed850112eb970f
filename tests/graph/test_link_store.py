"""Cross-force links and link counts on both engines: the links of synced cases, the cases around
them now and before, other forces' cases per case under a cap and past held forces, images
graded first, and counts written and read back."""

from __future__ import annotations

from graph import GraphStore
from graph.cases import CaseRow, upsert_cases
from graph.link_store import Around, CrossLink, LinkCounts, LinkedCase, LinkStore
from tests.graph.builders import case_row, link

GRADED = ["A", "B", "C", "NOT_INDECENT"]
NEVER = 2**62


def graded(row: CaseRow, media: str, at: int | None) -> CaseRow:
    """The case holding `media`, graded A at `at` (or not graded)."""
    props = {"category": "A", "gradedAt": at} if at is not None else {}
    row["media"] = [link(media, **props)]
    return row


async def region(store: GraphStore) -> None:
    """AS-1 shares a person with GL-1 (high risk) and an image with WI-1, and a device with AS-2
    of its own force; GL-2 shares nothing."""
    await upsert_cases(
        store,
        [
            graded(case_row("AS", "AS-1", risk="LOW", persons=("p1",), devices=("d1",)), "m1", 200),
            case_row("GL", "GL-1", risk="HIGH", persons=("p1",)),
            graded(case_row("WI", "WI-1", risk="LOW"), "m1", 100),
            case_row("AS", "AS-2", devices=("d1",)),
            case_row("GL", "GL-2", persons=("p2",)),
        ],
    )


async def test_the_links_of_synced_cases_are_other_forces_cases(graph_store: GraphStore) -> None:
    await region(graph_store)
    links = LinkStore(graph_store)
    found = sorted(await links.cross_force_links(["AS:AS-1", "AS:AS-1"]))
    assert found == [
        CrossLink("AS:AS-1", "AS", "AS-1", "Media", "WI:WI-1", "WI", "WI-1", "LOW", 0),
        CrossLink("AS:AS-1", "AS", "AS-1", "Person", "GL:GL-1", "GL", "GL-1", "HIGH", 0),
    ]
    assert [link.kind for link in found] == ["MEDIA", "PERSON"]
    assert await links.cross_force_links(["GL:GL-2"]) == []
    assert await links.cross_force_links([]) == []
    assert await links.cross_linked_of_force("AS") == {"AS:AS-1", "GL:GL-1", "WI:WI-1"}
    assert await links.cross_linked_of_force("GL") == {"AS:AS-1", "GL:GL-1"}


async def test_the_cases_around_are_those_linked_now_and_before(graph_store: GraphStore) -> None:
    await region(graph_store)
    links = LinkStore(graph_store)
    now = frozenset({"GL:GL-1", "WI:WI-1", "AS:AS-2"})
    assert await links.around({"AS:AS-1"}) == Around(now=now, before=frozenset())
    # A newer version of AS-1 drops the person and the image: GL-1 and WI-1 were around before.
    await upsert_cases(graph_store, [case_row("AS", "AS-1", 2, devices=("d1",))])
    around = await links.around({"AS:AS-1"})
    assert around.now == {"AS:AS-2"}
    assert around.before >= {"GL:GL-1", "WI:WI-1"}
    assert around.cases == around.now | around.before
    # The synced cases themselves are never around.
    assert "AS:AS-2" not in (await links.around({"AS:AS-1", "AS:AS-2"})).cases


async def test_linked_cases_stop_at_the_cap_and_skip_held_forces(graph_store: GraphStore) -> None:
    await region(graph_store)
    links = LinkStore(graph_store)
    everyone = await links.linked({"AS:AS-1", "GL:GL-2"}, 5, ())
    assert sorted(everyone["AS:AS-1"]) == [
        LinkedCase("GL:GL-1", "HIGH"),
        LinkedCase("WI:WI-1", "LOW"),
    ]
    assert everyone["GL:GL-2"] == []
    assert len((await links.linked({"AS:AS-1"}, 1, ()))["AS:AS-1"]) == 1
    held = await links.linked({"AS:AS-1"}, 1, {"GL"})
    assert held == {"AS:AS-1": [LinkedCase("WI:WI-1", "LOW")]}

    assert await links.held_forces() == frozenset()
    await graph_store.write("CREATE (:LinkHold {force: 'GL', since: 1})")
    assert await links.held_forces() == {"GL"}


async def test_an_image_graded_first_elsewhere_spares_a_view(graph_store: GraphStore) -> None:
    await region(graph_store)
    await upsert_cases(graph_store, [graded(case_row("GL", "GL-3"), "m1", None)])
    links = LinkStore(graph_store)
    keys = {"AS:AS-1", "WI:WI-1", "GL:GL-3", "AS:AS-2"}
    assert await links.views_avoided(keys, NEVER) == {}  # no first grading kept yet
    await links.mark_first_gradings({"AS:AS-1"}, GRADED)
    # WI-1 graded the image first; AS-1 graded it after, and GL-3 has not graded it.
    assert await links.views_avoided(keys, NEVER) == {"AS:AS-1": 1, "GL:GL-3": 1}
    # A grade that is not one of `graded` is no first grading.
    await links.mark_first_gradings({"AS:AS-1"}, ["B"])
    assert await links.views_avoided(keys, NEVER) == {}


async def test_counts_written_are_read_back(graph_store: GraphStore) -> None:
    await region(graph_store)
    links = LinkStore(graph_store)
    keys = {"AS:AS-1", "GL:GL-1", "AS:AS-404"}
    assert sorted(await links.counts(keys), key=lambda c: c.key) == [
        LinkCounts("AS:AS-1"), LinkCounts("GL:GL-1")
    ]  # fmt: skip
    counted = [LinkCounts("AS:AS-1", 2, ("GL:GL-1",), 1), LinkCounts("GL:GL-1", 1, (), 0)]
    await links.write_counts(counted)
    assert sorted(await links.counts(keys), key=lambda c: c.key) == counted
    await links.write_counts([LinkCounts("AS:AS-1")])  # back to none
    assert (await links.counts({"AS:AS-1"})) == [LinkCounts("AS:AS-1")]
    await links.write_counts([])
