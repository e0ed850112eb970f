"""The force-facing HTTP API: `POST /federation/v1/cases`, `POST /federation/v1/referrals` and
`GET /federation/v1/changes`.

Read-your-writes across replicas (graph/bookmarks.py): on Neo4j a sync's answer carries the
`Crossforce-Bookmark` header naming what it committed (a referral import's too); a change-feed
read (or a GraphQL request, gateway/graphql/view.py) that sends it back, to any replica, reads
the graph only once that commit is visible there, and a change-feed read also waits (ten seconds
at most) until the force's cases are through the after-sync step, which the replica that took
the sync runs. On FalkorDB, one server, every read sees every committed write: no header is
sent, and one received is checked (400 when malformed) and otherwise ignored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from federation import changes
from federation.after_sync import AfterSync, run_after_sync, settled_for
from federation.body import BodyError, records
from federation.contacts import officer_contacts
from federation.ingest import Ingest, Result
from federation.metrics import count_records, count_refused
from federation.problems import problem, problem_for_status
from federation.referrals.case_refs import CaseRefs
from federation.referrals.posted import ReferralImport
from graph import GraphUnavailable
from graph.bookmarks import BadBookmark, causal_scope, parse_token
from policies.audit import AuditUnavailable
from policies.bearer import authenticate
from policies.crypto import FieldCipher
from policies.limits import RateLimited, RateLimiter
from policies.principal import Principal
from policies.scopes import SYNC_WRITE, Forbidden, require
from policies.sharing import PolicyHolder
from policies.tokens import InvalidToken, TokenValidator

RETRY_AFTER_SECONDS = 5
FEDERATION_PREFIX = "/federation/"
BOOKMARK_HEADER = "Crossforce-Bookmark"


def bookmarks_sent(request: Request) -> frozenset[str]:
    """The bookmarks a request sends back (none without the header); `BadBookmark` when the
    header is not one a hub made."""
    token = request.headers.get(BOOKMARK_HEADER)
    return frozenset() if token is None else parse_token(token.strip())


def bad_bookmark(error: BadBookmark) -> JSONResponse:
    return problem("bad-bookmark", str(error))


def unavailable() -> JSONResponse:
    return problem(
        "unavailable",
        "graph unavailable; nothing of this request was acknowledged, retry later",
        {"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def body_problem(error: BodyError) -> JSONResponse:
    return problem_for_status(error.status, error.message)


# What refuses a request before any of its records is applied, on every route.
REFUSALS = (InvalidToken, RateLimited, Forbidden, GraphUnavailable, AuditUnavailable)


def refused(error: Exception) -> Response:
    """The answer to a request refused before any record was applied, counted by why."""
    if isinstance(error, InvalidToken):
        count_refused("unauthorised")
        return _unauthorised(error)
    if isinstance(error, RateLimited):
        count_refused("rate_limited")
        return rate_limited(error)
    if isinstance(error, Forbidden):
        count_refused("forbidden")
        return problem("forbidden", str(error))
    count_refused("unavailable")
    return unavailable()


@dataclass
class FederationAPI:
    ingest: Ingest
    validator: TokenValidator
    cipher: FieldCipher
    sharing: PolicyHolder
    max_body_bytes: int
    case_refs: CaseRefs  # how imported referrals' cases are named (federation/referrals/)
    # Called with the keys of the cases a request applied, once they have committed.
    after_sync: AfterSync | None = None
    # Awaited before a change-feed page is read: what this hub's syncs handed to the after-sync
    # step so far is on the feed by then (a force reads the alerts of its own sync).
    settle: Callable[[], Awaitable[None]] | None = None
    limiter: RateLimiter | None = None
    max_referral_bytes: int = 16 * 1024 * 1024

    def routes(self) -> list[Route]:
        return [
            Route("/federation/v1/cases", self.post_cases, methods=["POST"]),
            Route("/federation/v1/referrals", self.post_referrals, methods=["POST"]),
            Route("/federation/v1/changes", self.get_changes, methods=["GET"]),
        ]

    async def _sync_principal(self, request: Request) -> Principal:
        principal = await authenticate(request, self.validator)
        require(principal, SYNC_WRITE)
        if principal.force is None:
            raise Forbidden("token acts for no force")
        if self.limiter is not None:
            self.limiter.check(principal.client_id, request.url.path)
        return principal

    async def post_cases(self, request: Request) -> Response:
        try:
            principal = await self._sync_principal(request)
            declared = request.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > self.max_body_bytes:
                count_refused("bad_body")
                return problem("too-large", f"body larger than {self.max_body_bytes} bytes")
            encoding = request.headers.get("content-encoding", "identity").lower()
            if encoding not in ("identity", "gzip"):
                count_refused("bad_body")
                return problem("unsupported-encoding", "content-encoding must be gzip or identity")
            items = records(request.stream(), gzipped=encoding == "gzip", limit=self.max_body_bytes)
            with causal_scope() as scope:
                results = await self.ingest.apply(principal, items)
        except BodyError as error:
            count_refused("bad_body")
            return body_problem(error)
        except REFUSALS as error:
            return refused(error)
        headers = await self._applied(request, principal, results, scope.token())
        body: dict[str, Any] = {"results": [r.as_dict() for r in results]}
        all_rejected = all(r.status == "rejected" for r in results)
        return JSONResponse(body, status_code=422 if all_rejected else 200, headers=headers)

    async def _applied(
        self, request: Request, principal: Principal, results: list[Result], bookmark: str | None
    ) -> dict[str, str] | None:
        """What follows every applied batch: metrics, the route's budget of records, the
        after-sync step; the answer's headers (the bookmark of the commit, on Neo4j)."""
        count_records(principal.force or "", (r.status for r in results))
        if self.limiter is not None:  # the route's budget of records, as well as of requests
            self.limiter.charge(principal.client_id, request.url.path, len(results))
        await run_after_sync(self.after_sync, principal.force or "", results)
        return {BOOKMARK_HEADER: bookmark} if bookmark else None

    async def post_referrals(self, request: Request) -> Response:
        """A referral file in another body's format, imported as the caller's case summaries:
        all of it, or (with `partial=true`) the referrals that can be mapped."""
        try:
            principal = await self._sync_principal(request)
            referrals = ReferralImport(self.ingest, self.max_referral_bytes, self.case_refs)
            with causal_scope() as scope:
                imported = await referrals.run(
                    principal,
                    request.stream(),
                    format_name=request.query_params.get("format", ""),
                    partial=request.query_params.get("partial", "false").lower() == "true",
                    declared_length=request.headers.get("content-length"),
                )
        except REFUSALS as error:
            return refused(error)
        if imported.refusal is not None:
            count_refused("bad_body")
            return imported.refusal
        headers = await self._applied(request, principal, imported.results, scope.token())
        status = 200 if imported.any_kept else 422
        return JSONResponse(imported.body(), status_code=status, headers=headers)

    async def get_changes(self, request: Request) -> Response:
        try:
            principal = await self._sync_principal(request)
            since = changes.parse_cursor(request.query_params.get("since"))
            after = bookmarks_sent(request)
            if self.settle is not None:
                await self.settle()
            with causal_scope(after):
                if after and self.ingest.store.engine == "neo4j":
                    # The sync it names may have been answered, and its step run, elsewhere.
                    await settled_for(self.ingest.store, principal.force or "")
                page = await changes.page(self.ingest.store, principal.force or "", since)
                shown = changes.told(page.changes, self.sharing, principal)
                contacts = await officer_contacts(
                    self.ingest.store,
                    self.cipher,
                    self.sharing,
                    principal,
                    [c.other_key for c in shown if c.other_key],
                )
        except InvalidToken as error:
            return _unauthorised(error)
        except RateLimited as error:
            return rate_limited(error)
        except Forbidden as error:
            return problem("forbidden", str(error))
        except BadBookmark as error:
            return bad_bookmark(error)
        except ValueError as error:
            return problem("bad-cursor", str(error))
        except GraphUnavailable:
            return unavailable()
        items = []
        for change in shown:
            item = change.wire()
            if change.other_key in contacts:
                item["contact"] = contacts[change.other_key]
            items.append(item)
        return JSONResponse({"changes": items, "next": page.next})


def rate_limited(error: RateLimited) -> JSONResponse:
    return problem("rate-limited", str(error), {"Retry-After": error.retry_after_header})


def _unauthorised(error: InvalidToken) -> JSONResponse:
    return problem("unauthorised", str(error), {"WWW-Authenticate": 'Bearer error="invalid_token"'})
