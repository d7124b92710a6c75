"""The dashboard: ``GET /dashboard`` (charts and maps, each with its table) and ``GET /api/dashboard``
(the same figures as JSON); ``GET /map/{code}.svg``, a country's locator map for its page. See
:mod:`hub.web.views.dashboard`."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hub.service import Hub
from hub.tracking import shared_index
from hub.web import i18n
from hub.web.render import lang_of, local_href, render
from hub.web.views import dashboard as dash
from hub.web.views.charts import STATUS_COLOURS
from hub.web.views.resource import _labels


def build_dashboard_router(hub: Hub) -> APIRouter:
    router = APIRouter()

    def figures(lang: str) -> dash.Dashboard:
        """The figures and drawings of this write generation in ``lang`` (a slow rebuild after a write
        is served from the previous generation meanwhile, as the tracking index is)."""
        def compute() -> dash.Dashboard:
            d = dash.collect(hub.store, hub.settings.base, shared_index(hub), lang, lambda iris, lg: _labels(hub.store, iris, lg))
            d.charts = dash.draw(d, i18n.UI[lang], STATUS_COLOURS, lambda iri: local_href(hub, iri), lang)
            return d
        return hub.derived("dashboard:" + lang, compute, stale_ok=True)

    @router.get("/map/{code}.svg", include_in_schema=False)
    def locator(code: str) -> Response:
        """The world with the country of a two-letter ISO code picked out (static: cached a day)."""
        svg = dash.locator_map(code.upper(), code.upper()) if re.fullmatch(r"[A-Za-z]{2}", code) else ""
        if not svg:
            return Response("no map for that code: give a two-letter ISO 3166-1 country code\n", status_code=404,
                            media_type="text/plain; charset=utf-8")
        return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})

    @router.get("/dashboard", include_in_schema=False)
    def dashboard_page(request: Request) -> Response:
        lang = lang_of(request)
        d = figures(lang)
        return render(hub, request, "dashboard.html", d=d, colours=STATUS_COLOURS, party_colours=dash.PARTY_COLOURS,
                      party_classes=dash.PARTY_CLASSES, cache="no-cache")

    @router.get("/api/dashboard", summary="The dashboard's figures: decisions per meeting and status, requests per actor, "
                "targets covered by decisions and records, party status and records per country, records per region")
    def dashboard_api(request: Request) -> JSONResponse:
        d = figures(lang_of(request))
        return JSONResponse({
            "statuses": {s: d.status_totals.get(s, 0) for s in d.statuses},
            "meetings": [{"meeting": code, "counts": dict(c)} for code, c in d.meetings],
            "actors": [{"actor": label, "key": key, "requests": n} for label, key, n in d.actors],
            "targets": [{"framework": f, "target": iri, "label": label, "decisions": nd, "records": nr} for f, iri, label, nd, nr in d.targets],
            "countries": [{k: c[k] for k in ("code", "iri", "name", "party", "instruments", "records")} for c in d.countries],
            "regions": [{"region": r, "records": n} for r, n in d.regions],
        })

    return router
