"""Liveness and readiness: `/healthz` says the process runs, `/readyz` that the graph answers
and this replica's read model (gateway/region.py) has loaded every case's facts, so that its
first answers are the region's figures, not those of an empty index.

Readiness never fails with a 500: whatever stops the graph from answering (unreachable, out of
disk, an unexpected error) is a 503 with a short reason, so an orchestrator takes the replica
out of service and an operator reads why, while the details go to the log."""

from __future__ import annotations

import asyncio
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse

from gateway.region import RegionFacts
from graph import GraphStore, GraphUnavailable

log = logging.getLogger("crossforce.health")


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


def _not_ready(status: str, graph: str) -> JSONResponse:
    return JSONResponse(
        {"status": status, "graph": graph}, status_code=503, headers={"Retry-After": "5"}
    )


def _reason(error: GraphUnavailable) -> str:
    """One of a few fixed words: an engine's own message is not repeated to callers."""
    message = str(error)
    for sign, reason in (("refuses writes", "refuses writes"), ("timed out", "timed out")):
        if sign in message:
            return reason
    return "unreachable"


async def readyz(request: Request) -> JSONResponse:
    store: GraphStore | None = getattr(request.app.state, "graph", None)
    migrated: asyncio.Event | None = getattr(request.app.state, "migrated", None)
    if store is None or migrated is None:
        return _not_ready("starting", "not opened")
    try:
        await store.ping()
    except GraphUnavailable as error:
        return _not_ready("unavailable", _reason(error))
    except Exception as error:  # readiness answers; the log keeps the kind of failure
        log.warning("readiness check failed: %s", type(error).__name__)
        return _not_ready("unavailable", "error")
    if not migrated.is_set():
        return _not_ready("starting", "migrating")
    region: RegionFacts | None = getattr(request.app.state, "region", None)
    if region is None or not region.loaded:
        return JSONResponse(
            {"status": "starting", "graph": store.engine, "caseFacts": "loading"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready", "graph": store.engine})
