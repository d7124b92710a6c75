"""The FastAPI app: the fast path for GET /sparql in front (cached answers and cheap lookups), then
middleware (security headers, rate limits, cross-process sync, CORS), the one error model, and one
router per concern (pages last: it dereferences every minted IRI)."""

from __future__ import annotations

import asyncio
import sys
from contextlib import asynccontextmanager
from functools import partial
from importlib.resources import files

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from hub.harvesting import Scheduler
from hub.service import Hub
from hub.settings import Settings, open_configured_store
from hub.web import errors
from hub.web.deps import verified_name
from hub.web.middleware import RateLimit, ReaderRouting, SecurityHeaders, SyncGeneration, TokenBuckets
from sparql.store import ReadOnlyStore
from hub.web.routers import queries as named_queries
from hub.web.routers.accounts import build_accounts_router
from hub.web.routers.admin import build_admin_router
from hub.web.routers.editing import build_editing_router
from hub.web.routers.matchmaking import build_matchmaking_router
from hub.web.routers.oai import build_oai_router
from hub.web.routers.widgets import build_widgets_router
from hub.web.routers.pages import build_pages
from hub.web.routers.skosmos import build_skosmos
from hub.web.routers.sparql import CachedQueries, build_router
from hub.web.routers.tagging import build_tagging_router
from hub.web.routers.annif import build_annif_router
from hub.web.routers.dashboard import build_dashboard_router
from hub.web.routers.tracking import build_tracking_router, warm_up as warm_tracking


class HubApp(FastAPI):
    """The hub's FastAPI app with its fast path for GET /sparql (:class:`CachedQueries`) in front: a
    cached answer skips the middleware stack and the routing, which otherwise cost more than the
    answer (bench/endpoint.py, cached)."""

    fast = None

    async def __call__(self, scope, receive, send):
        if self.fast is not None and scope["type"] == "http":
            return await self.fast(scope, receive, send)  # passes everything else on to FastAPI.__call__
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> FastAPI:
    # Queries run in worker threads that release the GIL inside oxigraph; a short switch interval
    # keeps the event loop and those threads from waiting 5 ms on each other (the GIL convoy).
    sys.setswitchinterval(0.0001)
    reader = settings.role == "reader"  # chmkg serve --workers N: reads here, the rest to the writer process
    store = ReadOnlyStore(settings.store_path) if reader else open_configured_store(settings)
    hub = Hub(settings, store)
    scheduler = None if reader else Scheduler(settings, store, write=lambda fn: hub.write(fn, who="scheduler", what="harvest batch"))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        if not reader:  # a reader never tags: submissions go to the writer
            warming = hub.warm_up()  # the tagger's pipelines: loaded before the first request, so the first submission
            # and every answer meanwhile run at full speed (bounded: past it, they finish in the background)
            await asyncio.get_running_loop().run_in_executor(None, warming.join, settings.warm_up_seconds)
        warm_tracking(hub)  # so does the decision-tracking index
        if scheduler:
            scheduler.start()  # opt-in: harvest_schedule
        yield
        if scheduler:
            scheduler.stop()
        aclose = getattr(store, "aclose", None)
        if aclose:  # the remote store's streaming client belongs to this loop
            await aclose()
        hub.close()

    app = HubApp(title="CHM Knowledge Hub", lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings
    app.state.hub = hub
    app.state.scheduler = scheduler
    buckets = TokenBuckets(settings.rate_limit, settings.rate_burst) if settings.rate_limit > 0 else None
    verify = lambda scope: verified_name(hub, scope)  # noqa: E731
    # cached answers and uncached lookups on GET /sparql: in front of the middleware and the routing
    app.fast = CachedQueries(partial(FastAPI.__call__, app), hub, buckets=buckets, verify=verify, reader=reader)
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_list, allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD"],
        allow_headers=["Accept", "Authorization", "Content-Type"], expose_headers=["X-Result-Truncated", "X-Row-Cap", "Link", "Location"],
    )
    app.add_middleware(SyncGeneration, hub=hub)  # writes by other processes empty the caches first
    if reader:
        app.add_middleware(ReaderRouting, hub=hub, writer_url=settings.writer_url)
    app.add_middleware(RateLimit, buckets=buckets, verify=verify)  # one bucket per client, shared with the fast path
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries them
    app.include_router(build_router(hub))
    app.mount("/static", StaticFiles(directory=str(files("hub.web").joinpath("static"))), name="static")

    errors.install(app)
    app.include_router(named_queries.router)
    app.include_router(build_accounts_router(hub))
    app.include_router(build_admin_router(hub))
    app.include_router(build_tagging_router(hub))
    app.include_router(build_annif_router(hub))
    app.include_router(build_editing_router(hub))
    app.include_router(build_skosmos(hub))
    app.include_router(build_tracking_router(hub))
    app.include_router(build_dashboard_router(hub))
    app.include_router(build_oai_router(hub))
    app.include_router(build_matchmaking_router(hub))
    app.include_router(build_widgets_router(hub))
    app.include_router(build_pages(hub))  # last: its catch-all dereferences every minted IRI
    return app


def create_app_from_environment() -> FastAPI:
    """The app for ``chmkg serve`` (uvicorn's factory): settings from the environment it set."""
    import os

    from hub.settings import SETTINGS_ENV, load_settings, settings_from_json

    text = os.environ.get(SETTINGS_ENV)
    return create_app(settings_from_json(text) if text else load_settings())
