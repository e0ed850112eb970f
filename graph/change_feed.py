"""The change feed's repository: what is appended, held and read, as typed values.

Events are written as the after-sync step builds them (property maps of primitives, keyed by a
dedupe key that makes each event appear once); they are read back as `Change` values, so no
module outside the graph package parses a feed row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from graph.port import GraphStore
from graph.queries import changes as q
from graph.queries import intake as iq

APPEND_PAGE = 2000  # events written in one statement

Event = Mapping[str, Any]  # a new event's properties, `dedupe` and `force` among them


@dataclass(frozen=True)
class Change:
    """One event on a force's feed, in the order of `seq`."""

    seq: int
    kind: str
    case_ref: str
    at: int | None = None  # epoch milliseconds
    other_force: str | None = None
    other_case_ref: str | None = None
    other_key: str | None = None  # the other case's key, by which its officer is found
    via: str | None = None
    reasons: tuple[str, ...] = ()
    linked_high: tuple[str, ...] | None = None  # the keys a regrade alert was raised for
    group: str | None = None

    def wire(self) -> dict[str, Any]:
        """The event as the feed's JSON tells it: camelCase, absent fields left out; the keys
        behind it (`otherKey`, `linkedHigh`) are the hub's own and never told."""
        told: dict[str, Any] = {"seq": self.seq, "kind": self.kind, "caseRef": self.case_ref}
        optional = {
            "otherForce": self.other_force,
            "otherCaseRef": self.other_case_ref,
            "via": self.via,
            "at": self.at,
            "group": self.group,
        }
        told |= {name: value for name, value in optional.items() if value is not None}
        if self.reasons:
            told["reasons"] = list(self.reasons)
        return told


@dataclass(frozen=True)
class Hold:
    """A force whose link events are held (its intake went over the ceiling)."""

    force: str
    since_ms: int
    events: int


@dataclass(frozen=True)
class ChangeFeed:
    """Appends, holds and pages of the change feed over one graph store."""

    store: GraphStore
    page_size: int = field(default=APPEND_PAGE)

    async def page(self, force: str, since: int, limit: int) -> list[Change]:
        """The force's changes after `since`, at most `limit`, in order of seq."""
        rows = await self.store.read(q.PAGE, {"force": force, "since": since, "limit": limit})
        return [_change(row) for row in rows]

    async def append(self, events: Sequence[Event]) -> int:
        """Append the events not already on the feed (by dedupe key); how many were new. The
        check and the append are one transaction per page, so an event appended twice (by two
        replicas, or again after a crash) is on the feed once, whichever page brought it."""
        return await self._paged(q.APPEND, events, "added")

    async def hold(self, events: Sequence[Event]) -> int:
        """Keep the events (each naming the force it is held for in `heldFor`) off the feed
        until a release; each once by dedupe key. How many were newly held."""
        return await self._paged(q.APPEND_HELD, events, "held")

    async def _paged(self, query: str, events: Sequence[Event], counted: str) -> int:
        total = 0
        for start in range(0, len(events), self.page_size):
            page = list(events[start : start + self.page_size])
            rows = await self.store.write(query, {"events": page})
            total += int(rows[0][counted]) if rows else 0
        return total

    async def held_forces(self, forces: Sequence[str]) -> set[str]:
        """Which of the forces have their link events held."""
        if not forces:
            return set()
        rows = await self.store.read(iq.HELD_FORCES, {"forces": list(forces)})
        return {str(row["force"]) for row in rows}

    async def holds(self) -> list[Hold]:
        """The forces whose link events are held, since when, and how many events wait."""
        rows = await self.store.read(iq.HOLDS)
        return [Hold(row["force"], int(row["since"] or 0), int(row["events"])) for row in rows]

    async def release(self, force: str, day: int) -> int:
        """Lift the force's hold and put its held events on its feed, in the order they were
        held; how many were released. The hold goes first, so events fed meanwhile reach the
        feed rather than a hold nobody will release, and the day's intake so far counts as
        released."""
        await self.store.write(iq.LIFT, {"force": force, "day": day})
        rows = await self.store.write(q.RELEASE_HELD, {"force": force})
        return int(rows[0]["released"]) if rows else 0


def _change(row: Mapping[str, Any]) -> Change:
    linked = row.get("linkedHigh")
    return Change(
        seq=int(row["seq"]),
        kind=str(row["kind"]),
        case_ref=str(row["caseRef"]),
        at=None if row.get("at") is None else int(row["at"]),
        other_force=row.get("otherForce"),
        other_case_ref=row.get("otherCaseRef"),
        other_key=row.get("otherKey"),
        via=row.get("via"),
        reasons=tuple(row.get("reasons") or ()),
        linked_high=None if linked is None else tuple(linked),
        group=row.get("group"),
    )
