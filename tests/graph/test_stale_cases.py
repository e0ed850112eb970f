"""Stale cases on both engines: open cases quiet since before the cut, the longest quiet first,
each told once per quiet spell, and told again once new activity has gone quiet in turn."""

from __future__ import annotations

from graph import GraphStore
from graph.cases import CaseRow, upsert_cases
from graph.stale_cases import QuietCase, StaleCases
from tests.graph.builders import case_row

DAY = 86_400_000


def quiet(case_ref: str, received: int, activity: int | None = None, version: int = 1,
          open_: bool = True) -> CaseRow:  # fmt: skip
    row = case_row("AS", case_ref, version, open_=open_)
    row["props"] |= {"receivedAt": received}
    if activity is not None:
        row["props"] |= {"lastActivityAt": activity}
    return row


async def test_quiet_open_cases_are_told_once_per_spell(graph_store: GraphStore) -> None:
    stale = StaleCases(graph_store)
    await upsert_cases(
        graph_store,
        [
            quiet("AS-1", received=1 * DAY),  # quiet since its referral
            quiet("AS-2", received=1 * DAY, activity=5 * DAY),
            quiet("AS-3", received=1 * DAY, activity=40 * DAY),  # active after the cut
            quiet("AS-4", received=1 * DAY, open_=False),  # closed: never stale
        ],
    )
    cut = 30 * DAY
    untold = await stale.untold(cut, 10)
    assert untold == [
        QuietCase("AS:AS-1", "AS", "AS-1", 1 * DAY),
        QuietCase("AS:AS-2", "AS", "AS-2", 5 * DAY),
    ]
    assert await stale.untold(cut, 1) == untold[:1]  # the longest quiet first

    await stale.mark_told(untold[:1])
    assert await stale.untold(cut, 10) == untold[1:]
    await stale.mark_told(untold[1:])
    assert await stale.untold(cut, 10) == []

    # New activity on AS-1 starts a new spell: told again once that one is past the cut too.
    await upsert_cases(graph_store, [quiet("AS-1", received=1 * DAY, activity=20 * DAY, version=2)])
    assert await stale.untold(cut, 10) == [QuietCase("AS:AS-1", "AS", "AS-1", 20 * DAY)]
