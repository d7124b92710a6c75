"""A REST API compatible with the main Skosmos REST operations (``/rest/v1/…``) over the imported
vocabularies (graphs ``thesaurus-<id>``): vocabularies, search (with ``*`` wildcards), vocabulary
info, top concepts, concept data, label, broader/narrower/related (and transitive), children,
hierarchy, lookup, groups and types. Labels follow ``lang`` with fallback to English.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import pyoxigraph as ox
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from hub.web.views.search import normalise
from hub.service import Hub
from ontology.errors import InvalidIri
from sparql.builder import fill, iri, union
from sparql.protocol import NotAcceptable, content_type, negotiate, serialize_graph

# Query templates: $name slots take typed terms through sparql.builder.fill, never request text.
_S = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
Q_LABELS = _S + ("SELECT ?c ?p ?l WHERE { GRAPH $g { ?c a skos:Concept ; ?p ?l "
                 "VALUES ?p { skos:prefLabel skos:altLabel skos:hiddenLabel } } }")
Q_PREF = _S + "SELECT ?c ?l WHERE { GRAPH $g { $union } }"
Q_PREF_PART = "{ $c <http://www.w3.org/2004/02/skos/core#prefLabel> ?l BIND($c AS ?c) }"
Q_LINKED_BOTH_WAYS = "SELECT DISTINCT ?o WHERE { GRAPH $g { { $node $p ?o } UNION { ?o $inverse $node } } }"
Q_LINKED = "SELECT DISTINCT ?o WHERE { GRAPH $g { $node $p ?o } }"
Q_CHILDREN = "SELECT DISTINCT ?c WHERE { GRAPH $g { $union } }"
Q_CHILD_PART = ("{ ?x <http://www.w3.org/2004/02/skos/core#broader> $c BIND($c AS ?c) } UNION "
                "{ $c <http://www.w3.org/2004/02/skos/core#narrower> ?x BIND($c AS ?c) }")
Q_HAS = "ASK { GRAPH $g { $node ?p ?o } }"
Q_TITLE = "SELECT ?t WHERE { GRAPH $meta { $g <http://purl.org/dc/terms/title> ?t } }"
Q_DESCRIBE = _S + "CONSTRUCT { $node ?p ?o . ?o skos:prefLabel ?l } WHERE { GRAPH $g { $node ?p ?o OPTIONAL { ?o skos:prefLabel ?l } } }"
Q_SCHEMES = _S + "SELECT ?s ?l WHERE { GRAPH $g { ?s a skos:ConceptScheme OPTIONAL { ?s skos:prefLabel ?l } } }"
Q_LANGS = _S + "SELECT DISTINCT (lang(?l) AS ?lang) WHERE { GRAPH $g { ?c skos:prefLabel ?l } }"
Q_TOP = _S + ("SELECT DISTINCT ?c WHERE { GRAPH $g { ?c a skos:Concept "
              "FILTER NOT EXISTS { ?c skos:broader ?b } FILTER NOT EXISTS { ?n skos:narrower ?c } } }")
Q_GROUPS = _S + ("SELECT ?c (SAMPLE(?l) AS ?label) (COUNT(?m) AS ?n) WHERE { GRAPH $g { ?c a skos:Collection "
                 "OPTIONAL { ?c skos:prefLabel ?l } OPTIONAL { ?c skos:member ?m } } } GROUP BY ?c ORDER BY ?label")

SKOS = "http://www.w3.org/2004/02/skos/core#"
PREFIX = "thesaurus-"
CONTEXT = {"skos": SKOS, "uri": "@id", "type": "@type", "onki": "http://schema.onki.fi/onki#"}


@dataclass
class LabelEntry:
    key: str  # normalised label, for prefix search
    vocab: str
    uri: str
    label: str
    lang: str
    kind: str  # prefLabel, altLabel, hiddenLabel


def _err(status: int, message: str) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status)


def build_skosmos(hub: Hub) -> APIRouter:
    settings = hub.settings
    router = APIRouter(prefix="/rest/v1")

    def vocabularies() -> dict[str, str]:
        prefix = settings.graph(PREFIX + "x")[:-1]
        # listing named graphs scans the store: once per write generation
        return hub.derived("skosmos-vocabularies",
                           lambda: {g[len(prefix):]: g for g in hub.store.named_graphs() if g.startswith(prefix)})

    def graph_of(vocid: str) -> str | None:
        return vocabularies().get(vocid)

    def label_index() -> list[LabelEntry]:
        def build() -> list[LabelEntry]:
            entries = []
            for vocid, g in vocabularies().items():
                for r in hub.store.select(fill(Q_LABELS, g=iri(g)), union=False):
                    text = r["l"].value
                    entries.append(LabelEntry(" ".join(normalise(text)), vocid, r["c"].value, text, r["l"].language or "",
                                              r["p"].value[len(SKOS):]))
            entries.sort(key=lambda e: e.key)
            return entries
        return hub.derived("skosmos-labels", build)

    def pref(g: str, uris: list[str], lang: str | None) -> dict[str, str]:
        if not uris:
            return {}
        found: dict[str, dict[str, str]] = {}
        branches = union([fill(Q_PREF_PART, c=iri(u)) for u in uris])
        for r in hub.store.select(fill(Q_PREF, g=iri(g), union=branches), union=False):
            found.setdefault(r["c"].value, {})[r["l"].language or ""] = r["l"].value
        out = {}
        for u, labels in found.items():
            out[u] = labels.get(lang or "en") or labels.get("en") or next(iter(labels.values()))
        return out

    def related(g: str, uri: str, prop: str, lang: str | None) -> list[dict]:
        node = iri(uri, "uri")
        if prop in ("narrower", "broader"):
            down, up = (SKOS + "narrower", SKOS + "broader") if prop == "narrower" else (SKOS + "broader", SKOS + "narrower")
            q = fill(Q_LINKED_BOTH_WAYS, g=iri(g), node=node, p=ox.NamedNode(down), inverse=ox.NamedNode(up))
        else:
            q = fill(Q_LINKED, g=iri(g), node=node, p=ox.NamedNode(SKOS + prop))
        uris = sorted(r["o"].value for r in hub.store.select(q, union=False))
        labels = pref(g, uris, lang)
        return [{"uri": u, "prefLabel": labels.get(u, u)} for u in uris]

    def has_children(g: str, uris: list[str]) -> set[str]:
        if not uris:
            return set()
        # one index lookup per concept (a VALUES join would scan every broader link first)
        branches = union([fill(Q_CHILD_PART, c=iri(u)) for u in uris])
        rows = hub.store.select(fill(Q_CHILDREN, g=iri(g), union=branches), union=False)
        return {r["c"].value for r in rows}

    def transitive(g: str, uri: str, prop: str, lang: str | None, limit: int) -> dict:
        out: dict[str, dict] = {}
        frontier = [uri]
        while frontier and len(out) < limit:
            nxt = []
            for u in frontier:
                if u in out:
                    continue
                items = related(g, u, prop, lang)
                out[u] = {"uri": u, prop: [i["uri"] for i in items]}
                nxt.extend(i["uri"] for i in items)
            frontier = nxt
        labels = pref(g, list(out), lang)
        for u, entry in out.items():
            entry["prefLabel"] = labels.get(u, u)
        return out

    def concept_or_404(vocid: str, uri: str | None) -> tuple[str | None, JSONResponse | None]:
        g = graph_of(vocid)
        if g is None:
            return None, _err(404, f"no vocabulary {vocid!r}")
        if not uri:
            return None, _err(400, "the uri parameter is required")
        try:
            node = iri(uri, "uri")
        except InvalidIri as e:
            return None, _err(400, e.message)
        if not hub.store.ask(fill(Q_HAS, g=iri(g), node=node), union=False):
            return None, _err(404, f"no concept {uri} in {vocid}")
        return g, None

    @router.get("/vocabularies")
    def list_vocabularies(lang: str = "en") -> JSONResponse:
        out = []
        meta = settings.meta_graph
        for vocid, g in sorted(vocabularies().items()):
            rows = hub.store.select(fill(Q_TITLE, meta=iri(meta), g=iri(g)), union=False)
            out.append({"uri": vocid, "id": vocid, "title": rows[0]["t"].value if rows else vocid})
        return JSONResponse({"@context": CONTEXT, "uri": "", "vocabularies": out})

    @router.get("/search")
    def search(query: str = "", lang: str | None = None, vocab: str | None = None, maxhits: int = 100, offset: int = 0,
               unique: bool = False) -> JSONResponse:
        return JSONResponse({"@context": CONTEXT, "uri": "", "results": _search(query, lang, vocab.split() if vocab else None, maxhits, offset, unique)})

    def _search(query: str, lang: str | None, vocabs: list[str] | None, maxhits: int, offset: int, unique: bool) -> list[dict]:
        query = query.strip()
        if not query or query == "*":
            return []
        entries = label_index()
        starts_wild, ends_wild = query.startswith("*"), query.endswith("*")
        key = " ".join(normalise(query.strip("*")))
        if not key:
            return []
        if starts_wild:
            candidates = (e for e in entries if key in e.key)
        else:
            i = bisect.bisect_left(entries, key, key=lambda e: e.key)
            candidates = []
            while i < len(entries) and entries[i].key.startswith(key):
                candidates.append(entries[i])
                i += 1
        results, seen = [], set()
        for e in candidates:
            if not ends_wild and not starts_wild and e.key != key:
                continue
            if (lang and e.lang != lang) or (vocabs and e.vocab not in vocabs):
                continue
            ident = e.uri if unique else (e.uri, e.label)
            if ident in seen:
                continue
            seen.add(ident)
            hit = {"uri": e.uri, "type": ["skos:Concept"], "prefLabel": e.label, "lang": e.lang, "vocab": e.vocab}
            if e.kind != "prefLabel":
                hit[e.kind] = e.label
            results.append(hit)
        results.sort(key=lambda h: (h.get("altLabel") is not None or h.get("hiddenLabel") is not None, len(h["prefLabel"]), h["prefLabel"]))
        page = results[offset: offset + maxhits]
        # hits on alt/hidden labels show the concept's prefLabel, as Skosmos does
        by_vocab: dict[str, list[str]] = {}
        for h in page:
            if "altLabel" in h or "hiddenLabel" in h:
                by_vocab.setdefault(h["vocab"], []).append(h["uri"])
        for vocid, uris in by_vocab.items():
            labels = pref(vocabularies()[vocid], uris, lang)
            for h in page:
                if h["vocab"] == vocid and h["uri"] in labels and ("altLabel" in h or "hiddenLabel" in h):
                    h["prefLabel"] = labels[h["uri"]]
        return page

    def data_response(request: Request, g: str, uri: str) -> Response:
        fmt = request.query_params.get("format")
        try:
            media = negotiate("graph", fmt or request.headers.get("accept") or "application/ld+json", None)
        except NotAcceptable as e:
            return _err(406, e.message)
        node = iri(uri, "uri")
        nt = hub.store.construct(fill(Q_DESCRIBE, g=iri(g), node=node), union=False)
        body = serialize_graph(ox.parse(nt, ox.RdfFormat.N_TRIPLES), media.media_type, {"skos": SKOS})
        return Response(body, media_type=content_type(media.media_type))

    @router.get("/data")
    def data_any(request: Request, uri: str = "") -> Response:
        for vocid in vocabularies():
            g, err = concept_or_404(vocid, uri)
            if g is not None:
                return data_response(request, g, uri)
        return _err(404, f"no concept {uri} in any vocabulary")

    @router.get("/{vocid}/")
    def vocabulary(vocid: str, lang: str = "en") -> JSONResponse:
        g = graph_of(vocid)
        if g is None:
            return _err(404, f"no vocabulary {vocid!r}")
        schemes = hub.store.select(fill(Q_SCHEMES, g=iri(g)), union=False)
        langs = sorted({r["lang"].value for r in hub.store.select(
            fill(Q_LANGS, g=iri(g)), union=False) if r.get("lang") and r["lang"].value})
        return JSONResponse({"@context": CONTEXT, "uri": vocid, "id": vocid, "title": vocid, "defaultLanguage": "en" if "en" in langs else (langs[0] if langs else ""),
                             "languages": langs, "conceptschemes": [{"uri": r["s"].value, "prefLabel": r["l"].value if "l" in r else ""} for r in schemes]})

    @router.get("/{vocid}/types")
    @router.get("/types")
    def types(vocid: str | None = None, lang: str = "en") -> JSONResponse:
        return JSONResponse({"@context": CONTEXT, "uri": "", "types": [{"uri": SKOS + "Concept", "label": "Concept"},
                                                                       {"uri": SKOS + "Collection", "label": "Collection"}]})

    @router.get("/{vocid}/topConcepts")
    def top_concepts(vocid: str, lang: str | None = None, scheme: str | None = None) -> JSONResponse:
        g = graph_of(vocid)
        if g is None:
            return _err(404, f"no vocabulary {vocid!r}")
        rows = hub.store.select(fill(Q_TOP, g=iri(g)), union=False)
        uris = sorted(r["c"].value for r in rows)
        labels, kids = pref(g, uris, lang), has_children(g, uris)
        top = sorted(({"uri": u, "label": labels.get(u, u), "hasChildren": u in kids, "topConceptOf": scheme or ""} for u in uris), key=lambda t: t["label"].lower())
        return JSONResponse({"@context": CONTEXT, "uri": vocid, "topconcepts": top})

    @router.get("/{vocid}/data")
    def data(request: Request, vocid: str, uri: str = "") -> Response:
        g, err = concept_or_404(vocid, uri)
        return err if err else data_response(request, g, uri)

    @router.get("/{vocid}/label")
    def label(vocid: str, uri: str = "", lang: str | None = None) -> JSONResponse:
        g, err = concept_or_404(vocid, uri)
        if err:
            return err
        return JSONResponse({"@context": CONTEXT, "uri": uri, "prefLabel": pref(g, [uri], lang).get(uri, "")})

    for prop in ("broader", "narrower", "related"):
        def make(prop: str):
            def one(vocid: str, uri: str = "", lang: str | None = None) -> JSONResponse:
                g, err = concept_or_404(vocid, uri)
                return err or JSONResponse({"@context": CONTEXT, "uri": uri, prop: related(g, uri, prop, lang)})

            def trans(vocid: str, uri: str = "", lang: str | None = None, limit: int = 1000) -> JSONResponse:
                g, err = concept_or_404(vocid, uri)
                return err or JSONResponse({"@context": CONTEXT, "uri": uri, prop + "Transitive": transitive(g, uri, prop, lang, limit)})
            return one, trans

        one, trans = make(prop)
        router.add_api_route(f"/{{vocid}}/{prop}", one, methods=["GET"])
        if prop != "related":
            router.add_api_route(f"/{{vocid}}/{prop}Transitive", trans, methods=["GET"])

    @router.get("/{vocid}/children")
    def children(vocid: str, uri: str = "", lang: str | None = None) -> JSONResponse:
        g, err = concept_or_404(vocid, uri)
        if err:
            return err
        items = related(g, uri, "narrower", lang)
        kids = has_children(g, [i["uri"] for i in items])
        return JSONResponse({"@context": CONTEXT, "uri": uri, "narrower": [{**i, "hasChildren": i["uri"] in kids} for i in items]})

    @router.get("/{vocid}/hierarchy")
    def hierarchy(vocid: str, uri: str = "", lang: str | None = None) -> JSONResponse:
        g, err = concept_or_404(vocid, uri)
        if err:
            return err
        return JSONResponse({"@context": CONTEXT, "uri": uri, "broaderTransitive": transitive(g, uri, "broader", lang, 100)})

    @router.get("/{vocid}/lookup")
    def lookup(vocid: str, label: str = "", lang: str | None = None) -> JSONResponse:
        if graph_of(vocid) is None:
            return _err(404, f"no vocabulary {vocid!r}")
        hits = _search(label, lang, [vocid], 20, 0, True)
        if not hits:
            return _err(404, f"no concept labelled {label!r} in {vocid}")
        return JSONResponse({"@context": CONTEXT, "result": [{"uri": h["uri"], "prefLabel": h["prefLabel"], "lang": h["lang"]} for h in hits]})

    @router.get("/{vocid}/groups")
    def groups(vocid: str, lang: str | None = None) -> JSONResponse:
        g = graph_of(vocid)
        if g is None:
            return _err(404, f"no vocabulary {vocid!r}")
        rows = hub.store.select(fill(Q_GROUPS, g=iri(g)), union=False)
        return JSONResponse({"@context": CONTEXT, "uri": vocid, "groups": [
            {"uri": r["c"].value, "prefLabel": r["label"].value if "label" in r else "", "hasMembers": int(r["n"].value) > 0} for r in rows]})

    return router
