"""Linked-data pages: every IRI the hub mints dereferences; browsers get HTML, clients get RDF.

- ``GET <iri>`` answers ``303 See Other`` to the document for the negotiated type:
  ``<iri>.html``, ``.ttl``, ``.jsonld``, ``.nt`` or ``.rdf``; an unservable ``Accept`` is 406.
- ``GET <iri>.<ext>`` is the document (200), with ``Link`` headers to its alternates, a weak ETag
  and Last-Modified from the data's write generation, and 304 on a matching ``If-None-Match``.
- ``/resource?iri=…`` shows any IRI the data mentions (thesaurus concepts, GEMET …).
- Class indexes (``/decisions``, ``/meetings`` …) page, sort and filter; ``/search`` ranks labels
  in every language; ``/sitemap.xml`` lists every page.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote, urlencode

import pyoxigraph as ox
from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from hub.oai import shared_index
from hub.web import feeds, i18n
from hub.web.views import resource as views
from hub.web.views.lineage_svg import KIND_COLOURS, lineage_svg
from hub.web.views.search import FACET_NAMES, MAX_HITS, SearchIndex
from hub.service import Hub
from hub.web import deps, errors, render as web
from hub.web.render import lang_of, local_href
from ontology import CHM, DCTERMS, ELI, PREFIXES, PROV, SKOS
from sparql import builder, queries
from sparql.protocol import NotAcceptable, content_type, negotiate, serialize_graph

SUFFIXES = {"html": "text/html", "ttl": "text/turtle", "jsonld": "application/ld+json",
            "nt": "application/n-triples", "rdf": "application/rdf+xml"}
EXT_OF = {v: k for k, v in SUFFIXES.items()}
PAGE_SIZE = 25
DESCRIPTION = ("CONSTRUCT { $node ?p ?o . ?s ?q $node } WHERE { GRAPH ?g { { $node ?p ?o } UNION { ?s ?q $node } } "
               "FILTER (?g != $meta) }")
DESCRIBED = "ASK { GRAPH ?g { { $node ?p ?o } UNION { ?s ?p $node } } FILTER (?g != $meta) }"


@dataclass(frozen=True)
class IndexSpec:
    slug: str
    title_key: str
    where: str  # the pattern selecting ?s
    sorts: dict[str, str]  # sort key → SPARQL expression over ?s (bound in OPTIONALs below)
    filters: dict[str, str]  # filter name → predicate IRI


THESAURUS_TABS = ("hierarchy", "alphabetical", "groups")  # as Skosmos shows a vocabulary
GROUPS = builder.prefixed("""SELECT ?grp ?l (COUNT(DISTINCT ?m) AS ?n) WHERE { GRAPH $g {
  ?grp a skos:Collection . OPTIONAL { ?grp skos:prefLabel ?l } OPTIONAL { ?grp skos:member ?m } } } GROUP BY ?grp ?l""")
GROUP_MEMBERS = builder.prefixed("SELECT ?c ?l WHERE { GRAPH $g { $grp skos:member ?c . OPTIONAL { ?c skos:prefLabel ?l } } }")

INDEXES = {
    spec.slug: spec for spec in (
        IndexSpec("decisions", "decisions", "?s a chm:Decision .",
                  {"date": "?s eli:date_document", "label": ""},
                  {"meeting": PROV.wasGeneratedBy, "status": CHM.currentStatus, "subject": DCTERMS.subject}),
        IndexSpec("meetings", "meetings", "?s a chm:Meeting .",
                  {"date": "?s schema:startDate", "label": ""}, {"body": PROV.wasAssociatedWith}),
        IndexSpec("articles", "articles", "?s a chm:Article .", {"number": "?s eli:number", "label": ""}, {}),
        IndexSpec("targets", "targets_index",
                  "?s a skos:Concept ; skos:inScheme ?scheme . FILTER (STRENDS(STR(?scheme), \"-targets\"))",
                  # by code first: Aichi and KMGBF apart, goals before targets, Target 2 before Target 10 (zero-padded codes)
                  {"code": "?s skos:notation", "label": ""}, {"scheme": SKOS.inScheme}),
        IndexSpec("programmes", "programmes", "?s a chm:WorkProgramme .", {"label": ""}, {}),
        IndexSpec("actors", "actors", "?s a foaf:Agent .", {"label": ""}, {}),
        IndexSpec("networks", "networks", "?s a chm:Network .", {"label": ""}, {}),
        IndexSpec("records", "records", "?s a chm:Record .", {"label": ""},
                  {"type": DCTERMS.type, "country": CHM.country, "subject": DCTERMS.subject}),
        IndexSpec("needs", "needs", "?s a chm:Need .", {"label": "", "date": "?s dcterms:created"},
                  {"status": CHM.publicationStatus, "country": CHM.country, "support": CHM.supportKind, "subject": DCTERMS.subject}),
        IndexSpec("offers", "offers", "?s a chm:Offer .", {"label": "", "date": "?s dcterms:created"},
                  {"status": CHM.publicationStatus, "region": CHM.region, "support": CHM.supportKind, "subject": DCTERMS.subject}),
    )
}
# the index queries: constant templates; the class pattern and sort path are the specs' constants,
# every value from a request goes in through fill() as a typed term
INDEX_COUNT = builder.prefixed("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { $where }")
INDEX_PAGE = builder.prefixed(
    "SELECT ?s (SAMPLE(COALESCE(?l1, ?l2, ?l3)) AS ?label) (SAMPLE(?key) AS ?sortKey) (SAMPLE(xsd:integer(?key)) AS ?sortNumber) WHERE { $where $sort "
    "OPTIONAL { ?s skos:prefLabel ?l1 FILTER (lang(?l1) = $lang) } OPTIONAL { ?s skos:prefLabel ?l2 FILTER (lang(?l2) = \"en\") } "
    "OPTIONAL { ?s skos:prefLabel|dcterms:title|eli:title ?l3 } } GROUP BY ?s ORDER BY $order ?s")
INDEX_FACET = builder.prefixed("SELECT ?v (COUNT(DISTINCT ?s) AS ?n) WHERE { $where ?s $p ?v } GROUP BY ?v ORDER BY DESC(?n)")
FILTER_PATTERN = "?s $p $v ."
# a grouped query orders by its aggregates (a name of its own: SPARQL 1.1 forbids AS over a variable of the pattern)
# (and by a projected number: Virtuoso orders by an aggregate's name, not by an expression over it)
ORDERS = {"key": "?sortKey", "label": "?label", "number": "?sortNumber"}


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def build_pages(hub: Hub) -> APIRouter:
    settings = hub.settings
    base = settings.base
    router = APIRouter()
    env = web.env
    started = datetime.now(timezone.utc).replace(microsecond=0)
    modified = {"generation": -1, "at": started}

    def last_modified() -> datetime:
        if modified["generation"] != hub.generation:
            modified["generation"], modified["at"] = hub.generation, datetime.now(timezone.utc).replace(microsecond=0)
            if hub.generation == 0:
                modified["at"] = started
        return modified["at"]

    def local(iri: str) -> str:
        """The hub-relative path of an IRI the hub mints; other IRIs go through /resource."""
        if iri.startswith(base):
            return "/" + iri[len(base):]
        return "/resource?" + urlencode({"iri": iri})

    def page_href(iri: str) -> str:
        return local_href(hub, iri)

    def index() -> SearchIndex:
        return hub.derived("search", lambda: SearchIndex(hub.store, settings.meta_graph), stale_ok=True)

    def render(request: Request, template: str, status: int = 200, **ctx) -> Response:
        return web.render(hub, request, template, status, cache="no-cache", **ctx)

    def not_found(request: Request, message: str) -> Response:
        accept = request.headers.get("accept", "")
        if accept and "text/html" not in accept and "*/*" not in accept:  # an API or RDF client
            return errors.problem(errors.NotFound(message))
        return render(request, "not_found.html", status=404, message=message)

    def cache_headers(request: Request, tag_source: str) -> tuple[dict[str, str], bool]:
        etag = 'W/"' + hashlib.sha1(f"{hub.generation}|{tag_source}".encode()).hexdigest()[:20] + '"'
        lm = last_modified()
        headers = {"ETag": etag, "Last-Modified": format_datetime(lm, usegmt=True), "Cache-Control": "no-cache"}
        inm = request.headers.get("if-none-match")
        if inm is not None:
            return headers, etag in [t.strip() for t in inm.split(",")] or inm.strip() == "*"
        ims = request.headers.get("if-modified-since")
        if ims:
            try:
                return headers, parsedate_to_datetime(ims) >= lm
            except (TypeError, ValueError):
                pass
        return headers, False

    # -- home, search, indexes, sitemap ----------------------------------------------------------
    @router.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        # counted once per write generation, not per request (the whole store is scanned)
        counts = hub.derived("class-counts", lambda: {r["class"].value: int(r["instances"].value)
                                                      for r in queries.run(hub.store, "stats")}, stale_ok=True)
        lang = lang_of(request)
        rows = [(_upper_first(i18n.term_label(c, lang)), n, c) for c, n in counts.items()]
        entry = [(spec.slug, i18n.UI[lang][spec.title_key]) for spec in INDEXES.values()]
        return render(request, "home.html", classes=sorted(rows, key=lambda r: -r[1]), entry=entry)

    def language_name(code: str, ui: str) -> str:
        """A language code as the page's language names it ("fr" → "French", "français" …)."""
        try:
            return _upper_first(Locale.parse(code.replace("-", "_")).get_display_name(ui) or code)
        except (ValueError, UnknownLocaleError):
            return code

    @router.get("/search", include_in_schema=False)
    def search(request: Request, q: str = "", page: str = "1", size: str = "20", type: str = "") -> Response:  # noqa: A002
        lang = lang_of(request)
        try:
            page_n, size_n = max(1, int(page)), min(100, max(1, int(size)))
        except ValueError:
            return not_found(request, "page and size must be whole numbers")
        idx = index()
        types = idx.types
        chosen = {name: request.query_params.get(name, "")[:500] for name in FACET_NAMES}
        chosen = {k: v for k, v in chosen.items() if v}

        def answer() -> tuple[list, dict[str, int], list]:
            found = idx.search(q[:200], lang, limit=MAX_HITS) if q.strip() else []

            no_values: dict[str, set[str]] = {}

            def value_set(h, values: dict[str, set[str]], name: str):
                # a hit's values of one facet; its language is the matched label's, not the index's
                return ((h.lang,) if h.lang else ()) if name == "language" else values.get(name, ())

            # every facet counts the hits the other choices leave (so a choice can be changed, not only narrowed)
            def keep(h, skip: str = "") -> bool:
                if type and skip != "type" and type not in types.get(h.iri, ()):
                    return False
                values = idx.facets.get(h.iri, no_values)
                return all(v in value_set(h, values, k) for k, v in chosen.items() if k != skip)

            unfiltered = not type and not chosen  # nothing chosen: every hit counts in every facet
            facet: dict[str, int] = {}
            counts: dict[str, dict[str, int]] = {name: {} for name in FACET_NAMES}
            for h in found:
                if unfiltered or keep(h, "type"):
                    for c in types.get(h.iri, ()):
                        facet[c] = facet.get(c, 0) + 1
                values = idx.facets.get(h.iri, no_values)
                if not values and not h.lang:
                    continue
                for name in FACET_NAMES:
                    these = value_set(h, values, name)
                    if these and (unfiltered or keep(h, name)):
                        tally = counts[name]
                        for v in these:
                            tally[v] = tally.get(v, 0) + 1
            more_facets = []
            for name in FACET_NAMES:
                tally = counts[name]
                if tally:
                    # the ten most frequent values, ties by label: labels only for what can reach the ten
                    cut = heapq.nlargest(10, tally.values())[-1]
                    named = (lambda v: language_name(v, lang)) if name == "language" else (lambda v: idx.label(v, lang))
                    top = sorted(((v, n) for v, n in tally.items() if n >= cut), key=lambda kv: (-kv[1], named(kv[0])))[:10]
                    more_facets.append((name, [(v, named(v), n) for v, n in top]))
            return (found if unfiltered else [h for h in found if keep(h)]), facet, more_facets

        found, facet, more_facets = idx.remembered(("page", q[:200], lang, type, tuple(sorted(chosen.items()))), answer)
        total = len(found)
        hits = idx.marked(found[(page_n - 1) * size_n: page_n * size_n], q[:200])
        fmt = feeds.wanted(request)
        if fmt:
            stamps = shared_index(hub).by_iri
            return feeds.respond(request, fmt, f"{i18n.UI[lang]['search']}: {q[:200]}",
                                 [feeds.Entry(h.iri, h.label, page_href(h.iri), stamps[h.iri].datestamp if h.iri in stamps else "")
                                  for h in hits])
        def link(**change) -> str:
            params = {"q": q[:200], "type": type, **chosen, "page": page_n, "size": size_n if size_n != 20 else "", **change}
            return "/search?" + urlencode({k: v for k, v in params.items() if v not in ("", None, 1) or k == "q"})

        headers = {"X-Total-Count": str(total)}
        if page_n * size_n < total:
            headers["Link"] = '<%s>; rel="next"' % link(page=page_n + 1)
        if request.query_params.get("format") == "json" or "application/json" in request.headers.get("accept", ""):
            from fastapi.responses import JSONResponse

            return JSONResponse([{"iri": h.iri, "label": h.label, "score": h.score, "matched": h.matched, "lang": h.lang, "page": page_href(h.iri),
                                  "types": sorted(types.get(h.iri, ()))} for h in hits], headers=headers)
        facets = sorted(((c, _upper_first(i18n.term_label(c, lang)), n) for c, n in facet.items()), key=lambda f: (-f[2], f[1]))[:12]
        response = render(request, "search.html", q=q, hits=hits, total=total, page=page_n, size=size_n, type=type,
                          type_label=_upper_first(i18n.term_label(type, lang)) if type else "", facets=facets, link=link,
                          more_facets=more_facets, chosen=chosen,
                          first=(page_n - 1) * size_n + 1, feeds=feeds.alternates(request) if q.strip() else [])
        response.headers.update(headers)
        return response

    @router.get("/sitemap.xml", include_in_schema=False)
    def sitemap() -> Response:
        rows = hub.store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER (?g != <{settings.meta_graph}> && STRSTARTS(STR(?s), \"{base}\")) }} ORDER BY ?s LIMIT 50000", union=False)
        urls = [base.rstrip("/") + "/"] + [base.rstrip("/") + "/" + s for s in INDEXES] + [r["s"].value + ".html" for r in rows]
        body = env.get_template("sitemap.xml").render(urls=urls)
        return Response(body, media_type="application/xml")

    def index_page(request: Request, spec: IndexSpec) -> Response:
        lang = lang_of(request)
        try:
            page = int(request.query_params.get("page", "1"))
        except ValueError:
            return not_found(request, "the page number must be a whole number")
        sort = request.query_params.get("sort", next(iter(spec.sorts)))
        if sort not in spec.sorts:
            sort = next(iter(spec.sorts))
        desc = request.query_params.get("order") == "desc"
        active = {}
        patterns = []
        for name, pred in spec.filters.items():
            value = request.query_params.get(name)
            if value:
                try:
                    term: ox.NamedNode | ox.Literal = ox.NamedNode(value)
                except ValueError:
                    term = ox.Literal(value)
                patterns.append(builder.fill(FILTER_PATTERN, p=ox.NamedNode(pred), v=term))
                active[name] = value
        where = builder.Fragment(spec.where + " " + " ".join(patterns))
        key = spec.sorts[sort]
        sort_expr = builder.Fragment("OPTIONAL { " + key + " ?key }" if key else "")
        order_key = ORDERS["number"] if sort == "number" else ORDERS["key"] if key else ORDERS["label"]
        order = builder.Fragment("DESC(" + order_key + ")" if desc else order_key)

        def listing(limit: int | None) -> tuple[int, list[dict]]:
            total = int(hub.store.select(builder.fill(INDEX_COUNT, where=where))[0]["n"].value)
            _, rows = hub.store.select_table(builder.fill(INDEX_PAGE, where=where, sort=sort_expr, order=order, lang=ox.Literal(lang)),
                                             limit=total if limit is None else min(limit, total))
            return total, [{"iri": r["s"].value, "label": r["label"].value if "label" in r else r["s"].value,
                            "key": r["sortKey"].value if "sortKey" in r else ""} for r in rows]

        if patterns:  # a filtered list: only what this page needs (the filters' values are not cache keys)
            total, rows = listing(max(page, 1) * PAGE_SIZE)
        else:  # the whole list in its order, once per write generation, sort and language: each page is a slice
            total, rows = hub.derived(f"index:{spec.slug}:{sort}:{desc}:{lang}", lambda: listing(None), stale_ok=True)
        pages = max(1, -(-total // PAGE_SIZE))
        if page < 1 or page > pages:
            return not_found(request, f"page {page} is out of range: {spec.slug} has {pages} page(s)")
        items = rows[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]

        def facet_values() -> dict[str, list[tuple[str, str, int]]]:
            out = {}
            for name, pred in spec.filters.items():
                _, fr = hub.store.select_table(builder.fill(INDEX_FACET, where=builder.Fragment(spec.where), p=ox.NamedNode(pred)), limit=40)
                labels = views._labels(hub.store, {r["v"].value for r in fr if isinstance(r["v"], ox.NamedNode)}, lang)
                out[name] = [(r["v"].value, labels.get(r["v"].value, r["v"].value), int(r["n"].value)) for r in fr]
            return out
        facets = hub.derived(f"index-facets:{spec.slug}:{lang}", facet_values, stale_ok=True)  # they count the unfiltered list

        def link(**changes) -> str:
            params = {k: v for k, v in {**dict(request.query_params), **changes}.items() if v not in (None, "")}
            return request.url.path + ("?" + urlencode(params) if params else "")

        fmt = feeds.wanted(request)
        if fmt:
            stamps = shared_index(hub).by_iri
            title = i18n.UI[lang][spec.title_key] + "".join(f" · {k}: {v}" for k, v in active.items())
            return feeds.respond(request, fmt, title, [feeds.Entry(i["iri"], i["label"], page_href(i["iri"]),
                                                                   stamps[i["iri"]].datestamp if i["iri"] in stamps else "",
                                                                   tags=[i["key"]] if i["key"] else []) for i in items])
        return render(request, "index.html", feeds=feeds.alternates(request), spec=spec, title=i18n.UI[lang][spec.title_key], items=items, page=page, pages=pages,
                      total=total, sort=sort, desc=desc, facets=facets, active=active, link=link)

    def index_route(spec: IndexSpec):
        def route(request: Request) -> Response:
            return index_page(request, spec)
        return route

    for slug, spec in INDEXES.items():
        router.add_api_route(f"/{slug}", index_route(spec), methods=["GET"], include_in_schema=False)

    # -- the thesaurus browser (Skosmos-like; the REST API is hub/web/routers/skosmos.py) ------------------------
    def vocab_graphs() -> dict[str, str]:
        prefix = settings.graph("thesaurus-x")[:-1]
        skip = {"mappings", "suggestions"}
        return hub.derived("browser-vocabularies", lambda: {
            g[len(prefix):]: g for g in hub.store.named_graphs() if g.startswith(prefix) and g[len(prefix):] not in skip})

    @router.get("/thesaurus", include_in_schema=False)
    def thesaurus_home(request: Request) -> Response:
        vocabs = []
        for vocid, g in sorted(vocab_graphs().items()):
            n = hub.store.select(f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{g}> {{ ?c a <{SKOS.Concept}> }} }}", union=False)
            vocabs.append((vocid, int(n[0]["n"].value)))
        return render(request, "thesaurus.html", vocabs=vocabs, vocid=None)

    @router.get("/thesaurus/{vocid}", include_in_schema=False)
    def thesaurus_vocab(request: Request, vocid: str) -> Response:
        g = vocab_graphs().get(vocid)
        if g is None:
            return not_found(request, f"no vocabulary {vocid}")
        lang = lang_of(request)
        parent = request.query_params.get("parent")
        letter = (request.query_params.get("letter") or "")[:1].upper()
        label_of = (f"OPTIONAL {{ ?c <{SKOS.prefLabel}> ?l1 FILTER (lang(?l1) = \"{lang}\") }} "
                    f"OPTIONAL {{ ?c <{SKOS.prefLabel}> ?l2 FILTER (lang(?l2) = \"en\") }} OPTIONAL {{ ?c <{SKOS.prefLabel}> ?l3 }}")
        if parent:
            try:
                node = ox.NamedNode(parent)
            except ValueError:
                return not_found(request, "not an IRI")
            where = f"{{ ?c <{SKOS.broader}> {node} }} UNION {{ {node} <{SKOS.narrower}> ?c }}"
        else:
            where = f"?c a <{SKOS.Concept}> FILTER NOT EXISTS {{ ?c <{SKOS.broader}> ?b }}"
        rows = hub.store.select(f"SELECT ?c (SAMPLE(COALESCE(?l1, ?l2, ?l3)) AS ?label) (COUNT(DISTINCT ?k) AS ?kids) WHERE {{ GRAPH <{g}> {{ "
                                f"{where} {label_of} OPTIONAL {{ ?k <{SKOS.broader}> ?c }} }} }} GROUP BY ?c", union=False)
        level = sorted(({"iri": r["c"].value, "label": r["label"].value if "label" in r else r["c"].value, "kids": int(r["kids"].value)}
                        for r in rows), key=lambda x: x["label"].casefold())
        index = []
        if letter:
            rows = hub.store.select(f"SELECT ?c (SAMPLE(COALESCE(?l1, ?l2, ?l3)) AS ?label) WHERE {{ GRAPH <{g}> {{ ?c a <{SKOS.Concept}> {label_of} }} }} "
                                    f"GROUP BY ?c", union=False)
            index = sorted(({"iri": r["c"].value, "label": r["label"].value} for r in rows
                            if "label" in r and r["label"].value[:1].upper() == letter), key=lambda x: x["label"].casefold())
        parent_label = views._labels(hub.store, {parent}, lang).get(parent, parent) if parent else None
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        tab = request.query_params.get("tab") or ("alphabetical" if letter else "groups" if request.query_params.get("group") else "hierarchy")
        if tab not in THESAURUS_TABS:
            return not_found(request, "the tabs are " + ", ".join(THESAURUS_TABS))
        groups, group, group_label, members = vocabulary_groups(g, lang, request.query_params.get("group")) if tab == "groups" else ([], None, "", [])
        return render(request, "thesaurus.html", vocabs=None, vocid=vocid, level=level, parent=parent, parent_label=parent_label,
                      index=index, letter=letter, letters=letters, tab=tab, tabs=THESAURUS_TABS, groups=groups, group=group,
                      group_label=group_label, members=members)

    def vocabulary_groups(g: str, lang: str, chosen: str | None) -> tuple[list[dict], str | None, str, list[dict]]:
        """The vocabulary's groups (skos:Collection) with their sizes, and the members of the chosen one."""
        rows = hub.store.select(builder.fill(GROUPS, g=builder.iri(g, "graph")), union=False)
        found: dict[str, dict] = {}
        for r in rows:
            entry = found.setdefault(r["grp"].value, {"iri": r["grp"].value, "labels": [], "n": int(r["n"].value)})
            if "l" in r:
                entry["labels"].append(r["l"])
        groups = []
        for entry in found.values():
            best = i18n.pick(entry.pop("labels"), lang)
            groups.append({**entry, "label": best.value if best else entry["iri"].rsplit("/", 1)[-1]})
        groups.sort(key=lambda x: x["label"].casefold())
        if not chosen or chosen not in found:
            return groups, None, "", []
        labelled: dict[str, list] = {}
        for r in hub.store.select(builder.fill(GROUP_MEMBERS, g=builder.iri(g, "graph"), grp=builder.iri(chosen, "group")), union=False):
            labelled.setdefault(r["c"].value, [])
            if "l" in r:
                labelled[r["c"].value].append(r["l"])
        members = []
        for c, ls in labelled.items():
            best = i18n.pick(ls, lang)
            members.append({"iri": c, "label": best.value if best else c.rsplit("/", 1)[-1]})
        members.sort(key=lambda x: x["label"].casefold())
        return groups, chosen, next(x["label"] for x in groups if x["iri"] == chosen), members

    # -- resources ---------------------------------------------------------------------------------
    def rdf_doc(iri: str, media: str) -> bytes:
        nt = hub.store.construct(builder.fill(DESCRIPTION, node=builder.iri(iri), meta=builder.iri(settings.meta_graph)), union=False)
        return serialize_graph(ox.parse(nt, ox.RdfFormat.N_TRIPLES), media, dict(PREFIXES))

    def described(iri: str) -> bool:
        return hub.store.ask(builder.fill(DESCRIBED, node=builder.iri(iri), meta=builder.iri(settings.meta_graph)), union=False)

    def alternates(iri: str, doc_base: str) -> str:
        return ", ".join(f'<{doc_base}.{ext}>; rel="alternate"; type="{media}"' for ext, media in SUFFIXES.items()) + f', <{iri}>; rel="describes"'

    def resource_document(request: Request, iri: str, media: str, doc_base: str) -> Response:
        if not described(iri):
            return not_found(request, f"no resource {iri}")
        lang = lang_of(request)
        ident = deps.identify_quietly(hub, request)
        # a page for a signed-in user shows the user and a CSRF token: its own ETag, never shared
        personal = media == "text/html" and ident.who is not None
        viewer = f"|{ident.who.name}|{ident.csrf}" if personal and ident.who else ""
        headers, fresh = cache_headers(request, f"{iri}|{media}|{lang}|{request.url.query}{viewer}")
        headers["Link"] = alternates(iri, doc_base)
        headers["Vary"] = "Accept, Accept-Language, Cookie"
        if fresh:
            return Response(status_code=304, headers=headers)
        # rendered documents are kept until the next write (like query answers)
        key = ("page", hub.generation, iri, media, lang, request.url.query, doc_base)
        hit = None if personal else hub.cache.get(key)
        if hit is not None:
            response = Response(hit, media_type=content_type(media) if media != "text/html" else "text/html; charset=utf-8",
                                headers={**headers, "Content-Language": lang, "X-Cache": "hit"})
            if request.query_params.get("lang") in i18n.LANGS:
                response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax", httponly=True)
            return response
        generation = hub.generation
        if media != "text/html":
            body = rdf_doc(iri, media)
            if generation == hub.generation:
                hub.cache.put(key, body)
            return Response(body, media_type=content_type(media), headers=headers)
        view = views.describe(hub.store, iri, lang, settings.meta_graph)
        if view is None:
            return not_found(request, f"no resource {iri}")
        panel = views.PANELS.get(view.kind)
        view.extra["crumbs"] = views.breadcrumbs(hub.store, view, lang)
        view.extra["params"] = {k: v[:300] for k, v in request.query_params.items()}
        if panel:
            panel(hub.store, view, lang)
        svg = ""
        if view.kind == "decision" and (view.extra.get("up") or view.extra.get("down")):
            ui = i18n.UI[lang]
            svg = lineage_svg(iri, view.label, view.extra["up"], view.extra["down"], ui["lineage_picture"] + ": " + view.label, page_href,
                              kind_label=lambda kind: ui.get("k_" + kind, kind))
        kinds = {e.kind for e in view.extra.get("up", []) + view.extra.get("down", [])}
        formats = [(ext, f"{doc_base}.{ext}") for ext in SUFFIXES if ext != "html"]
        response = render(request, "resource.html", view=view, svg=svg, formats=formats,
                          lineage_colours=[(k, c) for k, c in KIND_COLOURS.items() if k in kinds])
        response.headers.update(headers)
        if generation == hub.generation and not personal:
            hub.cache.put(key, response.body)
        return response

    @router.get("/lineage.{ext}", include_in_schema=False)
    def lineage_download(request: Request, ext: str, iri: str = "", depth: str = "") -> Response:
        """A decision's lineage both ways as a download: CSV (one row per link) or JSON."""
        if ext not in ("csv", "json"):
            return not_found(request, "a lineage download is lineage.csv or lineage.json")
        try:
            ox.NamedNode(iri)
        except ValueError:
            return not_found(request, "iri must be the IRI of a decision")
        if not described(iri):
            return not_found(request, f"no resource {iri}")
        lang = lang_of(request)
        d = views.lineage_depth(depth)
        up, up_more = views.lineage(hub.store, iri, lang, upward=True, depth=d)
        down, down_more = views.lineage(hub.store, iri, lang, upward=False, depth=d)
        local = iri[len(base):] if iri.startswith(base) else "resource"
        filename = "lineage-" + ("-".join(part for part in re.split(r"[^A-Za-z0-9]+", local) if part) or "resource") + "." + ext
        headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
        fields = ("direction", "distance", "source", "source_label", "link", "target", "target_label")
        rows = [("builds on", e) for e in up] + [("built on by", e) for e in down]
        if ext == "csv":
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(fields)
            for direction, e in rows:
                writer.writerow((direction, e.distance, e.source, e.source_label, e.kind, e.target, e.target_label))
            return Response(out.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)

        def edge(e: views.Edge) -> dict:
            return {"distance": e.distance, "source": e.source, "source_label": e.source_label, "link": e.kind,
                    "target": e.target, "target_label": e.target_label}

        body = {"decision": iri, "depth": d if d is not None else "all", "builds_on": [edge(e) for e in up],
                "built_on_by": [edge(e) for e in down], "more": {"builds_on": up_more, "built_on_by": down_more}}
        return Response(json.dumps(body, ensure_ascii=False, indent=1), media_type="application/json", headers=headers)

    @router.get("/resource", include_in_schema=False)
    def external(request: Request, iri: str = "") -> Response:
        try:
            ox.NamedNode(iri)
        except ValueError:
            return not_found(request, "not an IRI")
        accept = request.headers.get("accept", "text/html")
        fmt = request.query_params.get("format")
        try:
            media = SUFFIXES[fmt] if fmt in SUFFIXES else negotiate_doc(accept)
        except NotAcceptable as e:
            return Response(e.message, status_code=406, media_type="text/plain; charset=utf-8")
        return resource_document(request, iri, media, "/resource?" + urlencode({"iri": iri}) + "&format=")

    def negotiate_doc(accept: str | None) -> str:
        if not accept or "text/html" in accept or "application/xhtml+xml" in accept or accept.strip() == "*/*":
            return "text/html"
        try:
            return negotiate("document", accept).media_type
        except NotAcceptable:
            offers = ", ".join(SUFFIXES.values())
            raise NotAcceptable(f"none of the requested types ({accept}) is offered; offered: {offers}") from None

    @router.get("/{path:path}", include_in_schema=False)
    def dereference(request: Request, path: str) -> Response:
        if any(c in path for c in '<>"{}|\\^`') or ".." in path.split("/"):
            return not_found(request, "not an address the hub mints")
        stem, _, ext = path.rpartition(".")
        if ext in SUFFIXES and stem:
            iri = base + stem
            try:
                ox.NamedNode(iri)
            except ValueError:
                return not_found(request, "not an address the hub mints")
            return resource_document(request, iri, SUFFIXES[ext], "/" + quote(stem))
        iri = base + path
        try:
            node = ox.NamedNode(iri)
        except ValueError:
            return not_found(request, "not an address the hub mints")
        if not described(node.value):
            return not_found(request, f"no resource {iri}")
        try:
            media = negotiate_doc(request.headers.get("accept"))
        except NotAcceptable as e:
            return Response(e.message, status_code=406, media_type="text/plain; charset=utf-8", headers={"Link": alternates(iri, "/" + quote(path))})
        target = "/" + quote(path) + "." + EXT_OF[media]
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(target, status_code=303, headers={"Vary": "Accept", "Link": alternates(iri, "/" + quote(path))})

    return router
