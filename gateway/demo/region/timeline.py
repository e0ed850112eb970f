"""A case's life from receipt of referral to outcome, cut at the instant the region is seen at.

Enforcement lands within the NPCC target for most cases and after it for a share that grows as
the grade falls; forensic examination then waits months (reported backlogs of six to twelve),
and the outcome follows it. Whatever lies after the end of the region's period has not happened.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.demo.region.params import TARGET_DAYS

MINUTE, HOUR, DAY = 60, 3600, 86400
TRANSFERRED_SHARE = 0.03  # suspect lives in another force's area
EARLY_NFA_SHARE = 0.07  # e.g. a subscriber who cannot be identified
LATE_MEAN_EXCESS = 1.5  # mean lateness of a late enforcement, in targets
ARREST_SHARE = 0.7  # the rest attend voluntarily
OUTCOMES = (("CHARGED", 0.55), ("CAUTIONED", 0.10), ("NO_FURTHER_ACTION", 0.25), ("CLOSED", 0.10))
ENDING = frozenset({"NO_FURTHER_ACTION", "TRANSFERRED", "CLOSED"})


@dataclass(slots=True)
class Timeline:
    received: int
    opened: int
    assessed: int
    status: str
    version: int
    last_activity: int
    enforced: int | None = None
    arrested: bool = False
    examined: int | None = None
    closed: int | None = None
    enforced_at: str | None = None  # the same instants as text, written on several items
    examined_at: str | None = None
    status_at: int = 0  # when the case reached its status (an outcome's date)


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random()
    for value, share in weighted:
        x -= share
        if x < 0:
            return value
    return weighted[-1][0]


def timeline(
    rng: random.Random, level: str, received: int, end: int, past_target: float
) -> Timeline:
    urgent = level in ("VERY_HIGH", "HIGH")
    opened = min(received + between(rng, 5 * MINUTE, 8 * HOUR), end)
    assessed = min(opened + between(rng, 30 * MINUTE, (24 if urgent else 72) * HOUR), end)
    allocated = assessed + between(rng, 0, (1 if urgent else 5) * DAY)
    steps: list[tuple[int, str]] = [(opened, "NEW")]
    enforced = examined = None
    fate = rng.random()
    if fate < TRANSFERRED_SHARE:
        steps.append((assessed + between(rng, DAY, 10 * DAY), "TRANSFERRED"))
    elif fate < TRANSFERRED_SHARE + EARLY_NFA_SHARE:
        steps.append((allocated, "ALLOCATED"))
        steps.append((allocated + between(rng, 5 * DAY, 90 * DAY), "NO_FURTHER_ACTION"))
    else:
        target = TARGET_DAYS[level] * DAY
        if rng.random() < past_target:
            delay = target + 1 + int(target * rng.expovariate(1 / LATE_MEAN_EXCESS))
        else:
            delay = int(target * rng.uniform(0.15, 1.0))
        enforced = max(received + delay, allocated + HOUR)
        if enforced - received > target and delay <= target:
            enforced = received + target  # allocation ran late; enforced on the last day
        planned = max(allocated, enforced - between(rng, DAY, 4 * DAY))
        examined = enforced + int(rng.triangular(30, 365, 180) * DAY)
        steps += [(allocated, "ALLOCATED"), (planned, "ENFORCEMENT_PLANNED")]
        outcome_at = examined + between(rng, 7 * DAY, 90 * DAY)
        steps += [(enforced, "ENFORCED"), (outcome_at, pick(rng, OUTCOMES))]
    reached = [step for step in steps if step[0] <= end]
    at, status = reached[-1]
    done_enforced = enforced if enforced is not None and enforced <= end else None
    done_examined = examined if examined is not None and examined <= end else None
    return Timeline(
        received=received,
        opened=opened,
        assessed=assessed,
        status=status,
        version=len(reached),
        last_activity=max(at, assessed, done_examined or 0),
        enforced=done_enforced,
        arrested=done_enforced is not None and rng.random() < ARREST_SHARE,
        examined=done_examined,
        closed=at if status in ENDING else None,
        enforced_at=iso(done_enforced) if done_enforced is not None else None,
        examined_at=iso(done_examined) if done_examined is not None else None,
        status_at=at,
    )


_HOURS: dict[int, str] = {}
_MINUTES_SECONDS = tuple(f"{m:02d}:{sec:02d}Z" for m in range(60) for sec in range(60))


def iso(seconds: int) -> str:
    """RFC 3339 in UTC with a Z. Formatting dates dominated generation: the part up to the hour
    is cached (millions of instants share few hours) and the rest looked up."""
    hour, rest = divmod(seconds, HOUR)
    text = _HOURS.get(hour)
    if text is None:
        text = datetime.fromtimestamp(hour * HOUR, UTC).strftime("%Y-%m-%dT%H:")
        if len(_HOURS) < 200_000:
            _HOURS[hour] = text
    return text + _MINUTES_SECONDS[rest]


def seeded(*parts: object) -> random.Random:
    """A generator seeded from the parts: reproducible synthetic data, never key material."""
    return random.Random(":".join(map(str, parts)))  # noqa: S311


def between(rng: random.Random, low: int, high: int) -> int:
    """An integer in [low, high]; `randint` costs several calls, this one."""
    return low + int(rng.random() * (high - low + 1))
