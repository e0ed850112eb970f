"""The async client of the hub's federation API, for one force system (a `sync:write` client).

    async with CrossforceClient("https://hub.example", "force-AS", secret) as client:
        report = await client.sync(records)
        async for page in client.change_pages(since=cursor):
            ...

Records go out as gzip-compressed NDJSON in batches; a batch the hub finds too large (413) is
split in half until it fits. Transient failures are retried (crossforce_sdk.retries); a 401 gets
one fresh token (crossforce_sdk.tokens). Re-sending is safe: the hub answers `stale` for versions
it already holds.

Read-your-writes across hub replicas: a sync's answer may carry a `Crossforce-Bookmark` header
(a hub on Neo4j sends one); the client keeps the last one and sends it with its next change-feed
or GraphQL read, so that read sees the sync whichever replica answers it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import httpx

from crossforce_sdk.errors import AuthError, CrossforceError, SyncError
from crossforce_sdk.records import (
    STATUSES,
    Batch,
    ChangesPage,
    InvalidRecord,
    RecordError,
    Rejection,
    SyncProgress,
    SyncReport,
    batches,
)
from crossforce_sdk.retries import RetryPolicy, Sleep, screened, with_retries
from crossforce_sdk.tokens import ClientCredentials, Clock

CASES_PATH = "/federation/v1/cases"
CHANGES_PATH = "/federation/v1/changes"
GRAPHQL_PATH = "/graphql"
TOKEN_PATH = "/oauth/token"  # noqa: S105 (a path, not a password)
BOOKMARK_HEADER = "Crossforce-Bookmark"

DEFAULT_BATCH_SIZE = 500
DEFAULT_BATCH_BYTES = 4 * 1024 * 1024
DEFAULT_TIMEOUT = httpx.Timeout(60.0, connect=10.0)
USER_AGENT = "crossforce-sdk/0.1"

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
        headers = {"User-Agent": USER_AGENT}
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=timeout, headers=headers)
        self._sleep = sleep
        self._clock = clock
        # The bookmark of the last sync that returned one: what the next read waits for.
        self.bookmark: str | None = None
        self._tokens = ClientCredentials(
            self.token_url,
            client_id,
            client_secret,
            scope=scope,
            retry=self.retry,
            timeout=timeout,
            headers=headers,
            refresh_margin=refresh_margin,
            sleep=sleep,
            clock=clock,
        )

    async def __aenter__(self) -> CrossforceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._tokens.aclose()
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:  # the secret stays out of reprs, and so out of tracebacks
        return f"CrossforceClient(base_url={self.base_url!r}, client_id={self.client_id!r})"

    async def access_token(self) -> str:
        """A valid access token: the cached one, or a new one when it is about to expire."""
        return await self._tokens.current()

    # --- requests -------------------------------------------------------------------------------

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
            response = await self._http.request(
                method,
                url,
                content=content,
                params=params,
                headers={**(headers or {}), "Authorization": f"Bearer {used}"},
            )
            return screened(response)

        response = await with_retries(what, attempt, self.retry, self._sleep)
        if response.status_code == 401:
            # Revoked, or expired early by clock skew between us and the hub: one fresh token.
            await self._tokens.renew(used)
            response = await with_retries(what, attempt, self.retry, self._sleep)
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
            async for batch in batches(records, self.batch_size, self.max_batch_bytes):
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

    async def _post_batch(self, batch: Batch, report: SyncReport) -> None:
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
            self.bookmark = response.headers.get(BOOKMARK_HEADER) or self.bookmark
            return
        if status == 400:
            raise SyncError(f"POST {url}: the hub found the request malformed (400)", status=400)
        raise SyncError(f"POST {url}: unexpected answer {status}", status=status)

    async def _read(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        content: bytes | None = None,
        params: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A read sent with the last sync's bookmark. A hub that refuses the bookmark (one made
        by a hub on another graph) is asked again without it, and the bookmark is dropped."""
        bookmark = self.bookmark
        sent = {**headers, BOOKMARK_HEADER: bookmark} if bookmark else headers
        response = await self._authorized(method, url, headers=sent, content=content, params=params)
        if bookmark and response.status_code == 400 and _bookmark_refused(response):
            if self.bookmark == bookmark:
                self.bookmark = None
            response = await self._authorized(
                method, url, headers=headers, content=content, params=params
            )
        return response

    # --- change feed ----------------------------------------------------------------------------

    async def changes(self, since: str | None = None) -> ChangesPage:
        """One page of what the hub learned that concerns this force, after cursor `since`."""
        url = f"{self.base_url}{CHANGES_PATH}"
        params = {"since": since} if since is not None else None
        response = await self._read(
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
        response = await self._read("POST", url, content=body, headers=headers)
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


def _bookmark_refused(response: httpx.Response) -> bool:
    try:
        payload = response.json()
    except ValueError:
        return False
    if not isinstance(payload, dict):
        return False
    kind = str(payload.get("type", ""))
    codes = [e.get("extensions", {}).get("code") for e in payload.get("errors") or []
             if isinstance(e, dict) and isinstance(e.get("extensions"), dict)]  # fmt: skip
    return kind.endswith(":bad-bookmark") or "BAD_BOOKMARK" in codes


def _finish(report: SyncReport, elapsed: float) -> SyncReport:
    report.elapsed = elapsed
    # Unreadable items are reported when their batch goes out, so restore input order.
    report.rejections.sort(key=lambda rejection: rejection.index)
    return report


def _count_results(response: httpx.Response, batch: Batch, report: SyncReport, what: str) -> None:
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
            or status not in STATUSES
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
