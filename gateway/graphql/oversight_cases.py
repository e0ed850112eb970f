"""`oversight { cases }`: the open cases a coordinator asks about, oldest first, a page at a time.

Case metadata only (force, reference, risk, team, time waiting, last activity): never personal
data. Each row names a force's case, so `OversightCase` is a `NamesCase`: the sharing guard shows
it only where the agreement lets the caller know that force's cases, and the resolver asks the
same decision first, so that pages and `totalCount` leave hidden forces out instead of coming
back short.

The read model keeps each force's open cases in sorted lists by risk level, team and whether they
await enforcement, each by receipt and by last activity (gateway/open_lists.py): a filter is
counted by binary searches and its page entered at the cursor the same way, whatever the number of
open cases; the few combinations the two orders cannot select alone are counted by walking the
smaller of the ranges they do select (docs/scaling.md, "Named lists"). Cursors are opaque; each
holds the position of its row (receipt time and case key), so a page goes on after the row it
was given, whatever was synced between.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import strawberry

from gateway.graphql.context import Info
from gateway.graphql.errors import BadInput
from gateway.graphql.explore import PageInfo
from gateway.graphql.listed import ListedCase
from gateway.graphql.paging import MAX_PAGE
from gateway.graphql.types import RiskLevel, Team
from gateway.region_index import OpenAsked, Position, RegionIndex
from policies.case_facts import DAY_MS, CaseFacts
from policies.scopes import FORCE_CODE

DEFAULT_PAGE = 50
_CURSOR = "oc:"


@dataclass(frozen=True)
class OpenCases:
    """Where a list's cases come from: `walk(asked, after)` gives the open cases `asked`
    selects, oldest referral first, after a position if given; `count(asked)` how many."""

    walk: Callable[[OpenAsked, Position | None], Iterator[CaseFacts]]
    count: Callable[[OpenAsked], int]

    @classmethod
    def of_index(cls, region: RegionIndex, scope: set[str] | None) -> OpenCases:
        """From the region's index, narrowed to the forces of `scope` (None: all)."""
        return cls(
            walk=lambda asked, after: region.open_oldest_first(asked.narrowed(scope), after),
            count=lambda asked: region.open_count(asked.narrowed(scope)),
        )

    @classmethod
    def of_facts(cls, facts: list[CaseFacts]) -> OpenCases:
        """From facts counted afresh (a period's), put in order when first asked."""
        ordered = functools.cache(lambda: sorted((f for f in facts if f.open), key=_position))

        def walk(asked: OpenAsked, after: Position | None) -> Iterator[CaseFacts]:
            cases = ordered()
            start = 0 if after is None else bisect.bisect_right(cases, after, key=_position)
            return (fact for fact in itertools.islice(cases, start, None) if asked.admits(fact))

        return cls(walk, lambda asked: sum(1 for f in ordered() if asked.admits(f)))


@strawberry.input(description="Which open cases to list; every part optional, all must hold.")
class OversightCaseFilter:
    forces: list[str] | None = None
    risk_levels: list[RiskLevel] | None = None
    team: Team | None = None
    past_target: bool | None = strawberry.field(
        default=None,
        description="true: only cases past their target (open, no enforcement, target passed); "
        "false: only those not",
    )
    inactive_days: int | None = strawberry.field(
        default=None,
        description="only cases whose last activity (or, without one, referral receipt) is more "
        "than this many days ago",
    )
    min_days_waiting: int | None = strawberry.field(
        default=None,
        description="only cases whose referral was received more than this many days ago",
    )

    def asked(self, forces: Iterable[str], now: int, awaiting: bool | None = None) -> OpenAsked:
        """The filter as a selection of open cases among `forces`, at `now`."""
        levels = None if self.risk_levels is None else frozenset(r.value for r in self.risk_levels)
        return OpenAsked(
            frozenset(forces),
            levels,
            self.past_target,
            now,
            awaiting,
            received_before=_days_before(now, self.min_days_waiting, "minDaysWaiting"),
            team=None if self.team is None else self.team.value,
            quiet_before=_days_before(now, self.inactive_days, "inactiveDays"),
        )


def _days_before(now: int, days: int | None, name: str) -> int | None:
    if days is None:
        return None
    if days < 0:
        raise BadInput(f"{name}: zero or more")
    return now - days * DAY_MS


@strawberry.type(description="An open case: metadata only, never personal data.")
class OversightCase(ListedCase):
    @strawberry.field(description="fractional days since the referral was received")
    def days_waiting(self) -> float | None:
        return (self.now - self.fact.received_at) / DAY_MS

    @strawberry.field
    def last_activity_at(self) -> datetime | None:
        at = self.fact.last_activity_at
        return None if at is None else datetime.fromtimestamp(at / 1000, UTC)


@strawberry.type
class OversightCaseEdge:
    node: OversightCase
    cursor: str


@strawberry.type(description="A page of open cases, oldest referral first.")
class OversightCaseConnection:
    total_count: int = strawberry.field(description="cases matching the filter, on every page")
    edges: list[OversightCaseEdge]
    page_info: PageInfo


def _position(fact: CaseFacts) -> Position:
    return fact.received_at, fact.key


def encode_cursor(fact: CaseFacts) -> str:
    received, key = _position(fact)
    return base64.urlsafe_b64encode(f"{_CURSOR}{received}:{key}".encode()).decode()


def decode_cursor(cursor: str) -> Position:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(_CURSOR):
            received, _, key = text[len(_CURSOR) :].partition(":")
            if key:
                return int(received), key
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadInput("after: not a cursor from this connection")


def checked_first(first: int) -> int:
    """0 asks for the count alone."""
    if not 0 <= first <= MAX_PAGE:
        raise BadInput(f"first: between 0 and {MAX_PAGE}")
    return first


def known_forces(info: Info, named: list[str] | None) -> list[str]:
    """The region's forces whose cases the caller may know, among `named` if given."""
    context = info.context
    forces = context.region.forces()
    if named is not None:
        if not all(FORCE_CODE.match(force) for force in named):
            raise BadInput("forces: force codes of 2 to 4 capital letters, e.g. AS")
        asked = set(named)
        forces = [force for force in forces if force in asked]
    return [force for force in forces if context.knows_case(force)]


def open_cases_page(
    info: Info,
    open_cases: OpenCases,
    case_filter: OversightCaseFilter | None,
    first: int,
    after: str | None,
    *,
    awaiting: bool | None = None,
) -> OversightCaseConnection:
    """One page of the open cases the filter selects among the forces the caller may know;
    `awaiting`: only those awaiting enforcement (True) or not (False)."""
    context = info.context
    checked_first(first)
    start = decode_cursor(after) if after is not None else None
    case_filter = case_filter or OversightCaseFilter()
    now = context.now_ms
    known = known_forces(info, case_filter.forces)
    asked = case_filter.asked(known, now, awaiting)
    total = open_cases.count(asked)  # counted, and the page entered, by binary searches
    page = list(itertools.islice(open_cases.walk(asked, start), first + 1))
    more, page = len(page) > first, page[:first]
    return OversightCaseConnection(
        total_count=total,
        edges=[
            OversightCaseEdge(node=OversightCase(fact=fact, now=now), cursor=encode_cursor(fact))
            for fact in page
        ],
        page_info=PageInfo(
            has_next_page=more, end_cursor=encode_cursor(page[-1]) if page else None
        ),
    )
