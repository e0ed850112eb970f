"""Rate limits per client and per route: token buckets, configured in `limits.yaml`.

Each (client, route) pair has a bucket of `burst` requests refilled at `rate` per second; an empty
bucket refuses with the seconds until the next request would pass (the `Retry-After` of a 429).
A route that takes batches (the sync route) may also have a budget of `records`: a second bucket,
of records, that each answered request is charged for afterwards (`charge`), since how many
records a streamed body holds is known only once it has been read. A request is let in while its
client's records bucket is not in debt; one large batch may take it below zero, and the client
then waits until the refill has paid that back. So a client's sustained rate of records is bounded
however it splits them into requests.

Buckets live in each gateway replica's memory: with n replicas a client gets at most n times its
rate, which is the point of a limit (protecting the graph from one runaway client), not a quota.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.scopes import PolicyFileError, format_errors

MAX_BUCKETS = 100_000  # far more clients than a region has: a bound on memory, not a limit


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited; retry in {retry_after:.1f} s")
        self.retry_after = retry_after

    @property
    def retry_after_header(self) -> str:
        return str(max(1, math.ceil(self.retry_after)))


class Limit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: float = Field(gt=0, description="requests per second, sustained")
    burst: int = Field(ge=1, description="requests at once after a quiet spell")
    records: Records | None = Field(None, description="a budget of records, for batch routes")


class Records(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rate: float = Field(gt=0, description="records per second, sustained")
    burst: int = Field(ge=1, description="records at once after a quiet spell")


class SearchRules(BaseModel):
    """Identifier search: how many distinct values in a window make a sweep (search_watch.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window: float = Field(60.0, gt=0, description="seconds over which distinct values count")
    sweep: int = Field(100, ge=1, description="distinct values in the window that make a sweep")
    cooloff: float = Field(900.0, ge=0, description="seconds a sweeping client is refused")


class _LimitsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=1)
    default: Limit
    routes: dict[str, Limit] = {}
    clients: dict[str, dict[str, Limit]] = {}  # client id -> route (or "*") -> limit
    search: SearchRules = SearchRules()


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, rules: _LimitsFile, clock: Callable[[], float] = time.monotonic) -> None:
        self._rules = rules
        self.search = rules.search  # for `policies.search_watch.SearchWatch`
        self._clock = clock
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._records: dict[tuple[str, str], _Bucket] = {}

    def limit_for(self, client_id: str, route: str) -> Limit:
        own = self._rules.clients.get(client_id, {})
        return (
            own.get(route) or own.get("*") or self._rules.routes.get(route) or self._rules.default
        )

    def check(self, client_id: str, route: str) -> None:
        """Take one request from the client's bucket for this route, or raise `RateLimited`;
        also refused while the client's records bucket for the route is in debt."""
        limit = self.limit_for(client_id, route)
        now = self._clock()
        if limit.records is not None:
            records = _refilled(self._records, (client_id, route), limit.records, now)
            if records.tokens < 0:
                raise RateLimited(-records.tokens / limit.records.rate)
        bucket = _refilled(self._buckets, (client_id, route), limit, now)
        if bucket.tokens < 1:
            raise RateLimited((1 - bucket.tokens) / limit.rate)
        bucket.tokens -= 1

    def charge(self, client_id: str, route: str, records: int) -> None:
        """Charge an answered request's records to the client's records bucket for the route
        (which may go into debt); nothing when the route has no budget of records."""
        budget = self.limit_for(client_id, route).records
        if budget is not None and records > 0:
            _refilled(self._records, (client_id, route), budget, self._clock()).tokens -= records


def _refilled(
    buckets: dict[tuple[str, str], _Bucket],
    key: tuple[str, str],
    limit: Limit | Records,
    now: float,
) -> _Bucket:
    """The bucket for `key`, full when new, refilled for the time since it was last touched."""
    bucket = buckets.get(key)
    if bucket is None:
        if len(buckets) >= MAX_BUCKETS:
            buckets.clear()
        bucket = buckets[key] = _Bucket(float(limit.burst), now)
    bucket.tokens = min(limit.burst, bucket.tokens + (now - bucket.updated) * limit.rate)
    bucket.updated = now
    return bucket


def parse_limits(text: str, *, source: str = "limits.yaml") -> RateLimiter:
    try:
        raw = yaml.safe_load(text)
        return RateLimiter(_LimitsFile.model_validate(raw))
    except yaml.YAMLError as error:
        raise PolicyFileError(f"{source}: not valid YAML ({error.__class__.__name__})") from error
    except ValidationError as error:
        raise PolicyFileError(f"{source}: {format_errors(error)}") from error


def load_limits(path: Path) -> RateLimiter:
    return parse_limits(path.read_text(), source=str(path))
