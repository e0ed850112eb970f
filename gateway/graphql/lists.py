"""Coordinators' named lists beside `oversight { cases }`: the cases with devices awaiting
examination, oldest seizure first, the regrade alerts in the order of their rank, and the cases
first enforced in a window after a wait in one band of `timeToEnforcement`, each a
Relay connection for `oversight:read` with the paging of `oversight_cases.py`.

Rows are case metadata only (force, reference, risk, team, ages, signs): never personal data.
Each names a force's case, so each row type is a `NamesCase`, and, as for `cases`, the resolver
leaves out the forces the agreement hides from the caller before paging, so that pages and
`totalCount` do not come back short. The oldest cases waiting for enforcement are
`oversight { awaitingEnforcement }`, the open-case list narrowed to cases with no enforcement.
"""

from __future__ import annotations

import base64
import bisect
import functools
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import strawberry

from federation.after_sync import regrade
from gateway import oversight
from gateway.activity import DELAY_BANDS
from gateway.graphql.alerts import RegradeAlert
from gateway.graphql.context import Info
from gateway.graphql.errors import BadInput
from gateway.graphql.explore import PageInfo
from gateway.graphql.listed import ListedCase
from gateway.graphql.oversight_cases import OversightCaseFilter, checked_first, known_forces
from gateway.graphql.types import RiskLevel, Team
from gateway.region_index import AlertPosition, OpenAsked, Position, RegionIndex
from policies.case_facts import DAY_MS, CaseFacts

_DEVICES = "dv:"
_ENFORCED = "fe:"
_ALERTS = "ra:"


def _alert_position(fact: CaseFacts) -> AlertPosition:
    rank = regrade.regrade_rank(fact)
    assert rank is not None  # only cases with an alert are listed
    return (*rank, fact.key)


def _device_position(fact: CaseFacts) -> Position:
    return fact.oldest_unexamined_seized_at or 0, fact.key


@dataclass(frozen=True)
class ListSources:
    """Where the lists' cases come from, in their order, after a position if given: the
    region's index, or a period's facts put in order when first asked."""

    alerts: Callable[[set[str], AlertPosition | None], Iterator[CaseFacts]]
    alerts_count: Callable[[set[str]], int]
    devices: Callable[[set[str], Position | None, int | None], Iterator[CaseFacts]]
    devices_count: Callable[[set[str], int | None], int]
    # forces, band, window [low, high) and position after: cases first enforced in the window
    enforced: Callable[[set[str], str, int, int, Position | None], Iterator[CaseFacts]]
    enforced_count: Callable[[set[str], str, int, int], int]

    @classmethod
    def of_index(cls, region: RegionIndex, scope: set[str] | None) -> ListSources:
        def narrowed(forces: set[str]) -> set[str]:
            return forces if scope is None else forces & scope

        return cls(
            enforced=lambda forces, band, low, high, after: region.first_enforced(
                narrowed(forces), band, low, high, after
            ),
            enforced_count=lambda forces, band, low, high: region.first_enforced_count(
                narrowed(forces), band, low, high
            ),
            alerts=lambda forces, after: region.regrade_after(narrowed(forces), after),
            alerts_count=lambda forces: region.regrade_count(narrowed(forces)),
            devices=lambda forces, after, before: region.devices_oldest_first(
                narrowed(forces), after, before
            ),
            devices_count=lambda forces, before: region.devices_count(narrowed(forces), before),
        )

    @classmethod
    def of_facts(cls, facts: list[CaseFacts]) -> ListSources:
        alerted = functools.cache(
            lambda: sorted((f for f in facts if regrade.regrade_rank(f)), key=_alert_position)
        )
        seized = functools.cache(
            lambda: sorted(
                (f for f in facts if f.devices_unexamined and f.oldest_unexamined_seized_at),
                key=_device_position,
            )
        )

        def alerts(forces: set[str], after: AlertPosition | None) -> Iterator[CaseFacts]:
            cases = alerted()
            start = 0 if after is None else bisect.bisect_right(cases, after, key=_alert_position)
            return (f for f in itertools.islice(cases, start, None) if f.force in forces)

        def devices(
            forces: set[str], after: Position | None, before: int | None
        ) -> Iterator[CaseFacts]:
            cases = seized()
            start = 0 if after is None else bisect.bisect_right(cases, after, key=_device_position)
            return (
                f
                for f in itertools.islice(cases, start, None)
                if f.force in forces and (before is None or _device_position(f)[0] < before)
            )

        groups = functools.cache(lambda: oversight.force_groups(facts))
        by_key = functools.cache(lambda: {f.key: f for f in facts})

        def enforced(
            forces: set[str], band: str, low: int, high: int, after: Position | None
        ) -> Iterator[CaseFacts]:
            keys = oversight.first_enforced(groups(), forces, band, low, high, after)
            return (by_key()[key] for key in keys)

        return cls(
            enforced=enforced,
            enforced_count=lambda forces, band, low, high: oversight.first_enforced_count(
                groups(), forces, band, low, high
            ),
            alerts=alerts,
            alerts_count=lambda forces: sum(1 for _ in alerts(forces, None)),
            devices=devices,
            devices_count=lambda forces, before: sum(1 for _ in devices(forces, None, before)),
        )


def _encode(prefix: str, position: tuple[Any, ...]) -> str:
    return base64.urlsafe_b64encode((prefix + json.dumps(list(position))).encode()).decode()


def _decode(prefix: str, cursor: str) -> tuple[Any, ...]:
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
        if text.startswith(prefix):
            values = json.loads(text[len(prefix) :])
            if (
                isinstance(values, list)
                and values
                and all(isinstance(v, int | str) for v in values)
            ):
                return tuple(values)
    except (ValueError, UnicodeDecodeError):
        pass
    raise BadInput("after: not a cursor from this connection")


def _page(
    cases: Iterator[CaseFacts], passes: Callable[[CaseFacts], bool], first: int
) -> tuple[bool, list[CaseFacts]]:
    """The first `first` cases that pass, and whether there are more."""
    page: list[CaseFacts] = []
    for fact in cases:
        if not passes(fact):
            continue
        if len(page) == first:
            return True, page
        page.append(fact)
    return False, page


# Devices awaiting examination


@strawberry.input(description="Which cases with devices awaiting examination to list.")
class DeviceFilter:
    forces: list[str] | None = None
    risk_levels: list[RiskLevel] | None = None
    team: Team | None = None
    min_days_since_seizure: int | None = strawberry.field(
        default=None,
        description="only cases whose oldest device awaiting examination was seized more than "
        "this many days ago (365: the devices waiting beyond 12 months)",
    )

    def seized_before(self, now: int) -> int | None:
        if self.min_days_since_seizure is None:
            return None
        if self.min_days_since_seizure < 0:
            raise BadInput("minDaysSinceSeizure: zero or more")
        return now - self.min_days_since_seizure * DAY_MS

    def passes(self, fact: CaseFacts) -> bool:
        return (self.risk_levels is None or RiskLevel(fact.risk_level) in self.risk_levels) and (
            self.team is None or fact.team == self.team.value
        )

    def walks(self) -> bool:
        """Whether counting needs a walk (risk or team asked), not binary searches alone."""
        return self.risk_levels is not None or self.team is not None


@strawberry.type(description="A case with devices seized and not yet examined: metadata only.")
class DeviceBacklogCase(ListedCase):
    @strawberry.field(description="devices of the case seized and not examined")
    def devices_awaiting(self) -> int:
        return self.fact.devices_unexamined

    @strawberry.field(description="when the oldest of them was seized")
    def oldest_seized_at(self) -> datetime:
        return datetime.fromtimestamp(_device_position(self.fact)[0] / 1000, UTC)

    @strawberry.field(description="fractional days since the oldest of them was seized")
    def days_since_seizure(self) -> float:
        return (self.now - _device_position(self.fact)[0]) / DAY_MS

    @strawberry.field(description="whether the case is open")
    def open(self) -> bool:
        return self.fact.open


@strawberry.type
class DeviceBacklogEdge:
    node: DeviceBacklogCase
    cursor: str


@strawberry.type(description="A page of cases with devices awaiting examination, oldest first.")
class DeviceBacklogConnection:
    total_count: int
    edges: list[DeviceBacklogEdge]
    page_info: PageInfo


def devices_page(
    info: Info,
    sources: ListSources,
    device_filter: DeviceFilter | None,
    first: int,
    after: str | None,
) -> DeviceBacklogConnection:
    checked_first(first)
    start: Position | None = None
    if after is not None:
        values = _decode(_DEVICES, after)
        if len(values) != 2 or not isinstance(values[0], int) or not isinstance(values[1], str):
            raise BadInput("after: not a cursor from this connection")
        start = (values[0], values[1])
    device_filter = device_filter or DeviceFilter()
    now = info.context.now_ms
    before = device_filter.seized_before(now)
    forces = set(known_forces(info, device_filter.forces))
    if device_filter.walks():
        total = sum(1 for f in sources.devices(forces, None, before) if device_filter.passes(f))
    else:
        total = sources.devices_count(forces, before)
    more, page = _page(sources.devices(forces, start, before), device_filter.passes, first)
    edges = [
        DeviceBacklogEdge(
            node=DeviceBacklogCase(fact=fact, now=now),
            cursor=_encode(_DEVICES, _device_position(fact)),
        )
        for fact in page
    ]
    return DeviceBacklogConnection(
        total_count=total,
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
    )


# Regrade alerts


@strawberry.type
class RegradeAlertEdge:
    node: RegradeAlert
    cursor: str


@strawberry.type(description="A page of regrade alerts, the most pressing first.")
class RegradeAlertConnection:
    total_count: int
    edges: list[RegradeAlertEdge]
    page_info: PageInfo


def alerts_page(
    info: Info,
    sources: ListSources,
    case_filter: OversightCaseFilter | None,
    first: int,
    after: str | None,
) -> RegradeAlertConnection:
    checked_first(first)
    start = _decode(_ALERTS, after) if after is not None else None
    case_filter = case_filter or OversightCaseFilter()
    now = info.context.now_ms
    forces = set(known_forces(info, case_filter.forces))
    asked = case_filter.asked(forces, now)
    if asked == OpenAsked(asked.forces, now=now):  # by force alone: counted
        total = sources.alerts_count(forces)
    else:
        total = sum(1 for f in sources.alerts(forces, None) if asked.admits(f))
    more, page = _page(sources.alerts(forces, start), asked.admits, first)
    edges = [
        RegradeAlertEdge(
            node=RegradeAlert(fact=fact, now=now), cursor=_encode(_ALERTS, _alert_position(fact))
        )
        for fact in page
    ]
    return RegradeAlertConnection(
        total_count=total,
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
    )


# Cases first enforced in a window, by their wait


@strawberry.type(description="A case first enforced in a window: metadata only.")
class EnforcedCase(ListedCase):
    @strawberry.field(description="when its first enforcement action was taken")
    def first_enforcement_at(self) -> datetime:
        return datetime.fromtimestamp(_first_action(self.fact) / 1000, UTC)

    @strawberry.field(
        description="fractional days from referral receipt to the first enforcement action"
    )
    def days_to_enforcement(self) -> float:
        return (_first_action(self.fact) - self.fact.received_at) / DAY_MS

    @strawberry.field(description="whether the case is open")
    def open(self) -> bool:
        return self.fact.open


def _first_action(fact: CaseFacts) -> int:
    assert fact.enforcement_at is not None  # only enforced cases are listed
    return int(fact.enforcement_at)


@strawberry.type
class EnforcedCaseEdge:
    node: EnforcedCase
    cursor: str


@strawberry.type(description="A page of cases first enforced in a window, earliest action first.")
class EnforcedCaseConnection:
    total_count: int
    edges: list[EnforcedCaseEdge]
    page_info: PageInfo


def checked_band(band: str) -> str:
    labels = [label for label, *_ in DELAY_BANDS]
    if band not in labels:
        raise BadInput(f"band: one of {', '.join(labels)}")
    return band


def enforced_page(
    info: Info,
    sources: ListSources,
    window: tuple[int, int],
    band: str,
    forces_named: list[str] | None,
    first: int,
    after: str | None,
) -> EnforcedCaseConnection:
    """The cases of `timeToEnforcement`'s band: first enforced in the window after a wait in
    the band, among the forces the caller may know (and `forces_named`, if given)."""
    checked_first(first)
    checked_band(band)
    start: Position | None = None
    if after is not None:
        values = _decode(_ENFORCED, after)
        if len(values) != 2 or not isinstance(values[0], int) or not isinstance(values[1], str):
            raise BadInput("after: not a cursor from this connection")
        start = (values[0], values[1])
    now = info.context.now_ms
    forces = set(known_forces(info, forces_named))
    low, high = window
    total = sources.enforced_count(forces, band, low, high)
    more, page = _page(sources.enforced(forces, band, low, high, start), lambda _: True, first)
    edges = [
        EnforcedCaseEdge(
            node=EnforcedCase(fact=fact, now=now),
            cursor=_encode(_ENFORCED, (_first_action(fact), fact.key)),
        )
        for fact in page
    ]
    return EnforcedCaseConnection(
        total_count=total,
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
    )
