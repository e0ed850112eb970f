"""Oversight and priority types: figures and scores, never personal data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated

import strawberry

from gateway import oversight, priority
from gateway.activity import ForceActivity as ActivityRow
from gateway.graphql.activity import ForceActivity, window
from gateway.graphql.alerts import RegradeAlert
from gateway.graphql.context import Info
from gateway.graphql.history import Every, ForceDay, checked_range, rows_every
from gateway.graphql.lists import (
    DeviceBacklogConnection,
    DeviceFilter,
    EnforcedCaseConnection,
    ListSources,
    RegradeAlertConnection,
    alerts_page,
    devices_page,
    enforced_page,
)
from gateway.graphql.oversight_cases import (
    DEFAULT_PAGE,
    OpenCases,
    OversightCaseConnection,
    OversightCaseFilter,
    open_cases_page,
)
from gateway.graphql.paging import checked_page
from gateway.graphql.sharing import NamesCase
from gateway.graphql.types import PriorityReason, ReferralSource, RiskLevel
from policies.case_facts import CaseFacts


@strawberry.type
class AgeBandCount:
    band: str = strawberry.field(description="days since referral receipt (or seizure)")
    count: int


def _bands(counts: dict[str, int]) -> list[AgeBandCount]:
    return [
        AgeBandCount(band=label, count=counts.get(label, 0)) for label, *_ in oversight.AGE_BANDS
    ]


@strawberry.type(description="One force's cases of one risk level against their targets.")
class ForceRiskFigures:
    force: str
    risk_level: RiskLevel
    cases: int
    open: int = strawberry.field(
        description="status not CHARGED, CAUTIONED, NFA, TRANSFERRED, CLOSED"
    )
    past_target: int = strawberry.field(description="open, not enforced, target passed")
    due_within_48_hours: int = strawberry.field(description="open, not enforced, target in 48 h")
    enforced_within_target_share: float | None
    median_days_to_enforcement: float | None
    p90_days_to_enforcement: float | None
    backlog_by_age: list[AgeBandCount]

    @classmethod
    def of(cls, row: oversight.RiskFigures) -> ForceRiskFigures:
        return cls(
            force=row.force,
            risk_level=RiskLevel(row.risk_level),
            cases=row.cases,
            open=row.open,
            past_target=row.past_target,
            due_within_48_hours=row.due_soon,
            enforced_within_target_share=row.enforced_within_target_share,
            median_days_to_enforcement=row.median_days_to_enforcement,
            p90_days_to_enforcement=row.p90_days_to_enforcement,
            backlog_by_age=_bands(row.backlog_by_age),
        )


@strawberry.type
class MonthlyReferrals:
    month: str = strawberry.field(description="YYYY-MM, by referral receipt")
    source: ReferralSource
    count: int


@strawberry.type
class MonthCount:
    month: str
    count: float


@strawberry.type(description="A projected month's 80% prediction interval.")
class MonthBand:
    month: str
    low: float
    high: float


@strawberry.type(description="One force's referrals, activity and backlogs.")
class ForceFigures:
    force: str
    referrals_by_month: list[MonthlyReferrals]
    monthly_referrals: list[MonthCount]
    trend_per_month: float | None = strawberry.field(
        description="the fitted change in referrals from the last month to the next"
    )
    growth_per_month: float | None = strawberry.field(
        description="the share by which referrals grow each month, fitted log-linear to the "
        "force's own months (0.06: 6% a month)"
    )
    projection: list[MonthCount] = strawberry.field(
        description="the next 12 months on the force's own growth"
    )
    projection_band: list[MonthBand] = strawberry.field(
        description="for each projected month, the range 80% of months are expected inside"
    )
    new_cases_28_days: int
    enforcements_28_days: int
    inactive_30_days: int = strawberry.field(description="open cases with no activity for 30 days")
    devices_awaiting_examination: list[AgeBandCount]
    median_days_to_first_safeguarding: float | None

    @classmethod
    def of(cls, row: oversight.ForceFigures) -> ForceFigures:
        return cls(
            force=row.force,
            referrals_by_month=[
                MonthlyReferrals(month=m, source=ReferralSource(s), count=n)
                for m, s, n in row.referrals_by_month
            ],
            monthly_referrals=[MonthCount(month=m, count=n) for m, n in row.monthly_totals],
            trend_per_month=row.trend.per_month if row.trend else None,
            growth_per_month=row.trend.growth_per_month if row.trend else None,
            projection=[
                MonthCount(month=m, count=round(n, 1))
                for m, n in (row.trend.projection if row.trend else [])
            ],
            projection_band=[
                MonthBand(month=m, low=round(low, 1), high=round(high, 1))
                for m, low, high in (row.trend.band if row.trend else [])
            ],
            new_cases_28_days=row.new_cases_28_days,
            enforcements_28_days=row.enforcements_28_days,
            inactive_30_days=row.inactive_30_days,
            devices_awaiting_examination=_bands(row.devices_awaiting_examination),
            median_days_to_first_safeguarding=row.median_days_to_first_safeguarding,
        )


@strawberry.type
class ForceCount:
    force: str
    count: int


@strawberry.type(description="How many days from referral a risk level's enforcement is due.")
class RiskTarget:
    risk_level: RiskLevel
    days: int


@strawberry.type(description="A force whose cases the hub pulls from its connector.")
class PulledForce:
    force: str
    last_success: datetime | None
    lag_seconds: float = strawberry.field(description="since the hub last caught up")
    consecutive_errors: int
    errors: int
    last_error: str | None
    records_applied: int
    records_rejected: int


@strawberry.type(description="Regional figures for coordinators; filters apply to every figure.")
class Oversight:
    risk_rows: strawberry.Private[list[oversight.RiskFigures]]
    force_rows: strawberry.Private[list[oversight.ForceFigures]]
    # Asked for only when the field is: a period's are counted afresh from its facts.
    alerted: strawberry.Private[Callable[[int], list[CaseFacts]]]  # the first so many
    alert_count: strawberry.Private[Callable[[], int]]
    avoided: strawberry.Private[Callable[[], dict[str, int]]]
    activity_in: strawberry.Private[Callable[[int, int], list[ActivityRow]]]
    open_cases: strawberry.Private[OpenCases]
    lists: strawberry.Private[ListSources]
    scope: strawberry.Private[set[str] | None]  # the filter's forces (None: every force)
    as_of: datetime

    @strawberry.field(description="The region's enforcement targets (the case rules file)")
    def targets(self, info: Info) -> list[RiskTarget]:
        rules = info.context.protection.case_rules
        return [RiskTarget(risk_level=RiskLevel(r), days=d) for r, d in rules.target_days.items()]

    @strawberry.field(description="A row per force and risk level with at least one case")
    def by_force(self) -> list[ForceRiskFigures]:
        return [ForceRiskFigures.of(r) for r in self.risk_rows]

    @strawberry.field
    def forces(self) -> list[ForceFigures]:
        return [ForceFigures.of(r) for r in self.force_rows]

    @strawberry.field(description="Forces the hub pulls from (those that cannot push)")
    def pulled_forces(self, info: Info) -> list[PulledForce]:
        now = info.context.now
        return [
            PulledForce(
                force=state.force,
                last_success=state.last_success,
                lag_seconds=round(state.lag_seconds(now), 3),
                consecutive_errors=state.consecutive_errors,
                errors=state.errors,
                last_error=state.last_error,
                records_applied=state.records["applied"],
                records_rejected=state.records["rejected"],
            )
            for _, state in sorted(info.context.pulls().items())
        ]

    @strawberry.field(
        description="The most pressing first (most severe child-safety signs, then links to "
        "high-risk cases, then the longest waiting and quiet): the first `first` (at most 100)"
    )
    def regrade_alerts(self, info: Info, first: int = 100) -> list[RegradeAlert]:
        now = info.context.now_ms
        return [RegradeAlert.of(fact, now) for fact in self.alerted(checked_page(first))]

    @strawberry.field(description="How many regrade alerts there are in all")
    def regrade_alert_count(self) -> int:
        return self.alert_count()

    @strawberry.field(description="What each force did in the window [from, to)")
    def activity(
        self, start: Annotated[datetime, strawberry.argument(name="from")], to: datetime
    ) -> list[ForceActivity]:
        return [ForceActivity.of(row) for row in self.activity_in(*window(start, to))]

    @strawberry.field(description="Open cases, oldest referral first, a page at a time")
    def cases(
        self,
        info: Info,
        filter: OversightCaseFilter | None = None,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
    ) -> OversightCaseConnection:
        page = DEFAULT_PAGE if first is None else first
        return open_cases_page(info, self.open_cases, filter, page, after)

    @strawberry.field(
        description="Open cases with no enforcement action, oldest referral first, a page at a "
        "time: the longest waits for enforcement"
    )
    def awaiting_enforcement(
        self,
        info: Info,
        filter: OversightCaseFilter | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> OversightCaseConnection:
        return open_cases_page(info, self.open_cases, filter, first, after, awaiting=True)

    @strawberry.field(
        description="Cases with devices seized and not examined, oldest seizure first, a page "
        "at a time"
    )
    def devices_awaiting(
        self,
        info: Info,
        filter: DeviceFilter | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> DeviceBacklogConnection:
        return devices_page(info, self.lists, filter, first, after)

    @strawberry.field(
        description="Regrade alerts, the most pressing first (the order of `regradeAlerts`), a "
        "page at a time"
    )
    def alerts(
        self,
        info: Info,
        filter: OversightCaseFilter | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> RegradeAlertConnection:
        return alerts_page(info, self.lists, filter, first, after)

    @strawberry.field(
        description="Cases whose first enforcement action is in the window [from, to), after a "
        "wait from referral in `band` (a band of `activity { timeToEnforcement }`), earliest "
        "action first, a page at a time: the cases behind one bar"
    )
    def enforced(
        self,
        info: Info,
        start: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
        band: str,
        forces: list[str] | None = None,
        first: int = DEFAULT_PAGE,
        after: str | None = None,
    ) -> EnforcedCaseConnection:
        return enforced_page(info, self.lists, window(start, to), band, forces, first, after)

    @strawberry.field(
        description="Each force's figures at the end of each day from `from` to `to` (both "
        "included), as the hub kept them; by week or month, a row per force and period"
    )
    async def history(
        self,
        info: Info,
        start: Annotated[date, strawberry.argument(name="from")],
        to: date,
        every: Every = Every.DAY,
    ) -> list[ForceDay]:
        checked_range(start, to)
        context = info.context
        days = await context.region.kept_days(context.graph, start, to)
        scope = self.scope
        return rows_every((d for d in days if scope is None or d.force in scope), every)

    @strawberry.field(
        description="images a force's officers need not view: another case had graded them first"
    )
    def image_views_avoided(self) -> list[ForceCount]:
        return [ForceCount(force=force, count=count) for force, count in self.avoided().items()]


@strawberry.type(description="An open case and why it is this high in the queue.")
class PrioritisedCase(NamesCase):
    scored: strawberry.Private[priority.Scored]
    cursor: str = strawberry.field(
        default="", description="where this case stands: `after` it for the next page"
    )

    def named_force(self) -> str | None:
        return self.scored.facts.force

    @strawberry.field
    def force(self) -> str:
        return self.scored.facts.force

    @strawberry.field
    def case_ref(self) -> str:
        return self.scored.facts.case_ref

    @strawberry.field
    def risk_level(self) -> RiskLevel:
        return RiskLevel(self.scored.facts.risk_level)

    @strawberry.field
    def score(self) -> float:
        return self.scored.score

    @strawberry.field
    def reasons(self) -> list[str]:
        return list(self.scored.reasons)

    @strawberry.field(description="the parts of the score, in the order of `reasons`")
    def reason_codes(self) -> list[PriorityReason]:
        return [PriorityReason(code) for code in self.scored.codes]
