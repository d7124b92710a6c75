"""Named queries: ``GET /api/queries`` (the catalogue), ``GET /api/queries/{name}`` (run one with
bound parameters), the ``/queries`` page and the ``/editor`` (YASGUI), and ``/healthz``."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from harvest.sources import SOURCES
from hub.harvesting import harvest_status
from hub.service import Hub
from hub.web.deps import Identity, get_hub, identity
from hub.web.render import render
from ontology import PREFIXES
from sparql import queries
from sparql.terms import rows_to_csv

router = APIRouter()


@router.get("/healthz")
def healthz(request: Request, hub: Hub = Depends(get_hub)) -> dict:
    store = hub.store
    status = harvest_status(hub.settings, limit=len(SOURCES) * 2)
    last: dict[str, dict] = {}
    for run in status["runs"]:
        last.setdefault(run["source"], {"status": run["status"], "started": run["started"], "ended": run["ended"]})
    scheduler = getattr(request.app.state, "scheduler", None)
    import os

    return {"status": "ok", "mode": store.mode, "role": hub.settings.role, "pid": os.getpid(),
            "graphs": len(store.named_graphs()), "generation": hub.generation,
            "running_queries": hub.running, "cached_results": len(hub.cache),
            "harvest": {"schedule": scheduler.status() if scheduler else {}, "last_runs": last,
                        "quarantined": len(status["quarantine"]), "records": status["records"]}}


@router.get("/queries", include_in_schema=False)
def queries_page(request: Request, hub: Hub = Depends(get_hub)) -> Response:
    return render(hub, request, "queries.html", queries=queries.catalogue(), base=hub.settings.base)


@router.get("/editor", include_in_schema=False)
def editor(request: Request, hub: Hub = Depends(get_hub)) -> Response:
    # a query that needs a value would run unbound here (a full walk of the store): those are forms on /queries
    examples = [{"name": q.title, "query": q.text} for q in queries.catalogue().values() if not any(p.required for p in q.params)]
    config = {"endpoint": "/sparql", "prefixes": PREFIXES, "examples": examples}
    return render(hub, request, "editor.html", config=json.dumps(config).replace("<", "\\u003c"))


@router.get("/api/queries", summary="The named queries and their parameters")
def list_named() -> list[dict]:
    return [
        {"name": q.name, "title": q.title, "description": q.description,
         "params": [{"name": p.name, "type": p.type, "required": p.required} for p in q.params]}
        for q in queries.catalogue().values()
    ]


@router.get("/api/queries/{name}", summary="Run a named query; parameters are bound, never pasted")
def run_named(name: str, request: Request, format: str = "json",  # noqa: A002
              hub: Hub = Depends(get_hub), who: Identity = Depends(identity)) -> Response:
    values = {k: v for k, v in request.query_params.items() if k != "format"}
    # anonymous clients get at most row_cap rows, as on /sparql; the answer says when it was cut
    cap = None if who.who is not None and who.via == "token" else hub.settings.row_cap
    columns, rows = queries.run_table(hub.store, name, values, limit=None if cap is None else cap + 1)
    truncated = cap is not None and len(rows) > cap
    rows = rows[:cap] if truncated else rows
    headers = {"X-Result-Truncated": "true", "X-Row-Cap": str(cap)} if truncated else {}
    if format == "csv":
        return PlainTextResponse(rows_to_csv(columns, rows), media_type="text/csv", headers=headers)
    return JSONResponse({"columns": columns, "rows": [{k: v.value for k, v in r.items()} for r in rows],
                         "truncated": truncated}, headers=headers)
