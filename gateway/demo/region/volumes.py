"""How many referrals each force receives each month, and when each arrives.

Counts are fixed up front (one integer per force and month, largest-remainder rounding, so a
requested total is met exactly); arrival instants are drawn month by month and merged across
forces in time order, so nothing grows with the number of cases.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import UTC, datetime

from gateway.demo.region.params import FORCE_WEIGHTS, RegionParams
from gateway.demo.region.timeline import seeded


def month_starts(params: RegionParams) -> list[int]:
    """Epoch seconds of the first instant of each month, and of the end of the last one."""
    out = []
    for m in range(params.months + 1):
        index = params.start.month - 1 + m
        first = datetime(params.start.year + index // 12, index % 12 + 1, 1, tzinfo=UTC)
        out.append(int(first.timestamp()))
    return out


def expected(params: RegionParams) -> list[list[float]]:
    """Expected referrals per force (rows) and month (columns), before rounding."""
    growth = [(1 + params.monthly_growth) ** m for m in range(params.months)]
    rows = [
        [params.monthly_base * FORCE_WEIGHTS[code] * g for g in growth]
        for code in params.force_codes
    ]
    if params.cases is None:
        return rows
    total = sum(map(sum, rows)) or 1.0
    scale = params.cases / total
    return [[v * scale for v in row] for row in rows]


def counts(params: RegionParams) -> list[list[int]]:
    """Integer referrals per force and month whose total is the rounded expected total."""
    rows = expected(params)
    total = params.cases if params.cases is not None else round(sum(map(sum, rows)))
    floors = [[int(v) for v in row] for row in rows]
    missing = total - sum(map(sum, floors))
    remainders = sorted(
        (
            (rows[f][m] - floors[f][m], -f, -m)
            for f in range(len(rows))
            for m in range(len(rows[f]))
        ),
        reverse=True,
    )
    for _, f, m in remainders[:missing]:
        floors[-f][-m] += 1
    return floors


def _arrivals(
    seed: int, force: int, month: int, n: int, start: int, end: int
) -> Iterator[tuple[int, int]]:
    """`n` instants spread over [start, end): one per equal slot, uniformly within it."""
    rng = seeded(seed, "arrivals", force, month)
    width = (end - start) / n if n else 0
    for i in range(n):
        yield start + int((i + rng.random()) * width), force


def arrivals(params: RegionParams) -> Iterator[tuple[int, int]]:
    """(epoch seconds, force index) of every referral, in time order."""
    table = counts(params)
    bounds = month_starts(params)
    for m in range(params.months):
        streams = [
            _arrivals(params.seed, f, m, row[m], bounds[m], bounds[m + 1])
            for f, row in enumerate(table)
        ]
        yield from heapq.merge(*streams)
