"""Crossforce SDK: push case summaries to the hub and read its change feed, over HTTP only.

    async with CrossforceClient("https://hub.example", "force-AS", secret) as client:
        report = await client.sync(records)
        async for page in client.change_pages(since=cursor):
            ...

The client authenticates with OAuth 2 client credentials (client_secret_basic), keeps the access
token until shortly before it expires and fetches a new one once when the hub answers 401.
Records go out as gzip-compressed NDJSON in batches bounded by record count and by bytes;
a batch the hub finds too large (413) is split in half until it fits. Rate limits (429),
unavailability (502/503/504), timeouts and dropped connections are retried with exponential
backoff and full jitter, never sooner than the hub's `Retry-After`, within a bounded number of
attempts and time. Re-sending is safe: the hub answers `stale` for versions it already holds.

Errors name statuses, URLs and counts, never record contents: case summaries hold personal
data about children and suspects, and error messages end up in logs.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import re
import secrets
import time
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import quote

import httpx

CASES_PATH = "/federation/v1/cases"
CHANGES_PATH = "/federation/v1/changes"
GRAPHQL_PATH = "/graphql"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a password)

DEFAULT_BATCH_SIZE = 500
DEFAULT_BATCH_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "crossforce-sdk/0.1"

# Worth another try: the hub asked us to slow down or is briefly unavailable, or a proxy in front
# of it is. A 500 is not retried: it is a bug, and the same body would meet the same bug.
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
# Transient transport failures. Others (unsupported scheme, proxy misconfiguration) will not heal.
RETRYABLE_TRANSPORT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
)
# OAuth error codes are short ASCII tokens; anything else in an error body is not repeated.
_OAUTH_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")
_SYSTEM_RANDOM = secrets.SystemRandom()

RecordStatus = Literal["applied", "stale", "rejected"]
_STATUSES: frozenset[str] = frozenset({"applied", "stale", "rejected"})


# --- errors -------------------------------------------------------------------------------------


class CrossforceError(Exception):
    """Base of the SDK's errors. `report` holds what a sync achieved before the error, if any."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.report: SyncReport | None = None


class AuthError(CrossforceError):
    """Credentials or permissions refused: by the token endpoint, by the hub (401 after a fresh
    token) or for the scope or force (403). Retrying will not help; fix the configuration."""


class SyncError(CrossforceError):
    """A call to the hub failed for good: a malformed request (400), an answer the SDK does not
    understand, or an unexpected status."""


class HubUnavailable(SyncError):
    """The hub could not be reached, or stayed rate-limited or unavailable, for the whole retry
    budget. Nothing is lost: re-running the sync later is safe."""


# --- records, results, reports ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordError:
    """One problem with a record: a JSON pointer into it ("" for the whole record) and why."""

    path: str
    message: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """A rejected record: its index in the input (0-based, over everything passed to `sync`)."""

    index: int
    case_ref: str | None
    errors: tuple[RecordError, ...]


@dataclass(frozen=True, slots=True)
class InvalidRecord:
    """Stands in for an input item that could not be read as a case summary (a line that is not
    JSON, say). `sync` reports it rejected at its place in the input and never sends it, so the
    indexes in the report stay those of the input."""

    message: str
    case_ref: str | None = None


@dataclass(frozen=True, slots=True)
class SyncProgress:
    """Running totals, handed to `on_progress` after every batch."""

    processed: int
    applied: int
    stale: int
    rejected: int
    elapsed: float

    @property
    def records_per_second(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(slots=True)
class SyncReport:
    """What a sync did. `rejections` are in input order."""

    applied: int = 0
    stale: int = 0
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    elapsed: float = 0.0
    requests: int = 0  # POSTs the hub answered with results, split halves included

    @property
    def processed(self) -> int:
        return self.applied + self.stale + self.rejected

    @property
    def records_per_second(self) -> float:
        return self.processed / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def ok(self) -> bool:
        """Every record was applied or already held (stale)."""
        return self.rejected == 0

    def progress(self) -> SyncProgress:
        return SyncProgress(self.processed, self.applied, self.stale, self.rejected, self.elapsed)

    def _reject(self, rejection: Rejection) -> None:
        self.rejected += 1
        self.rejections.append(rejection)


@dataclass(frozen=True, slots=True)
class ChangesPage:
    """One page of the change feed; pass `next` as `since` to read on from here."""

    changes: list[dict[str, Any]]
    next: str | None


# --- retries ------------------------------------------------------------------------------------


def full_jitter(cap: float) -> float:
    """A uniformly random delay in [0, cap] ("full jitter"): spreads out clients that failed
    together, so they do not all come back at the same moment."""
    return _SYSTEM_RANDOM.uniform(0.0, cap)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying a call that failed transiently: at most `max_attempts` attempts,
    and no wait that would end more than `max_elapsed` seconds after the first attempt."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_elapsed: float = 120.0
    jitter: Callable[[float], float] = full_jitter

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based).

        Exponential backoff with full jitter, but never sooner than the hub's Retry-After: it
        knows when it will have capacity, and jitter alone could bring us back too early.
        """
        cap = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        backoff = self.jitter(cap)
        return backoff if retry_after is None else max(backoff, retry_after)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delay-seconds or an HTTP date (RFC 9110 10.2.3).

    None when absent or unreadable; never negative (a date in the past means "now").
    """
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


# --- batching -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    """Encoded records on their way to the hub, with their input indexes."""

    indexes: list[int] = field(default_factory=list)
    case_refs: list[str | None] = field(default_factory=list)
    lines: list[bytes] = field(default_factory=list)
    size: int = 0
    # Unreadable input items met while filling this batch: reported with it, never sent.
    local_rejections: list[Rejection] = field(default_factory=list)

    def add(self, index: int, case_ref: str | None, line: bytes) -> None:
        self.indexes.append(index)
        self.case_refs.append(case_ref)
        self.lines.append(line)
        self.size += len(line)

    def halves(self) -> tuple[_Batch, _Batch]:
        middle = len(self.lines) // 2
        first, second = _Batch(), _Batch()
        for part, chosen in ((first, slice(None, middle)), (second, slice(middle, None))):
            for index, case_ref, line in zip(
                self.indexes[chosen], self.case_refs[chosen], self.lines[chosen], strict=True
            ):
                part.add(index, case_ref, line)
        return first, second

    def __len__(self) -> int:
        return len(self.lines) + len(self.local_rejections)


def encode_record(record: Mapping[str, Any]) -> bytes:
    """One NDJSON line: compact UTF-8 JSON and a newline. Raises TypeError or ValueError."""
    text = json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8") + b"\n"


def _case_ref(record: Any) -> str | None:
    if isinstance(record, Mapping):
        case_ref = record.get("caseRef")
        if isinstance(case_ref, str):
            return case_ref
    return None


async def _each(
    records: Iterable[Mapping[str, Any] | InvalidRecord]
    | AsyncIterable[Mapping[str, Any] | InvalidRecord],
) -> AsyncIterator[Mapping[str, Any] | InvalidRecord]:
    if isinstance(records, AsyncIterable):
        async for record in records:
            yield record
    else:
        for record in records:
            yield record


async def _batches(
    records: Iterable[Mapping[str, Any] | InvalidRecord]
    | AsyncIterable[Mapping[str, Any] | InvalidRecord],
    max_records: int,
    max_bytes: int,
) -> AsyncIterator[_Batch]:
    """Group records into batches of at most `max_records` records and `max_bytes` bytes of NDJSON.

    A record larger than `max_bytes` on its own still goes out, alone: the hub's limit may be
    higher than ours, and if it is not, its 413 gets the record reported rejected.
    """
    batch = _Batch()
    async for index, record in _enumerate(_each(records)):
        if isinstance(record, InvalidRecord):
            error = RecordError("", record.message)
            batch.local_rejections.append(Rejection(index, record.case_ref, (error,)))
            continue
        if not isinstance(record, Mapping):
            error = RecordError("", "not a JSON object")
            batch.local_rejections.append(Rejection(index, None, (error,)))
            continue
        try:
            line = encode_record(record)
        except (TypeError, ValueError, RecursionError) as problem:
            # json's messages name types ("Object of type datetime ..."), never values.
            error = RecordError("", f"not serialisable as JSON: {problem}")
            batch.local_rejections.append(Rejection(index, _case_ref(record), (error,)))
            continue
        if batch.lines and batch.size + len(line) > max_bytes:
            yield batch
            batch = _Batch()
        batch.add(index, _case_ref(record), line)
        if len(batch.lines) >= max_records:
            yield batch
            batch = _Batch()
    if len(batch):
        yield batch


async def _enumerate(items: AsyncIterator[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


# --- the client ---------------------------------------------------------------------------------


Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]
ProgressCallback = Callable[[SyncProgress], None]


class CrossforceClient:
    """An async client of the hub's federation API for one force system (a `sync:write` client).

    Use it as an async context manager, or call `aclose()`. `http_client` lets a caller share a
    connection pool or plug in a transport; the client then leaves closing it to the caller.
    `sleep` and `clock` exist so tests can observe waits without waiting.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        scope: str | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_batch_bytes: int = DEFAULT_BATCH_BYTES,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        refresh_margin: float = 30.0,
        http_client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        if batch_size < 1 or max_batch_bytes < 1:
            raise ValueError("batch_size and max_batch_bytes must be positive")
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self.token_url = token_url or f"{self.base_url}{TOKEN_PATH}"
        self.scope = scope
        self.batch_size = batch_size
        self.max_batch_bytes = max_batch_bytes
        self.retry = retry or RetryPolicy()
        self.refresh_margin = refresh_margin
        self._client_secret = client_secret
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=timeout, headers={"User-Agent": USER_AGENT}
        )
        self._sleep = sleep
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._token_lock = asyncio.Lock()

    async def __aenter__(self) -> CrossforceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:  # the secret stays out of reprs, and so out of tracebacks
        return f"CrossforceClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    # --- tokens ---------------------------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid access token: the cached one, or a new one when it is about to expire."""
        async with self._token_lock:
            if self._token is None or self._clock() >= self._refresh_at:
                await self._fetch_token()
            assert self._token is not None
            return self._token

    async def _renew_token(self, refused: str) -> None:
        """Replace a token the hub refused, unless another call has already replaced it."""
        async with self._token_lock:
            if self._token == refused:
                await self._fetch_token()

    async def _fetch_token(self) -> None:
        requested_at = self._clock()
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        # client_secret_basic: both parts form-urlencoded first (RFC 6749 2.3.1).
        credentials = f"{quote(self.client_id, safe='')}:{quote(self._client_secret, safe='')}"
        headers = {
            "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode("ascii"),
            "Accept": "application/json",
        }
        what = f"token request to {self.token_url}"

        async def attempt() -> httpx.Response:
            return await self._http.post(self.token_url, data=form, headers=headers)

        response = await self._retrying(what, attempt)
        if response.status_code != 200:
            raise AuthError(
                f"{what} for client {self.client_id!r} refused "
                f"({response.status_code}{_oauth_error(response)})",
                status=response.status_code,
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        token = payload.get("access_token") if isinstance(payload, dict) else None
        token_type = payload.get("token_type", "Bearer") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token or str(token_type).lower() != "bearer":
            raise AuthError(f"{what}: the answer held no bearer access token", status=200)
        expires_in = payload.get("expires_in") if isinstance(payload, dict) else None
        self._token = token
        if isinstance(expires_in, int | float) and not isinstance(expires_in, bool):
            # Measured from before the request, and renewed early, so a token never expires in
            # flight; the margin shrinks for short-lived tokens so they are still used at all.
            margin = min(self.refresh_margin, float(expires_in) / 2)
            self._refresh_at = requested_at + float(expires_in) - margin
        else:
            self._refresh_at = float("inf")  # no lifetime given: keep it until the hub says 401

    # --- requests -------------------------------------------------------------------------------

    async def _retrying(
        self, what: str, attempt_once: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        """Run `attempt_once` until it gets an answer that is not transient, within the policy."""
        started = self._clock()
        deadline = started + self.retry.max_elapsed
        attempt = 0
        while True:
            attempt += 1
            status: int | None = None
            retry_after: float | None = None
            try:
                response = await attempt_once()
            except RETRYABLE_TRANSPORT_ERRORS as error:
                last = _describe_transport_error(error)
            except httpx.TransportError as error:
                raise HubUnavailable(f"{what}: {_describe_transport_error(error)}") from None
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    return response
                status = response.status_code
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                last = f"HTTP {status}"
                if retry_after is not None:
                    last += f" with Retry-After {retry_after:.0f} s"
            delay = self.retry.delay(attempt, retry_after)
            if attempt >= self.retry.max_attempts or self._clock() + delay > deadline:
                elapsed = self._clock() - started
                raise HubUnavailable(
                    f"{what}: gave up after {attempt} attempt(s) in {elapsed:.1f} s "
                    f"(retry budget {self.retry.max_attempts} attempts, "
                    f"{self.retry.max_elapsed:.0f} s); last: {last}",
                    status=status,
                )
            await self._sleep(delay)

    async def _authorized(
        self,
        method: str,
        url: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A call to the hub with a bearer token, retried when transient; one new token on 401."""
        what = f"{method} {url}"
        used = ""

        async def attempt() -> httpx.Response:
            nonlocal used
            used = await self.access_token()
            return await self._http.request(
                method,
                url,
                content=content,
                params=params,
                headers={**(headers or {}), "Authorization": f"Bearer {used}"},
            )

        response = await self._retrying(what, attempt)
        if response.status_code == 401:
            # Revoked, or expired early by clock skew between us and the hub: one fresh token.
            await self._renew_token(used)
            response = await self._retrying(what, attempt)
            if response.status_code == 401:
                raise AuthError(f"{what}: the hub refused a freshly issued token (401)", status=401)
        if response.status_code == 403:
            raise AuthError(
                f"{what}: client {self.client_id!r} is not allowed this (403: scope or force)",
                status=403,
            )
        return response

    # --- sync -----------------------------------------------------------------------------------

    async def sync(
        self,
        records: Iterable[Mapping[str, Any] | InvalidRecord]
        | AsyncIterable[Mapping[str, Any] | InvalidRecord],
        *,
        on_progress: ProgressCallback | None = None,
    ) -> SyncReport:
        """Push case summaries to the hub; a report of what it applied, found stale or rejected.

        Records are read lazily, so a generator over a large file is never held whole. Raises
        AuthError or SyncError (HubUnavailable when retries ran out), with `error.report`
        holding what was done before; re-running is safe.
        """
        report = SyncReport()
        started = self._clock()
        try:
            async for batch in _batches(records, self.batch_size, self.max_batch_bytes):
                for rejection in batch.local_rejections:
                    report._reject(rejection)
                if batch.lines:
                    await self._post_batch(batch, report)
                report.elapsed = self._clock() - started
                if on_progress is not None:
                    on_progress(report.progress())
        except CrossforceError as error:
            error.report = _finish(report, self._clock() - started)
            raise
        return _finish(report, self._clock() - started)

    async def _post_batch(self, batch: _Batch, report: SyncReport) -> None:
        url = f"{self.base_url}{CASES_PATH}"
        body = gzip.compress(b"".join(batch.lines), compresslevel=6, mtime=0)
        response = await self._authorized(
            "POST",
            url,
            content=body,
            headers={
                "Content-Type": "application/x-ndjson",
                "Content-Encoding": "gzip",
                "Accept": "application/json",
            },
        )
        status = response.status_code
        if status == 413:
            if len(batch.lines) == 1:
                error = RecordError("", "record larger than the hub accepts (413)")
                report._reject(Rejection(batch.indexes[0], batch.case_refs[0], (error,)))
                return
            for half in batch.halves():
                await self._post_batch(half, report)
            return
        if status in (200, 422):  # 422: every record rejected, still one result each
            _count_results(response, batch, report, f"POST {url}")
            return
        if status == 400:
            raise SyncError(f"POST {url}: the hub found the request malformed (400)", status=400)
        raise SyncError(f"POST {url}: unexpected answer {status}", status=status)

    # --- change feed ----------------------------------------------------------------------------

    async def changes(self, since: str | None = None) -> ChangesPage:
        """One page of what the hub learned that concerns this force, after cursor `since`."""
        url = f"{self.base_url}{CHANGES_PATH}"
        params = {"since": since} if since is not None else None
        response = await self._authorized(
            "GET", url, params=params, headers={"Accept": "application/json"}
        )
        what = f"GET {url}"
        if response.status_code == 400:
            raise SyncError(f"{what}: the hub did not accept the cursor (400)", status=400)
        if response.status_code != 200:
            raise SyncError(
                f"{what}: unexpected answer {response.status_code}", status=response.status_code
            )
        try:
            payload = response.json()
        except ValueError:
            payload = None
        changes = payload.get("changes") if isinstance(payload, dict) else None
        cursor = payload.get("next") if isinstance(payload, dict) else None
        if (
            not isinstance(changes, list)
            or not all(isinstance(item, dict) for item in changes)
            or not (cursor is None or isinstance(cursor, str))
        ):
            raise SyncError(f"{what}: the answer is not a changes page", status=200)
        return ChangesPage(changes=changes, next=cursor)

    async def graphql(
        self, document: str, variables: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The `data` of a GraphQL operation; on errors, `CrossforceError` with their messages."""
        url = f"{self.base_url}{GRAPHQL_PATH}"
        body = json.dumps({"query": document, "variables": dict(variables or {})}).encode()
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/graphql-response+json",
        }
        response = await self._authorized("POST", url, content=body, headers=headers)
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if not isinstance(payload, dict):
            raise CrossforceError(f"POST {url}: answer {response.status_code} is not GraphQL",
                                  status=response.status_code)  # fmt: skip
        if payload.get("errors"):
            messages = "; ".join(str(e.get("message")) for e in payload["errors"])
            raise CrossforceError(f"POST {url}: {messages}", status=response.status_code)
        data = payload.get("data")
        return data if isinstance(data, dict) else {}

    async def change_pages(self, since: str | None = None) -> AsyncIterator[ChangesPage]:
        """Every page from cursor `since` on, ending with the first empty one (or one with no
        cursor to go on from). Keep the last page's `next` to resume from there later."""
        cursor = since
        while True:
            page = await self.changes(cursor)
            yield page
            if not page.changes or page.next is None or page.next == cursor:
                return
            cursor = page.next


def _finish(report: SyncReport, elapsed: float) -> SyncReport:
    report.elapsed = elapsed
    # Unreadable items are reported when their batch goes out, so restore input order.
    report.rejections.sort(key=lambda rejection: rejection.index)
    return report


def _count_results(response: httpx.Response, batch: _Batch, report: SyncReport, what: str) -> None:
    """Add the hub's per-record results to the report, at the records' input indexes."""
    try:
        payload = response.json()
    except ValueError:
        payload = None
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != len(batch.lines):
        raise SyncError(
            f"{what}: the answer ({response.status_code}) does not hold one result per record",
            status=response.status_code,
        )
    # Check the whole answer before counting any of it, so a bad answer leaves no half count.
    outcomes: list[tuple[int, str, str | None, tuple[RecordError, ...]]] = []
    seen: set[int] = set()
    for result in results:
        position = result.get("index") if isinstance(result, dict) else None
        status = result.get("status") if isinstance(result, dict) else None
        if (
            not isinstance(result, dict)
            or not isinstance(position, int)
            or isinstance(position, bool)
            or not 0 <= position < len(batch.lines)
            or position in seen
            or status not in _STATUSES
        ):
            raise SyncError(f"{what}: the answer holds a result the SDK cannot place", status=200)
        seen.add(position)
        case_ref = result.get("caseRef")
        if not isinstance(case_ref, str):
            case_ref = batch.case_refs[position]
        outcomes.append((position, str(status), case_ref, _record_errors(result.get("errors"))))
    for position, status, case_ref, errors in outcomes:
        if status == "applied":
            report.applied += 1
        elif status == "stale":
            report.stale += 1
        else:
            report._reject(Rejection(batch.indexes[position], case_ref, errors))
    report.requests += 1


def _record_errors(raw: Any) -> tuple[RecordError, ...]:
    if not isinstance(raw, list):
        return ()
    errors = []
    for item in raw:
        if isinstance(item, dict):
            errors.append(RecordError(str(item.get("path", "")), str(item.get("message", ""))))
    return tuple(errors)


def _oauth_error(response: httpx.Response) -> str:
    """`: invalid_client` and the like; only a well-formed OAuth error code is repeated."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    code = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(code, str) and _OAUTH_ERROR_CODE.match(code):
        return f": {code}"
    return ""


def _describe_transport_error(error: httpx.TransportError) -> str:
    detail = str(error)[:200]
    return f"{type(error).__name__}: {detail}" if detail else type(error).__name__
