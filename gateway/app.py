"""The composition root: builds the Starlette app from settings, wiring graph, policies and APIs."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

from prometheus_client import REGISTRY
from starlette.applications import Starlette
from starlette.datastructures import State
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute

from federation.after_sync import after_sync_queue
from federation.ingest import Ingest
from federation.intake import IntakeWatch
from federation.openapi import openapi_route
from federation.problems import problem_for_status
from federation.pull import PullCollector, Puller
from federation.reseal import Resealer, run_periodically
from federation.routes import FEDERATION_PREFIX, FederationAPI
from gateway import upkeep
from gateway.config import Settings, open_configured_graph
from gateway.graphql.schema import build_schema
from gateway.graphql.view import GraphQLView
from gateway.health import healthz, readyz
from gateway.observability import install
from gateway.protection import build_protection
from gateway.region import RegionFacts
from gateway.report_route import report_endpoint
from gateway.web import web_routes
from graph import GraphConnection, GraphStore, GraphUnavailable
from graph.metrics import MeasuredGraphStore
from graph.retry import UNTIL_REACHABLE
from policies.case_rules import load_case_rules
from policies.devidp import require_external_issuer

log = logging.getLogger("crossforce.gateway")


async def migrate_when_reachable(store: GraphStore, ready: asyncio.Event) -> None:
    """Apply migrations as soon as the graph answers; until then the hub is not ready."""

    def unreachable(error: BaseException) -> bool:
        return isinstance(error, GraphUnavailable)

    def waiting(_: BaseException, delay: float) -> None:
        log.warning("graph unreachable; retrying migrations in %.1f s", delay)

    async for attempt in UNTIL_REACHABLE.attempts(unreachable, on_retry=waiting):
        with attempt:
            await store.migrate()
    ready.set()


async def reseal_when_migrated(resealer: Resealer, state: State) -> None:
    """Re-encrypt, in the background, what older data key versions sealed (after rotations)."""
    await state.migrated.wait()
    await run_periodically(resealer, wake=state.reseal)


# Collections of the youngest generation: one every this many allocations, not 700
# (docs/scaling.md, "Garbage collection").
YOUNG_COLLECTION_EVERY = 10_000


@contextlib.contextmanager
def serving_heap() -> Iterator[None]:
    """The garbage collector tuned for serving, once, at start-up: what start-up built lives as
    long as the app, so it is frozen out of full collections, and young collections are rarer.
    The reasons and their measurements are in docs/scaling.md ("Garbage collection")."""
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_COLLECTION_EVERY, *thresholds[1:])
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)


async def http_error(request: Request, error: Exception) -> Response:
    """Errors the router raises (404, 405): problem details under the federation API, whose
    clients parse them; elsewhere the plain text Starlette answers by default."""
    assert isinstance(error, HTTPException)
    headers = dict(error.headers or {})
    if request.url.path.startswith(FEDERATION_PREFIX):
        return problem_for_status(error.status_code, None, headers)
    if error.status_code in (204, 304):
        return Response(status_code=error.status_code, headers=headers)
    return PlainTextResponse(error.detail, status_code=error.status_code, headers=headers)


def create_app(
    settings: Settings | None = None, *, graph: GraphConnection | None = None
) -> Starlette:
    """`graph` lets a caller (tests, the demo) share one running engine with the app."""
    settings = settings or Settings()
    require_external_issuer(settings.environment, settings.oidc_issuer)
    schema = build_schema(settings)
    case_rules = load_case_rules(settings.policy_dir)  # a bad file stops the hub here

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        connection = graph or open_configured_graph(settings)
        store = MeasuredGraphStore(connection.store)
        protection = build_protection(settings, store, case_rules=case_rules)
        ingest = Ingest(
            store,
            blind=protection.blind,
            cipher=protection.cipher,
            audit=protection.audit,
            rules=case_rules,
            intake=IntakeWatch(store, case_rules, protection.audit),
            near_images=protection.near_images,
            near_videos=protection.near_videos,
        )
        # Cross-force links and regrade alerts are fed in the background, off the syncs' path
        # (federation/after_sync/).
        after_sync_steps = after_sync_queue(
            store, case_rules, stale_seconds=settings.after_sync_stale_seconds
        )
        after_sync = after_sync_steps.submit
        app.state.migrated = asyncio.Event()
        # Forces that cannot push are pulled, through the same ingest and after-sync step; each
        # by one replica at a time, the holder of its lease.
        puller = Puller.from_policy_dir(
            settings.policy_dir,
            ingest,
            ready=app.state.migrated,
            after_sync=after_sync,
            lease_seconds=settings.pull_lease_seconds,
        )
        federation = FederationAPI(
            ingest=ingest,
            validator=protection.validator,
            cipher=protection.cipher,
            sharing=protection.sharing,
            max_body_bytes=settings.max_body_bytes,
            case_refs=protection.case_refs,
            max_referral_bytes=settings.max_referral_bytes,
            after_sync=after_sync,
            settle=after_sync_steps.settle,
            limiter=protection.limiter,
        )
        app.router.routes.extend(federation.routes())
        # This replica's read model: loaded once migrated, reloaded periodically; not ready
        # before it has loaded (gateway/health.py).
        region = RegionFacts(case_rules, reload_every=settings.region_reload_seconds)
        graphql = GraphQLView(
            schema,
            store=store,
            protection=protection,
            settings=settings,
            region=region,
            pulls=puller.state,
        )
        app.router.routes.append(Route("/graphql", graphql))
        app.router.routes.append(Route("/reports/{force}", report_endpoint(graphql)))
        app.router.routes.append(WebSocketRoute("/graphql", graphql))
        if protection.devidp is not None and settings.environment != "production":
            app.router.routes.extend(protection.devidp.routes())
        app.state.graph = store
        app.state.region = region
        app.state.protection = protection
        app.state.puller = puller
        migrating = asyncio.create_task(migrate_when_reachable(store, app.state.migrated))
        alerting = asyncio.create_task(after_sync_steps.run(app.state.migrated))
        reading = asyncio.create_task(region.run(store, app.state.migrated))
        # Hourly: each force's figures at the end of each day, kept in the graph by the first
        # replica to get there (back-filled from case dates on the first start), and the
        # cases gone stale told to their forces.
        keeping = asyncio.create_task(upkeep.run(store, region, case_rules, app.state.migrated))
        app.state.reseal = asyncio.Event()  # set after a rotation made through this hub
        resealing = asyncio.create_task(
            reseal_when_migrated(Resealer(store, protection.cipher), app.state)
        )
        pull_metrics = PullCollector(puller) if puller.forces else None
        if pull_metrics is not None:
            REGISTRY.register(pull_metrics)
        try:
            with serving_heap():
                async with puller:
                    yield
        finally:
            await after_sync_steps.settle()  # what the last syncs handed over, if the graph allows
            for task in (keeping, reading, alerting, resealing, migrating):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if pull_metrics is not None:
                REGISTRY.unregister(pull_metrics)
            await protection.aclose()
            if graph is None:
                await connection.close()

    routes: list[BaseRoute] = [
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        openapi_route(),
        *web_routes(settings),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={HTTPException: http_error},
    )
    app.state.settings = settings
    install(app, settings)
    return app
