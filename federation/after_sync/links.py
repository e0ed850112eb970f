"""Cross-force links of synced cases, and the change-feed events that tell both forces of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from graph import GraphStore
from graph.link_store import CrossLink, LinkStore


def _dedupe(recipient_case: str, other_case: str, kind: str) -> str:
    return f"LINK|{recipient_case}|{other_case}|{kind}"


async def cross_force_links(store: GraphStore, case_keys: Iterable[str]) -> list[CrossLink]:
    """One link per (case, other force's case, kind of shared entity), for these cases."""
    return await LinkStore(store).cross_force_links(set(case_keys))


def link_events(links: Iterable[CrossLink], now_ms: int, told: int) -> dict[str, dict[str, Any]]:
    """The feed's events for links found by `cross_force_links`, keyed by dedupe key: each link
    to both forces, but a case hears of at most `told` other forces' cases (the case rules'
    `links.counted`, as many as its link counts hold).

    An image in a thousand cases would otherwise tell each of them of every other, a flood that
    grows with the square of the cases (288,000 events for one batch of 200 cases sharing an
    image with 1,000). So a synced case hears of its first `told` other cases for each
    kind of entity, by key, which a newer version finds again; and a case it links to hears of
    it only while that case holds fewer links than that (`otherLinked`, counted at the last
    sync around it). The rest are on the case's links and in its priority."""
    ordered = sorted(links, key=lambda link: (link.case, link.label, link.other))
    synced = {link.case for link in ordered}
    per_kind: Counter[tuple[str, str]] = Counter()
    room: dict[str, int] = {}  # the other cases' room left: those not synced here
    events: dict[str, dict[str, Any]] = {}
    for link in ordered:
        kind = link.kind
        one = (link.case, link.force, link.case_ref)
        two = (link.other, link.other_force, link.other_case_ref)
        per_kind[(link.case, kind)] += 1
        if per_kind[(link.case, kind)] <= told:
            _link_event(events, one, two, kind, now_ms)
        if link.other in synced:
            continue  # told from its own links
        left = room.setdefault(link.other, told - min(link.other_linked, told))
        if left > 0 and _link_event(events, two, one, kind, now_ms):
            room[link.other] = left - 1
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
