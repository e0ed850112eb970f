"""`oversight { history(from, to, every) }`: each force's figures at the end of each day, as the
hub kept them (`gateway/history_keeper.py`), by day, week or month. Figures only.

A week (Monday to Sunday) or month is given by the last day of it held in the range: its levels
(`open`, `pastTarget`, `awaitingEnforcement`) are that day's, its flows (`received`, `resolved`)
the sums of its days in the range.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import date, timedelta

import strawberry

from gateway.graphql.errors import BadInput
from graph.force_days import ForceDay as Day

MAX_DAYS = 1100  # about three years of days in one answer


@strawberry.enum(description="How many days each row of the history stands for.")
class Every(enum.Enum):
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


@strawberry.type(description="One force's figures at the end of a day (UTC), as kept that day.")
class ForceDay:
    date: date = strawberry.field(description="the day; for a week or month, its last day held")
    force: str
    open: int = strawberry.field(description="cases received and not resolved by the day's end")
    past_target: int = strawberry.field(
        description="open, no enforcement action, target passed by the day's end"
    )
    awaiting_enforcement: int = strawberry.field(description="open, no enforcement action")
    received: int = strawberry.field(description="referrals received in the day (week, month)")
    resolved: int = strawberry.field(description="cases resolved in the day (week, month)")
    past_target_unsure: int = strawberry.field(
        description="awaiting enforcement past some risk level's target but not every level's, "
        "on a day before the assessment of the level held now (which level was in force then is "
        "not known): the day's past-target count lies between pastTarget and pastTarget plus this"
    )

    @classmethod
    def of(cls, day: Day, *, received: int | None = None, resolved: int | None = None) -> ForceDay:
        return cls(
            date=day.day,
            force=day.force,
            open=day.open,
            past_target=day.past_target,
            awaiting_enforcement=day.awaiting_enforcement,
            received=day.received if received is None else received,
            resolved=day.resolved if resolved is None else resolved,
            past_target_unsure=day.past_target_unsure,
        )


def checked_range(first: date, last: date) -> None:
    if first > last:
        raise BadInput("history: `from` must not be after `to`")
    if (last - first).days >= MAX_DAYS:
        raise BadInput(f"history: at most {MAX_DAYS} days at once")


def _period(day: date, every: Every) -> date:
    """The first day of the week (Monday) or month holding `day`; the day itself by day."""
    if every is Every.WEEK:
        return day - timedelta(days=day.weekday())
    if every is Every.MONTH:
        return day.replace(day=1)
    return day


def rows_every(days: Iterable[Day], every: Every) -> list[ForceDay]:
    """Days (by force, then day) as rows of `every`."""
    if every is Every.DAY:
        return [ForceDay.of(day) for day in days]
    rows: list[ForceDay] = []
    group: list[Day] = []

    def close() -> None:
        if group:
            received = sum(d.received for d in group)
            resolved = sum(d.resolved for d in group)
            rows.append(ForceDay.of(group[-1], received=received, resolved=resolved))
            group.clear()

    for day in days:
        if group and (group[0].force, _period(group[0].day, every)) != (
            day.force,
            _period(day.day, every),
        ):
            close()
        group.append(day)
    close()
    return rows
