"""`oversight { activity(from, to) }`: what each force did in a window, figures only."""

from __future__ import annotations

from datetime import UTC, datetime

import strawberry

from gateway import activity
from gateway.graphql.errors import BadInput
from gateway.graphql.types import EnforcementMethod, OutcomeKind


@strawberry.type
class MethodCount:
    method: EnforcementMethod
    count: int


@strawberry.type
class OutcomeCount:
    kind: OutcomeKind
    count: int


@strawberry.type(description="Cases waiting so many days from referral to enforcement.")
class DelayBandCount:
    band: str = strawberry.field(description="days from referral receipt, e.g. 8-14 or 181+")
    min_days: int = strawberry.field(description="at least this many days")
    max_days: int | None = strawberry.field(description="less than this many days (none: open)")
    count: int


@strawberry.type(
    description="What one force did in a window [from, to); a row per force with cases."
)
class ForceActivity:
    force: str
    received: int = strawberry.field(description="cases whose referral was received in the window")
    enforcements: list[MethodCount] = strawberry.field(
        description="enforcement actions taken in the window, by method (a v1 enforcementAt is "
        "OTHER); every method, zeros included"
    )
    arrests: int = strawberry.field(description="enforcement actions of method ARREST")
    outcomes: list[OutcomeCount] = strawberry.field(
        description="cases whose outcome is dated in the window, by kind; every kind listed"
    )
    resolved: int = strawberry.field(
        description="cases whose outcome or closing, whichever came first, is in the window"
    )
    time_to_enforcement: list[DelayBandCount] = strawberry.field(
        description="cases whose first enforcement action is in the window, by the days from "
        "referral receipt to it; every band, zeros included (`oversight { enforced }` lists a "
        "band's cases)"
    )

    @classmethod
    def of(cls, row: activity.ForceActivity) -> ForceActivity:
        return cls(
            force=row.force,
            received=row.received,
            enforcements=[
                MethodCount(method=EnforcementMethod(m), count=n)
                for m, n in row.enforcements.items()
            ],
            arrests=row.arrests,
            outcomes=[OutcomeCount(kind=OutcomeKind(k), count=n) for k, n in row.outcomes.items()],
            resolved=row.resolved,
            time_to_enforcement=[
                DelayBandCount(
                    band=label, min_days=low, max_days=high, count=row.time_to_enforcement[label]
                )
                for label, low, high in activity.DELAY_BANDS
            ],
        )


def millis(instant: datetime) -> int:
    """Epoch milliseconds; an instant without a zone is taken as UTC."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return int(instant.timestamp() * 1000)


def window(start: datetime, end: datetime) -> tuple[int, int]:
    """`[from, to)` in epoch milliseconds; refused unless `from` is before `to`."""
    low, high = millis(start), millis(end)
    if low >= high:
        raise BadInput("activity: `from` must be before `to`")
    return low, high
