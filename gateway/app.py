"""The composition root: builds the Starlette app from settings, wiring graph, policies and APIs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from gateway.config import Settings
from gateway.health import healthz, readyz
from graph import GraphConnection, open_graph


def create_app(settings: Settings | None = None, *, graph: GraphConnection | None = None) -> Starlette:
    """`graph` lets a caller (tests, the demo) share one running engine with the app."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        connection = graph or open_graph(
            settings.graph_uri,
            data_dir=settings.data_dir,
            user=settings.graph_user,
            password=settings.graph_password,
            query_timeout=settings.graph_query_timeout,
            retry_for=settings.graph_retry_for,
        )
        try:
            await connection.store.migrate()
            app.state.graph = connection.store
            yield
        finally:
            if graph is None:
                await connection.close()

    routes = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    return app
