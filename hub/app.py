"""The FastAPI app: home page, the SPARQL service (hub/sparql_http.py), saved queries and the editor."""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.resources import files

import json
import sys

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.accounts_http import build_accounts_router
from hub.admin_http import build_admin_router
from hub.editing_http import build_editing_router
from hub.pages import build_pages
from hub.protect import RateLimit, SecurityHeaders, SyncGeneration
from hub.tagging_http import build_tagging_router
from hub.skosmos import build_skosmos
from hub.service import Hub
from hub.settings import Settings, open_configured_store
from hub.sparql_http import CachedQueries, build_router, problem
from hub.web import identify_quietly, verified_name
from ontology import PREFIXES
from ontology.errors import ChmError
from sparql import queries
from sparql.terms import rows_to_csv

_templates = Environment(
    loader=FileSystemLoader(str(files("hub").joinpath("templates"))), autoescape=select_autoescape(["html"])
)


def create_app(settings: Settings) -> FastAPI:
    # Queries run in worker threads that release the GIL inside oxigraph; a short switch interval
    # keeps the event loop and those threads from waiting 5 ms on each other (the GIL convoy).
    sys.setswitchinterval(0.0001)
    store = open_configured_store(settings)
    hub = Hub(settings, store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        hub.warm_up()  # the tagger's pipelines load in the background: the first submission does not wait
        yield
        hub.close()

    app = FastAPI(title="CHM Knowledge Hub", lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings
    app.state.hub = hub
    app.add_middleware(
        CORSMiddleware, allow_origins=settings.cors_list, allow_methods=["GET", "POST", "PUT", "DELETE", "HEAD"],
        allow_headers=["Accept", "Authorization", "Content-Type"], expose_headers=["X-Result-Truncated", "X-Row-Cap", "Link", "Location"],
    )
    app.add_middleware(CachedQueries, hub=hub)  # cached GET /sparql answers skip routing
    app.add_middleware(SyncGeneration, hub=hub)  # writes by other processes empty the caches first
    app.add_middleware(RateLimit, rate=settings.rate_limit, burst=settings.rate_burst,
                       verify=lambda scope: verified_name(hub, scope))
    app.add_middleware(SecurityHeaders)  # outermost: every answer carries them
    app.include_router(build_router(hub))
    app.mount("/static", StaticFiles(directory=str(files("hub").joinpath("static"))), name="static")

    @app.exception_handler(ChmError)
    async def chm_error(_request: Request, e: ChmError) -> JSONResponse:
        return problem(e)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "mode": store.mode, "graphs": len(store.named_graphs()), "generation": hub.generation,
                "running_queries": hub.running, "cached_results": len(hub.cache)}

    @app.get("/queries", include_in_schema=False)
    def queries_page() -> Response:
        html = _templates.get_template("queries.html").render(queries=queries.catalogue(), base=settings.base)
        return Response(html, media_type="text/html; charset=utf-8")

    @app.get("/editor", include_in_schema=False)
    def editor() -> Response:
        examples = [{"name": q.title, "query": q.text} for q in queries.catalogue().values()]
        config = {"endpoint": "/sparql", "prefixes": PREFIXES, "examples": examples}
        html = _templates.get_template("editor.html").render(config=json.dumps(config).replace("<", "\\u003c"))
        return Response(html, media_type="text/html; charset=utf-8")

    @app.get("/api/queries")
    def list_named() -> list[dict]:
        return [
            {"name": q.name, "title": q.title, "description": q.description,
             "params": [{"name": p.name, "type": p.type, "required": p.required} for p in q.params]}
            for q in queries.catalogue().values()
        ]

    @app.get("/api/queries/{name}")
    def run_named(name: str, request: Request, format: str = "json") -> Response:  # noqa: A002
        values = {k: v for k, v in request.query_params.items() if k != "format"}
        # anonymous clients get at most row_cap rows, as on /sparql; the answer says when it was cut
        cap = None if request.headers.get("authorization") and identify_quietly(hub, request).who else settings.row_cap
        columns, rows = queries.run_table(store, name, values, limit=None if cap is None else cap + 1)
        truncated = cap is not None and len(rows) > cap
        rows = rows[:cap] if truncated else rows
        headers = {"X-Result-Truncated": "true", "X-Row-Cap": str(cap)} if truncated else {}
        if format == "csv":
            return PlainTextResponse(rows_to_csv(columns, rows), media_type="text/csv", headers=headers)
        return JSONResponse({"columns": columns, "rows": [{k: v.value for k, v in r.items()} for r in rows],
                             "truncated": truncated}, headers=headers)

    app.include_router(build_accounts_router(hub))
    app.include_router(build_admin_router(hub))
    app.include_router(build_tagging_router(hub))
    app.include_router(build_editing_router(hub))
    app.include_router(build_skosmos(hub))
    app.include_router(build_pages(hub))  # last: its catch-all dereferences every minted IRI
    return app
