"""Pull federation: the hub reads force connectors (connector/, crossforce_connector) on a schedule.

Per configured force (`pull.yaml`), one task: fetch the page after the stored cursor, apply it
through the same ingest as pushed records (`Ingest.apply`: validation, versions, sealing,
linking), and only then store the page's end cursor in the graph. A hub killed between the two
reads that page again, and its records come back `stale`: nothing lost, nothing doubled.

Errors (connector down, slow, refusing the token, answering nonsense, the graph away) leave the
cursor where it was and back off exponentially with jitter, per force; each force has its own
task and HTTP client, so one slow connector delays no other. Records the ingest rejects are
counted and logged with their reasons (paths and rule names, never values) and passed over:
the force fixes them with a new version.

Several replicas share the graph and each runs a puller: a lease per force (pull_lease.py) lets
one replica pull a force at a time, and another take over when the holder dies.

State per force (last success, lag, consecutive errors, records by result) is kept in memory:
`Puller.state()` for the oversight API, `PullCollector` for Prometheus.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from federation.after_sync import AfterSync, run_after_sync
from federation.body import Item
from federation.ingest import Ingest, Result
from federation.pull_lease import DEFAULT_LEASE_SECONDS, PullLease
from federation.replica import replica_id
from graph import GraphUnavailable
from graph.pull_cursors import PullCursors
from policies.audit import AuditUnavailable
from policies.principal import Principal
from policies.pull import PullSource, SecretUnavailable, load_pull
from policies.scopes import SYNC_WRITE

log = logging.getLogger("crossforce.pull")

QUERY = """
query Pull($since: String, $first: Int) {
  caseSummaries(since: $since, first: $first) {
    edges { node }
    pageInfo { endCursor hasNextPage }
  }
}
"""
MAX_ANSWER_BYTES = 64 * 1024 * 1024
TOKEN_MARGIN = 60.0  # seconds before expiry a token is renewed
MAX_CURSOR_CHARS = 4096


class PullFailed(Exception):
    """One poll failed; the reason is short and holds no record content."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass
class PullState:
    """What the hub knows of one force's connector, for metrics and oversight."""

    force: str
    started_at: datetime
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    caught_up_at: datetime | None = None  # last time the feed had nothing more
    consecutive_errors: int = 0
    errors: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    pages: int = 0
    records: Counter[str] = field(default_factory=Counter)  # applied, stale, rejected
    rejections: Counter[tuple[str, str]] = field(default_factory=Counter)  # (path, message)

    def lag_seconds(self, now: datetime) -> float:
        """How far behind the feed the hub may be: seconds since it last caught up."""
        return max(0.0, (now - (self.caught_up_at or self.started_at)).total_seconds())

    def as_dict(self, now: datetime) -> dict[str, Any]:
        def instant(value: datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "force": self.force,
            "lastAttempt": instant(self.last_attempt),
            "lastSuccess": instant(self.last_success),
            "caughtUpAt": instant(self.caught_up_at),
            "lagSeconds": round(self.lag_seconds(now), 3),
            "consecutiveErrors": self.consecutive_errors,
            "errors": self.errors,
            "lastError": self.last_error,
            "nextAttemptAt": instant(self.next_attempt_at),
            "pages": self.pages,
            "records": {k: self.records[k] for k in ("applied", "stale", "rejected")},
        }


@dataclass(frozen=True)
class Page:
    nodes: list[Any]
    end_cursor: str | None
    has_next_page: bool


def backoff_delay(source: PullSource, failures: int, rng: Callable[[], float]) -> float:
    """Exponential in consecutive failures, capped, with half of it jittered ("equal jitter"),
    so many hubs or forces failing together do not retry in step."""
    growth = 2.0 ** min(max(0, failures - 1), 60)
    ceiling: float = min(source.backoff.max, source.backoff.initial * growth)
    return ceiling / 2 + rng() * ceiling / 2


_INDEX = re.compile(r"/\d+(?=/|$)")


UNKNOWN_FIELD = "unknown field"


def rejection_reason(path: str, message: str) -> tuple[str, str]:
    """Array indexes become `*` and unknown field names `<unknown>`, so reasons group, metric
    labels stay few, and a name the force made up (it could be anything) stays out of logs."""
    path = _INDEX.sub("/*", path)
    if message == UNKNOWN_FIELD:
        path = path.rsplit("/", 1)[0] + "/<unknown>"
    return path, message


async def _items(nodes: Sequence[Any]) -> AsyncIterator[Item]:
    for index, node in enumerate(nodes):
        yield index, node


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after", "")
    return float(value) if value.isdigit() else None


def _page(document: Any) -> Page:
    """The page in a connector's answer, or `PullFailed` naming what is wrong with it."""
    if not isinstance(document, dict):
        raise PullFailed("connector answer is not a JSON object")
    errors = document.get("errors")
    if errors:
        count = len(errors) if isinstance(errors, list) else 1
        # The connector's messages stay in its own logs: they might quote its data.
        raise PullFailed(f"connector answered {count} GraphQL error(s)")
    data = document.get("data")
    feed = data.get("caseSummaries") if isinstance(data, dict) else None
    if not isinstance(feed, dict):
        raise PullFailed("connector answer holds no caseSummaries")
    edges, info = feed.get("edges"), feed.get("pageInfo")
    if not isinstance(edges, list) or not all(isinstance(e, dict) and "node" in e for e in edges):
        raise PullFailed("connector answer has malformed edges")
    if not isinstance(info, dict) or not isinstance(info.get("hasNextPage"), bool):
        raise PullFailed("connector answer has malformed pageInfo")
    end = info.get("endCursor")
    if end is not None and (not isinstance(end, str) or len(end) > MAX_CURSOR_CHARS):
        raise PullFailed("connector answer has a malformed endCursor")
    return Page([e["node"] for e in edges], end, info["hasNextPage"])


class ForcePull:
    """Pulling one force's connector: token, page, ingest, cursor, state."""

    def __init__(
        self,
        source: PullSource,
        ingest: Ingest,
        *,
        http: httpx.AsyncClient,
        clock: Callable[[], datetime],
        after_sync: AfterSync | None = None,
        lease: PullLease | None = None,
    ) -> None:
        self.source = source
        self.ingest = ingest
        self.cursors = PullCursors(ingest.store)
        self.lease = lease
        self.after_sync = after_sync
        self.http = http
        self.clock = clock
        self.state = PullState(source.force, started_at=clock())
        self.principal = Principal(
            client_id=f"pull:{source.force}", scopes=frozenset({SYNC_WRITE}), force=source.force
        )
        self._token: str | None = None
        self._token_until = 0.0

    async def pull_once(self) -> bool:
        """Fetch and apply one page; True when the connector has more waiting."""
        self.state.last_attempt = self.clock()
        try:
            since = await self.cursors.cursor(self.source.force)
            page = await self._fetch(since)
            results = await self.ingest.apply(self.principal, _items(page.nodes))
            # As after a push (regrade alerts), before the page counts as received.
            await run_after_sync(self.after_sync, self.source.force, results)
            if page.end_cursor is not None and page.end_cursor != since:
                holder = self.lease.holder if self.lease is not None else None
                await self.cursors.move(
                    self.source.force, page.end_cursor, self.clock(), holder=holder
                )
        except (GraphUnavailable, AuditUnavailable):
            raise PullFailed("graph unavailable; the page will be read again") from None
        self._record(results, page)
        # A connector claiming more without moving its cursor would be polled in a tight loop.
        return page.has_next_page and page.end_cursor != since

    def _record(self, results: Iterable[Result], page: Page) -> None:
        now = self.clock()
        state = self.state
        state.pages += 1
        state.last_success = now
        state.consecutive_errors = 0
        state.last_error = None
        if not page.has_next_page:
            state.caught_up_at = now
        for result in results:
            state.records[result.status] += 1
            if result.status != "rejected":
                continue
            reasons = [rejection_reason(p.path, p.message) for p in result.errors]
            state.rejections.update(reasons)
            log.warning(
                "pulled record rejected: force=%s index=%d caseRef=%s reasons=%s",
                self.source.force,
                result.index,
                result.case_ref,
                "; ".join(f"{path or '/'}: {message}" for path, message in reasons),
            )

    def failed(self, error: PullFailed, delay: float) -> None:
        state = self.state
        state.errors += 1
        state.consecutive_errors += 1
        state.last_error = error.reason
        state.next_attempt_at = datetime.fromtimestamp(self.clock().timestamp() + delay, UTC)
        log.warning(
            "pull from force %s failed (%d in a row): %s; next attempt in %.1f s",
            self.source.force,
            state.consecutive_errors,
            error.reason,
            delay,
        )

    async def _fetch(self, since: str | None) -> Page:
        response = await self._post(since)
        if response.status_code == 401:
            self._token = None  # expired early or revoked: one fresh token
            response = await self._post(since)
        if response.status_code != 200:
            raise PullFailed(
                f"connector answered HTTP {response.status_code}",
                retry_after=_retry_after(response),
            )
        if len(response.content) > MAX_ANSWER_BYTES:
            raise PullFailed("connector answer is too large")
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PullFailed("connector answered malformed JSON") from None
        return _page(document)

    async def _post(self, since: str | None) -> httpx.Response:
        token = await self._access_token()
        body = {"query": QUERY, "variables": {"since": since, "first": self.source.page_size}}
        try:
            return await self.http.post(
                self.source.url,
                json=body,
                headers={"Authorization": f"Bearer {token}"},
                timeout=self.source.timeout,
            )
        except httpx.TimeoutException:
            raise PullFailed(f"connector did not answer within {self.source.timeout:g} s") from None
        except httpx.HTTPError as error:
            raise PullFailed(f"connector unreachable ({type(error).__name__})") from None

    async def _access_token(self) -> str:
        if self._token is not None and time.monotonic() < self._token_until:
            return self._token
        started = time.monotonic()
        try:
            secret = self.source.secret()
        except SecretUnavailable as error:
            raise PullFailed(f"client secret unavailable: {error}") from None
        form = {"grant_type": "client_credentials", "scope": self.source.scope}
        document = await self._provider_json(
            "POST", await self._token_url(), data=form, auth=(self.source.client_id, secret)
        )
        token = document.get("access_token")
        if not isinstance(token, str) or not token:
            raise PullFailed("token endpoint answered without an access token")
        lifetime = document.get("expires_in")
        lifetime = float(lifetime) if isinstance(lifetime, int | float) else 300.0
        self._token = token
        self._token_until = started + max(lifetime - TOKEN_MARGIN, lifetime / 2)
        return token

    async def _token_url(self) -> str:
        if self.source.token_url is not None:
            return self.source.token_url
        issuer = (self.source.issuer or "").rstrip("/")
        document = await self._provider_json("GET", f"{issuer}/.well-known/openid-configuration")
        endpoint = document.get("token_endpoint")
        if not isinstance(endpoint, str) or not endpoint:
            raise PullFailed("identity provider metadata names no token_endpoint")
        return endpoint

    async def _provider_json(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            response = await self.http.request(
                method, url, timeout=self.source.timeout, follow_redirects=False, **kwargs
            )
        except httpx.HTTPError as error:
            raise PullFailed(f"identity provider unreachable ({type(error).__name__})") from None
        if response.status_code != 200:
            raise PullFailed(f"identity provider answered HTTP {response.status_code}")
        try:
            document = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise PullFailed("identity provider answered malformed JSON") from None
        if not isinstance(document, dict):
            raise PullFailed("identity provider answered malformed JSON")
        return document


class Puller:
    """Pulls every configured force connector, each in its own task, until closed; a force only
    while this replica holds its lease (`lease_seconds` long; `holder` names this replica)."""

    def __init__(
        self,
        ingest: Ingest,
        sources: Sequence[PullSource],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        ready: asyncio.Event | None = None,
        after_sync: AfterSync | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        holder: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], Any] = asyncio.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._ready = ready
        self.holder = holder or replica_id()
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._tasks: list[asyncio.Task[None]] = []
        self.forces = {
            s.force: ForcePull(
                s,
                ingest,
                http=httpx.AsyncClient(transport=transport),
                clock=clock,
                after_sync=after_sync,
                lease=PullLease(ingest.store, s.force, self.holder, lease_seconds),
            )
            for s in sources
        }

    @classmethod
    def from_policy_dir(cls, policy_dir: Path, ingest: Ingest, **options: Any) -> Puller:
        """The connectors `policy_dir/pull.yaml` lists (none when absent)."""
        return cls(ingest, load_pull(policy_dir / "pull.yaml"), **options)

    async def start(self) -> None:
        for force, pull in self.forces.items():
            self._tasks.append(asyncio.create_task(self._keep(pull), name=f"lease-{force}"))
            self._tasks.append(asyncio.create_task(self._run(pull), name=f"pull-{force}"))

    async def aclose(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        for pull in self.forces.values():
            if pull.lease is not None:
                await pull.lease.release()
            await pull.http.aclose()

    async def __aenter__(self) -> Puller:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def state(self) -> dict[str, PullState]:
        """A snapshot of each force's pull state."""
        return {
            force: replace(
                pull.state,
                records=Counter(pull.state.records),
                rejections=Counter(pull.state.rejections),
            )
            for force, pull in self.forces.items()
        }

    def leases_held(self) -> dict[str, bool]:
        """Which forces this replica holds the pull lease of."""
        return {
            force: pull.lease is not None and pull.lease.held.is_set()
            for force, pull in self.forces.items()
        }

    async def _keep(self, pull: ForcePull) -> None:
        if self._ready is not None:
            await self._ready.wait()  # the graph migrated: the cursor's key exists
        if pull.lease is not None:
            await pull.lease.keep()

    async def _run(self, pull: ForcePull) -> None:
        if self._ready is not None:
            await self._ready.wait()  # the graph migrated: the cursor's key exists
        while True:
            if pull.lease is not None:
                await pull.lease.held.wait()  # another replica pulls this force meanwhile
            delay = await self._poll(pull)
            await self._sleep(delay)

    async def _poll(self, pull: ForcePull) -> float:
        """Seconds to wait before the next poll."""
        try:
            more = await pull.pull_once()
        except PullFailed as error:
            return self._fail(pull, error)
        except Exception as error:  # a bug must not end the force's pulling for good
            log.exception("pull from force %s failed unexpectedly", pull.source.force)
            return self._fail(pull, PullFailed(f"unexpected error ({type(error).__name__})"))
        delay = 0.0 if more else pull.source.interval
        pull.state.next_attempt_at = datetime.fromtimestamp(self._clock().timestamp() + delay, UTC)
        return delay

    def _fail(self, pull: ForcePull, error: PullFailed) -> float:
        delay = backoff_delay(pull.source, pull.state.consecutive_errors + 1, self._rng)
        delay = max(delay, min(error.retry_after or 0.0, pull.source.backoff.max))
        pull.failed(error, delay)
        return delay


class PullCollector(Collector):
    """Prometheus metrics of a `Puller`: `REGISTRY.register(PullCollector(puller))`."""

    def __init__(self, puller: Puller, clock: Callable[[], datetime] | None = None) -> None:
        self.puller = puller
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        states = self.puller.state().values()
        success = GaugeMetricFamily(
            "crossforce_pull_last_success_timestamp_seconds",
            "When the last page of a force connector was applied",
            labels=["force"],
        )
        lag = GaugeMetricFamily(
            "crossforce_pull_lag_seconds",
            "Seconds since the hub last caught up with a force connector's feed",
            labels=["force"],
        )
        failing = GaugeMetricFamily(
            "crossforce_pull_consecutive_errors",
            "Failed polls of a force connector since its last success",
            labels=["force"],
        )
        errors = CounterMetricFamily(
            "crossforce_pull_errors", "Failed polls of a force connector", labels=["force"]
        )
        records = CounterMetricFamily(
            "crossforce_pull_records",
            "Pulled records by ingest result",
            labels=["force", "result"],
        )
        pages = CounterMetricFamily(
            "crossforce_pull_pages",
            "Pages of a force connector's feed this replica applied",
            labels=["force"],
        )
        leased = GaugeMetricFamily(
            "crossforce_pull_lease_held",
            "1 while this replica holds the force's pull lease (one replica pulls a force)",
            labels=["force"],
        )
        for force, held in self.puller.leases_held().items():
            leased.add_metric([force], 1.0 if held else 0.0)
        rejections = CounterMetricFamily(
            "crossforce_pull_rejections",
            "Problems of rejected pulled records, by JSON pointer (indexes as *) and rule",
            labels=["force", "path", "reason"],
        )
        for state in states:
            if state.last_success is not None:
                success.add_metric([state.force], state.last_success.timestamp())
            lag.add_metric([state.force], state.lag_seconds(now))
            failing.add_metric([state.force], state.consecutive_errors)
            errors.add_metric([state.force], state.errors)
            pages.add_metric([state.force], state.pages)
            for result in ("applied", "stale", "rejected"):
                records.add_metric([state.force, result], state.records[result])
            for (path, message), count in sorted(state.rejections.items()):
                rejections.add_metric([state.force, path, message], count)
        return [success, lag, failing, errors, pages, leased, records, rejections]
