"""The identifier search's repository on both engines: the cases holding one entity, with their
seals and the forces the intake ceiling holds, read back typed."""

from __future__ import annotations

from pathlib import Path

import pytest

from federation.prepare import tombstone
from graph import GraphStore
from graph.case_reads import CaseSeal
from graph.cases import tombstone_cases
from graph.holders import Holding, IdentifierHolders
from graph.queries import intake
from tests.graph.summaries import ENTITY_LISTS, Prepared, entity_keys, two_forces


async def test_the_cases_holding_an_entity_come_with_their_seals(
    graph_store: GraphStore, tmp_path: Path
) -> None:
    first, second = two_forces()
    rows = await Prepared.under(tmp_path).write(graph_store, first, second)
    seals = [
        CaseSeal(key, row["props"]["force"], row["props"]["caseRef"], row["props"]["sealed"])
        for key, row in sorted(rows.items(), key=lambda item: item[1]["props"]["force"])
    ]
    a, b = (seal.key for seal in seals)
    holders = IdentifierHolders(graph_store)
    shared = [
        (label, key)
        for kind, (label, _) in ENTITY_LISTS.items()
        for key in sorted(entity_keys(rows[a], kind) & entity_keys(rows[b], kind))
    ]
    own = [
        (label, key)
        for kind, (label, _) in ENTITY_LISTS.items()
        for key in sorted(entity_keys(rows[a], kind) - entity_keys(rows[b], kind))
    ]
    assert shared and own

    for label, key in shared:
        assert await holders.holding(label, key) == Holding(tuple(seals), frozenset())
    for label, key in own:
        assert await holders.holding(label, key) == Holding((seals[0],), frozenset())
    label, key = shared[0]
    assert await holders.holding(label, "no-such-key") == Holding((), frozenset())
    other = next(name for name, _ in ENTITY_LISTS.values() if name != label)
    assert await holders.holding(other, key) == Holding((), frozenset())  # a key names one kind

    await graph_store.write(intake.HOLD, {"force": "GL", "now": 1})
    assert await holders.holding(label, key) == Holding(tuple(seals), frozenset({"GL"}))

    await tombstone_cases(graph_store, [tombstone(second | {"version": second["version"] + 1})])
    assert (await holders.holding(label, key)).cases == (seals[0],)


async def test_only_an_entity_label_is_looked_up(graph_store: GraphStore) -> None:
    with pytest.raises(ValueError, match="not an entity label"):
        await IdentifierHolders(graph_store).holding("Case", "AS:AS-1")
