"""Case metadata on both engines: read back typed by key, and only the open cases of the levels
asked for when a regrade alert could be raised."""

from __future__ import annotations

from graph import GraphStore
from graph.case_metadata import CaseMetadataStore
from graph.cases import upsert_cases
from tests.graph.builders import case_row


async def test_regradable_cases_are_open_and_of_the_levels_asked(graph_store: GraphStore) -> None:
    await upsert_cases(
        graph_store,
        [
            case_row("AS", "AS-1", risk="LOW"),
            case_row("AS", "AS-2", risk="MEDIUM"),
            case_row("AS", "AS-3", risk="HIGH"),
            case_row("GL", "GL-1", risk="LOW", open_=False),
        ],
    )
    cases = CaseMetadataStore(graph_store)
    keys = ["AS:AS-1", "AS:AS-2", "AS:AS-3", "GL:GL-1", "WI:WI-404"]
    regradable = await cases.regradable(keys, ["LOW", "MEDIUM"])
    assert sorted(case["key"] for case in regradable) == ["AS:AS-1", "AS:AS-2"]
    assert [case["key"] for case in await cases.regradable(keys, ["HIGH"])] == ["AS:AS-3"]
    assert await cases.regradable([], ["LOW"]) == []

    [closed] = await cases.of(["GL:GL-1"])
    assert (closed["force"], closed["caseRef"], closed["riskLevel"]) == ("GL", "GL-1", "LOW")
    assert closed["open"] is False
    assert closed["linkedCases"] is None  # never counted: absent, read as None
    assert len(await cases.of(keys)) == 4
