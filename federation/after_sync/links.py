"""Cross-force links of synced cases, and the change-feed events that tell both forces of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from graph import GraphStore
from graph.queries import changes as q
from graph.queries.links import ENTITY_KINDS


def _dedupe(recipient_case: str, other_case: str, kind: str) -> str:
    return f"LINK|{recipient_case}|{other_case}|{kind}"


async def cross_force_links(store: GraphStore, case_keys: Iterable[str]) -> list[dict[str, Any]]:
    """One row per (case, other force's case, kind of shared entity), for these cases."""
    keys = sorted(set(case_keys))
    return await store.read(q.CROSS_FORCE_LINKS, {"keys": keys}) if keys else []


def link_events(
    rows: Iterable[dict[str, Any]], now_ms: int, told: int
) -> dict[str, dict[str, Any]]:
    """The feed's events for links found by `cross_force_links`, keyed by dedupe key: each link
    to both forces, but a case hears of at most `told` other forces' cases (the case rules'
    `links.counted`, as many as its link counts hold).

    An image in a thousand cases would otherwise tell each of them of every other, a flood that
    grows with the square of the cases (288,000 events for one batch of 200 cases sharing an
    image with 1,000). So a synced case hears of its first `told` other cases for each
    kind of entity, by key, which a newer version finds again; and a case it links to hears of
    it only while that case holds fewer links than that (`otherLinked`, counted at the last
    sync around it). The rest are on the case's links and in its priority."""
    rows = sorted(rows, key=lambda r: (r["case"], r["label"], r["other"]))
    synced = {row["case"] for row in rows}
    per_kind: Counter[tuple[str, str]] = Counter()
    room: dict[str, int] = {}  # the other cases' room left: those not synced here
    events: dict[str, dict[str, Any]] = {}
    for row in rows:
        kind = ENTITY_KINDS[row["label"]]
        one = (row["case"], row["force"], row["caseRef"])
        two = (row["other"], row["otherForce"], row["otherCaseRef"])
        per_kind[(row["case"], kind)] += 1
        if per_kind[(row["case"], kind)] <= told:
            _link_event(events, one, two, kind, now_ms)
        if row["other"] in synced:
            continue  # told from its own rows
        left = room.setdefault(row["other"], told - min(row["otherLinked"] or 0, told))
        if left > 0 and _link_event(events, two, one, kind, now_ms):
            room[row["other"]] = left - 1
    return events


def _link_event(
    events: dict[str, dict[str, Any]],
    mine: tuple[str, str, str],
    theirs: tuple[str, str, str],
    kind: str,
    now_ms: int,
) -> bool:
    """Add the event telling `mine` (key, force, case ref) of `theirs`; whether it was new."""
    dedupe = _dedupe(mine[0], theirs[0], kind)
    if dedupe in events:
        return False
    events[dedupe] = {
        "dedupe": dedupe, "kind": "LINK", "force": mine[1], "caseRef": mine[2],
        "otherForce": theirs[1], "otherCaseRef": theirs[2], "otherKey": theirs[0], "via": kind,
        "at": now_ms,
    }  # fmt: skip
    return True
