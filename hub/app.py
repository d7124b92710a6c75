"""The FastAPI app: a home page with what the hub holds, a SPARQL endpoint and the named queries.

This is the hub's first front door; the full SPARQL 1.1 Protocol service and the linked-data pages
build on it.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from importlib.resources import files

import pyoxigraph as ox
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from hub.settings import Settings, open_configured_store
from ontology.errors import ChmError
from sparql import queries
from sparql.terms import rows_to_csv

_templates = Environment(
    loader=FileSystemLoader(str(files("hub").joinpath("templates"))), autoescape=select_autoescape(["html"])
)


def _problem(e: ChmError) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": type(e).__name__, "status": e.http_status, "detail": e.message, "code": e.code},
        status_code=e.http_status,
        media_type="application/problem+json",
    )


def create_app(settings: Settings) -> FastAPI:
    store = open_configured_store(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        store.close()

    app = FastAPI(title="CHM Knowledge Hub", lifespan=lifespan)
    app.state.store = store
    app.state.settings = settings

    @app.exception_handler(ChmError)
    async def chm_error(_request: Request, e: ChmError) -> JSONResponse:
        return _problem(e)

    @app.get("/", include_in_schema=False)
    def home() -> Response:
        classes = [(r["class"].value, int(r["instances"].value)) for r in queries.run(store, "stats")]
        graphs = [(r["graph"].value, int(r["triples"].value)) for r in queries.run(store, "graphs")]
        html = _templates.get_template("home.html").render(classes=classes, graphs=graphs, queries=queries.catalogue())
        return Response(html, media_type="text/html; charset=utf-8")

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "mode": store.mode, "graphs": len(store.named_graphs())}

    @app.get("/sparql")
    def sparql(query: str) -> Response:
        try:
            columns, rows = store.select_table(query)
        except ChmError as e:
            return _problem(e)
        body = {
            "head": {"vars": columns},
            "results": {"bindings": [{k: _json_term(v) for k, v in r.items()} for r in rows]},
        }
        return JSONResponse(body, media_type="application/sparql-results+json")

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
        columns, rows = queries.run_table(store, name, values)
        if format == "csv":
            return PlainTextResponse(rows_to_csv(columns, rows), media_type="text/csv")
        return JSONResponse({"columns": columns, "rows": [{k: v.value for k, v in r.items()} for r in rows]})

    return app


def _json_term(t: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    d = {"type": "literal", "value": t.value}
    if t.language:
        d["xml:lang"] = t.language
    elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        d["datatype"] = t.datatype.value
    return d
