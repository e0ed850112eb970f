"""Case metadata on both engines: read back typed by key, and only the open cases of the levels
asked for when a regrade alert could be raised."""

from __future__ import annotations

from graph import GraphStore
from graph.case_metadata import CaseMetadataStore
from graph.cases import tombstone_cases, upsert_cases
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


async def test_writes_and_removals_are_read_by_their_numbers(graph_store: GraphStore) -> None:
    cases = CaseMetadataStore(graph_store)
    before = await cases.numbering()
    await upsert_cases(graph_store, [case_row("AS", "AS-1"), case_row("GL", "GL-1")])
    first = await cases.numbering()
    assert first.seq > before.seq and first.epoch is not None
    await upsert_cases(graph_store, [case_row("AS", "AS-2")])
    await tombstone_cases(graph_store, [{"key": "GL:GL-1", "force": "GL", "version": 2}])
    second = await cases.numbering()

    written = await cases.written_between(first.seq, second.seq)
    assert [case["key"] for case in written] == ["AS:AS-2"]  # not those numbered up to `first`
    assert {case["key"] for case in await cases.written_between(0, second.seq)} == {
        "AS:AS-1",
        "AS:AS-2",
    }
    [removal] = await cases.removed_between(first.seq, second.seq)
    assert removal.key == "GL:GL-1" and first.seq < removal.seq <= second.seq
    assert await cases.removed_between(second.seq, second.seq) == []


async def test_pages_hold_every_case_once(graph_store: GraphStore) -> None:
    await upsert_cases(graph_store, [case_row("AS", f"AS-{n}") for n in range(7)])
    cases = CaseMetadataStore(graph_store)
    pages = [page async for page in cases.pages(2)]
    keys = [case["key"] for page in pages for case in page]
    assert sorted(keys) == sorted(f"AS:AS-{n}" for n in range(7))
    assert all(len(page) <= 2 for page in pages)
    await graph_store.write("MATCH (n) WHERE NOT n:SchemaVersion DETACH DELETE n")
    assert [page async for page in cases.pages(2)] == []
