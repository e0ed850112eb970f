"""The intake's sighting of a batch's identifiers reads the same on both engines (each runs its
own statement): which the hub holds already, and which a case of another force holds."""

from __future__ import annotations

from federation.intake import IntakeWatch
from graph import GraphStore
from graph.cases import insert_cases
from policies.audit import AuditLog, MemoryAuditStore
from policies.case_rules import default_case_rules
from tests.graph.builders import case_row


async def test_sighting_tells_held_identifiers_from_those_other_forces_hold(
    graph_store: GraphStore,
) -> None:
    await insert_cases(
        graph_store,
        [
            case_row("GL", "GL-1", persons=("p-shared",), devices=("d-gl",), series=("s-1",)),
            case_row("GL", "GL-2", persons=("p-shared",), accounts=("a-both",)),
            case_row("AS", "AS-1", persons=("p-mine",), accounts=("a-both",), ips=("i-mine",)),
        ],
    )
    watch = IntakeWatch(graph_store, default_case_rules(), AuditLog(MemoryAuditStore()))
    batch = [
        case_row(
            "AS",
            "AS-2",
            persons=("p-shared", "p-mine", "p-new"),
            devices=("d-gl",),
            accounts=("a-both",),
            ips=("i-mine", "i-new"),
            series=("s-1",),
        )
    ]

    sighting = await watch.sight("AS", batch)

    held = {"p-shared", "p-mine", "d-gl", "a-both", "i-mine", "s-1"}
    assert sighting.known == held
    assert sighting.elsewhere == {"p-shared", "d-gl", "a-both", "s-1"}
    assert (await watch.sight("GL", batch)).elsewhere == {"p-mine", "a-both", "i-mine"}
