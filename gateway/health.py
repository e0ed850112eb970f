"""Liveness and readiness: `/healthz` says the process runs, `/readyz` that the graph answers."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse

from graph import GraphStore, GraphUnavailable


async def healthz(_: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    store: GraphStore = request.app.state.graph
    migrated: asyncio.Event = request.app.state.migrated
    try:
        await store.ping()
    except GraphUnavailable:
        return JSONResponse({"status": "unavailable", "graph": "unreachable"}, status_code=503)
    if not migrated.is_set():
        return JSONResponse({"status": "starting", "graph": "migrating"}, status_code=503)
    return JSONResponse({"status": "ready", "graph": store.engine})
