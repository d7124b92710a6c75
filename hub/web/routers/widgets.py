"""Widgets for national CHM sites: a filtered list of decisions or records, in the site's language,
to embed as an iframe (``/widget/decisions?…``) or as an HTML fragment a small vendored web component
(``/static/chm-list.js``: ``<chm-list src="…/widget/decisions?meeting=COP-15&format=fragment">``)
fetches and shows.

Who may frame a widget is the ``widget_origins`` setting (CSP ``frame-ancestors``). A widget reads
no cookie and sets none: the language is the ``lang`` parameter (else English); links open on the
hub in a new tab. The page carries no script; the fragment is plain HTML.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub import tracking as tr
from hub.service import Hub
from hub.web import i18n
from hub.web.render import env, local_href
from ontology import CHM
from sparql.builder import prefixed

RECORDS = prefixed("""SELECT ?r ?title ?lang WHERE { ?r a chm:Record ; dcterms:title ?title . BIND (LANG(?title) AS ?lang) }""")
RECORD_FACETS = prefixed("SELECT ?r ?p ?v WHERE { ?r a chm:Record ; ?p ?v FILTER (?p IN (chm:country, dcterms:subject)) }")
MAX = 50


def build_widgets_router(hub: Hub) -> APIRouter:
    settings = hub.settings
    router = APIRouter()
    origins = " ".join(o for o in re.split(r"[\s,]+", settings.widget_origins) if o) or "'none'"
    csp = ("default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; "
           f"frame-ancestors {origins}")

    def records_index() -> tuple[list[tuple[str, str, str]], dict[str, set[str]]]:
        def build():
            rows = [(r["r"].value, r["title"].value, r["lang"].value) for r in hub.store.select(RECORDS)]
            facets: dict[str, set[str]] = {}
            for r in hub.store.select(RECORD_FACETS):
                v = r["v"].value
                facets.setdefault(r["r"].value, set()).add(v.rstrip("/").rsplit("/", 1)[-1].lower() if r["p"].value == CHM.country else v)
            return rows, facets
        return hub.derived("widget-records", build, stale_ok=True)

    def items_for(kind: str, request: Request, lang: str, limit: int) -> tuple[str, list[dict]]:
        q = request.query_params
        t = i18n.UI[lang]
        if kind == "decisions":
            idx = tr.shared_index(hub)
            rows = idx.filter(**{k: q.get(k, "")[:300] for k in ("meeting", "actor", "status", "subject", "target")})
            rows = sorted(rows, key=lambda r: r.date, reverse=True)[:limit]
            return t["decisions"], [{"href": local_href(hub, r.iri), "label": f"{r.symbol} {r.title}".strip(),
                                     "note": t.get("st_" + r.status, r.status), "status": r.status} for r in rows]
        rows, facets = records_index()
        country, subject = q.get("country", "").lower()[:10], q.get("subject", "")[:300]
        best: dict[str, tuple[str, str]] = {}
        for iri, title, tl in rows:
            if country and country not in facets.get(iri, ()):
                continue
            if subject and subject not in facets.get(iri, ()):
                continue
            if iri not in best or tl == lang:
                best[iri] = (title, tl)
        chosen = sorted(best.items(), key=lambda kv: kv[1][0].casefold())[:limit]
        return t["records"], [{"href": local_href(hub, iri), "label": title, "note": "", "status": ""} for iri, (title, _) in chosen]

    @router.get("/widget/{kind}", summary="An embeddable list (decisions or records) for national CHM sites")
    def widget(request: Request, kind: str, lang: str = "en", limit: int = 10, format: str = "page") -> Response:  # noqa: A002
        if kind not in ("decisions", "records"):
            return Response("no such widget (decisions, records)", status_code=404, media_type="text/plain; charset=utf-8",
                            headers={"Content-Security-Policy": csp})
        lang = lang if lang in i18n.LANGS else i18n.DEFAULT
        limit = max(1, min(limit, MAX))
        try:
            title, items = items_for(kind, request, lang, limit)
        except tr.StatusError as e:
            return Response(e.message, status_code=400, media_type="text/plain; charset=utf-8", headers={"Content-Security-Policy": csp})
        base = str(request.base_url).rstrip("/")
        html = env.get_template("widget.html").render(title=title, items=items, lang=lang, dir=i18n.direction(lang), t=i18n.UI[lang], base=base, fragment=format == "fragment",
                                                      more=base + "/" + ("tracking/decisions" if kind == "decisions" else "records"))
        headers = {"Content-Security-Policy": csp, "Cache-Control": "public, max-age=300", "Vary": "Origin",
                   "Content-Language": lang, "Access-Control-Allow-Origin": "*"}
        return Response(html, media_type="text/html; charset=utf-8", headers=headers)

    return router
