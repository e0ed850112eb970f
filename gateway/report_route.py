"""`GET /reports/{force}?period=28d&format=csv|html|pdf`: the scrutiny board's report from the web.

The same report as `crossforce report` (gateway/report.py), asked of this hub's own GraphQL schema
in process with the caller's principal, so the agreements decide what it holds exactly as they
decide the dashboard: figures and case references, never personal data. The caller needs
`oversight:read`; each report made is an `export` audit entry before it leaves.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from anyio import to_thread
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gateway.graphql.context import Context, CountingStore
from gateway.graphql.view import GraphQLView
from gateway.report import (
    FORMATS,
    MEDIA_TYPES,
    QUERY,
    gather,
    overdue_wanted,
    period_of,
    rendered,
)
from policies.audit import EXPORT, OK
from policies.bearer import bearer_token
from policies.limits import RateLimited
from policies.principal import Principal
from policies.scopes import OVERSIGHT_READ
from policies.tokens import InvalidToken

FORCE = re.compile(r"^[A-Z]{2,4}$")


def _refused(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status, headers=headers)


def report_endpoint(view: GraphQLView) -> Callable[[Request], Awaitable[Response]]:
    async def report(request: Request) -> Response:
        try:
            principal = await view.controls.admit(bearer_token(request))
        except InvalidToken as error:
            return _refused(401, str(error), {"WWW-Authenticate": "Bearer"})
        except RateLimited as error:
            return _refused(429, str(error), {"Retry-After": error.retry_after_header})
        if not principal.has(OVERSIGHT_READ):
            return _refused(403, f"a report needs the {OVERSIGHT_READ} scope")
        force = request.path_params["force"]
        fmt = request.query_params.get("format", "html")
        if not FORCE.match(force):
            return _refused(400, "force: a force code of 2 to 4 capital letters")
        if fmt not in FORMATS:
            return _refused(400, f"format: one of {', '.join(FORMATS)}")
        try:
            period = period_of(request.query_params.get("period", "28d"))
        except ValueError as error:
            return _refused(400, f"period: {error}")
        try:
            asker, now = _asker(view, principal), datetime.now(UTC)
            made = await gather(asker, force, period, now, overdue=overdue_wanted(fmt))
        except _Refused as error:
            return _refused(403 if error.code == "FORBIDDEN" else 400, str(error))
        await view.protection.audit.record(
            actor=principal,
            action=EXPORT,
            target=f"report:{force}",
            outcome=OK,
            detail=f"format={fmt} period={period.days}d",
        )
        body = await to_thread.run_sync(rendered, made, fmt)  # a PDF takes a moment of CPU
        name = f"crossforce-report-{force}-{made.end:%Y-%m-%d}.{fmt}"
        return Response(
            body,
            media_type=MEDIA_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    return report


class _Refused(Exception):
    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _asker(
    view: GraphQLView, principal: Principal
) -> Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]:
    async def ask(variables: dict[str, Any]) -> dict[str, Any]:
        context = Context(
            principal=principal,
            graph=CountingStore(view.store),
            protection=view.protection,
            region=view.region,
        )
        result = await view.schema.execute(QUERY, variables, context_value=context)
        if result.errors:
            error = view.controls.error(result.errors[0])
            code = str((error.get("extensions") or {}).get("code", ""))
            raise _Refused(str(error.get("message")), code)
        assert result.data is not None
        oversight: dict[str, Any] = result.data["oversight"]
        return oversight

    return ask
