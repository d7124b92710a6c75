"""The SPARQL service with real clients against a live hub (embedded store and `oxigraph serve`).

SPARQLWrapper and rdflib's SPARQLStore / SPARQLUpdateStore talk to uvicorn on 127.0.0.1; bad input
gets a clear error and leaves the store exactly as it was.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
import time

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore, SPARQLUpdateStore
from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

from conftest import MODES, snapshot, start_live_hub, server_for

DECISION_X15 = "{base}decision/cop/10/15"
LOOKUP = "SELECT ?p ?o WHERE {{ <{iri}> ?p ?o }}"
HUGE = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
JOIN = ("SELECT ?d ?title WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?e . "
        "?e <http://data.europa.eu/eli/ontology#title> ?title } LIMIT 2")
# the same work with a one-row answer: over a remote store, nothing reaches the client before the end
HUGE_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def _decision(live) -> str:
    return DECISION_X15.format(base=live.settings.base)


# -- real clients --------------------------------------------------------------------------------

def test_sparqlwrapper_select_json_and_xml(live_hub):
    sw = SPARQLWrapper(live_hub.url + "/sparql")
    sw.setQuery(LOOKUP.format(iri=_decision(live_hub)))
    sw.setReturnFormat(JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert {"type": "literal", "value": "X/15"} in [r["o"] for r in rows]
    sw.setReturnFormat(XML)
    doc = sw.query().convert()  # an xml.dom document
    literals = [n.firstChild.data for n in doc.getElementsByTagName("literal")]
    assert "X/15" in literals
    sw.setMethod("POST")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["results"]["bindings"] == rows


def test_sparqlwrapper_construct(live_hub):
    sw = SPARQLWrapper(live_hub.url + "/sparql")
    sw.setQuery(f"CONSTRUCT WHERE {{ <{_decision(live_hub)}> ?p ?o }}")
    sw.setReturnFormat(TURTLE)
    data = sw.query().convert()
    g = rdflib.Graph().parse(data=data, format="turtle")
    assert (rdflib.URIRef(_decision(live_hub)), rdflib.URIRef("https://w3id.org/chmkg/ns#symbol"), rdflib.Literal("X/15")) in g
    sw.setReturnFormat(XML)  # SPARQLWrapper asks RDF/XML for a CONSTRUCT and parses it into a graph
    g2 = sw.query().convert()
    assert len(g2) == len(g)


def test_rdflib_sparqlstore_reads_and_token_writes(live_hub):
    reader = rdflib.Graph(SPARQLStore(live_hub.url + "/sparql"))
    symbols = {str(o) for o in reader.objects(rdflib.URIRef(_decision(live_hub)), rdflib.URIRef("https://w3id.org/chmkg/ns#symbol"))}
    assert symbols == {"X/15"}
    rows = list(reader.query("SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/chmkg/ns#Decision> }"))
    assert int(rows[0][0]) == 410  # 56 from the seeds + the rest of the shared decision index

    graph_iri = rdflib.URIRef("http://example.org/notes")
    note = (rdflib.URIRef("http://example.org/note/1"), rdflib.RDFS.label, rdflib.Literal("a note", lang="en"))
    anonymous = SPARQLUpdateStore(live_hub.url + "/sparql", live_hub.url + "/sparql")
    with pytest.raises(Exception, match="401|Unauthorized"):
        rdflib.Graph(anonymous, identifier=graph_iri).add(note)
    writer = SPARQLUpdateStore(live_hub.url + "/sparql", live_hub.url + "/sparql", auth=("editor", live_hub.editor))
    rdflib.Graph(writer, identifier=graph_iri).add(note)
    r = httpx.get(live_hub.url + "/gsp", params={"graph": str(graph_iri)}, headers={"accept": "application/n-triples"})
    assert r.status_code == 200 and '"a note"@en' in r.text
    rdflib.Graph(writer, identifier=graph_iri).remove(note)
    assert httpx.get(live_hub.url + "/gsp", params={"graph": str(graph_iri)}).status_code == 404


# -- protocol behaviour ----------------------------------------------------------------------------

@pytest.mark.parametrize("accept,expected", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    # rdflib's SPARQLStore sends results and RDF types together: the query's form decides
    ("application/sparql-results+xml, application/rdf+xml;q=0.9, text/turtle;q=0.8", "application/sparql-results+xml"),
])
def test_select_by_accept(live_hub, accept, expected):
    r = httpx.get(live_hub.url + "/sparql", params={"query": LOOKUP.format(iri=_decision(live_hub))}, headers={"accept": accept})
    assert r.status_code == 200
    assert r.headers["content-type"].split(";")[0] == expected
    assert "X/15" in r.text


@pytest.mark.parametrize("accept,expected,fmt", [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/sparql-results+json, application/rdf+xml;q=0.8, text/turtle;q=0.9", "text/turtle", "turtle"),
])
def test_construct_by_accept(live_hub, accept, expected, fmt):
    q = f"DESCRIBE <{_decision(live_hub)}>"
    r = httpx.post(live_hub.url + "/sparql", content=q, headers={"content-type": "application/sparql-query", "accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].split(";")[0] == expected
    g = rdflib.Graph().parse(data=r.text, format=fmt)
    assert (rdflib.URIRef(_decision(live_hub)), None, rdflib.Literal("X/15")) in g


def test_client_format_parameters_are_honoured_or_ignored(live_hub):
    q = {"query": "ASK { ?s ?p ?o }"}
    assert httpx.get(live_hub.url + "/sparql", params=q | {"format": "xml"}).headers["content-type"].startswith("application/sparql-results+xml")
    assert httpx.get(live_hub.url + "/sparql", params=q | {"output": "json", "results": "json"}).json() == {"head": {}, "boolean": True}
    r = httpx.get(live_hub.url + "/sparql", params=q | {"format": "no-such-thing"})
    assert r.status_code == 200 and r.json()["boolean"] is True


def test_default_graph_is_the_union_and_switchable(live_hub):
    q = "ASK { ?s a <https://w3id.org/chmkg/ns#Decision> }"
    assert httpx.get(live_hub.url + "/sparql", params={"query": q}).json()["boolean"] is True
    off = httpx.get(live_hub.url + "/sparql", params={"query": q, "union-default-graph": "false"})
    assert off.json()["boolean"] is False
    named = httpx.get(live_hub.url + "/sparql", params={"query": q, "default-graph-uri": live_hub.settings.graph("bundled")})
    assert named.json()["boolean"] is True


def test_cors_and_cache(live_hub):
    q = {"query": LOOKUP.format(iri=_decision(live_hub))}
    first = httpx.get(live_hub.url + "/sparql", params=q, headers={"origin": "https://partner.example"})
    assert first.headers["access-control-allow-origin"] in ("*", "https://partner.example")
    second = httpx.get(live_hub.url + "/sparql", params=q)
    assert second.headers.get("x-cache") == "hit" and second.content == first.content
    # a write empties the cache: the next answer is computed afresh and shows the change
    r = httpx.post(live_hub.url + "/sparql", headers={"content-type": "application/sparql-update", **live_hub.auth()},
                   content=f'INSERT DATA {{ GRAPH <http://example.org/notes> {{ <{_decision(live_hub)}> <http://www.w3.org/2000/01/rdf-schema#comment> "seen" }} }}')
    assert r.status_code == 200, r.text
    third = httpx.get(live_hub.url + "/sparql", params=q)
    assert third.headers.get("x-cache") is None and "seen" in third.text


def test_void_catalog_and_dumps_follow_writes(live_hub):
    def triples_of(graph: str) -> int:
        g = rdflib.Graph().parse(data=httpx.get(live_hub.url + "/.well-known/void").text, format="turtle")
        void = rdflib.Namespace("http://rdfs.org/ns/void#")
        sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
        for ds in g.subjects(sd.name, rdflib.URIRef(graph)):
            return int(g.value(ds, void.triples))
        return 0

    notes = "http://example.org/notes"
    assert triples_of(notes) == 0
    r = httpx.put(live_hub.url + "/gsp", params={"graph": notes}, headers={"content-type": "text/turtle", **live_hub.auth()},
                  content=b'<http://example.org/n1> <http://www.w3.org/2000/01/rdf-schema#label> "one" , "uno"@es .')
    assert r.status_code == 201
    assert triples_of(notes) == 2
    listing = {d["graph"]: d for d in httpx.get(live_hub.url + "/dumps").json() if d["name"].endswith(".nq.gz")}
    dump = httpx.get(listing[notes]["url"].replace(live_hub.settings.base.rstrip("/"), live_hub.url))
    assert hashlib.sha256(dump.content).hexdigest() == listing[notes]["sha256"]
    assert len(dump.content) == listing[notes]["bytes"]
    assert gzip.decompress(dump.content).count(b"\n") == 2
    catalog = rdflib.Graph().parse(data=httpx.get(live_hub.url + "/catalog").text, format="turtle")
    spdx = rdflib.Namespace("http://spdx.org/rdf/terms#")
    assert rdflib.Literal(listing[notes]["sha256"], datatype=rdflib.XSD.hexBinary) in set(catalog.objects(None, spdx.checksumValue))


# -- bad input: a clear error, nothing changed -----------------------------------------------------

@pytest.fixture(params=MODES)
def strict_hub(request, tmp_path):
    remote = server_for(request, request.param)
    live, stop = start_live_hub(tmp_path, request.param, remote, query_timeout=1.0, row_cap=50, max_query_length=2000)
    yield live
    stop()


def test_syntax_error_names_the_position(strict_hub):
    r = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p }"})
    assert r.status_code == 400
    assert "syntax error" in r.json()["detail"] and "1:" in r.json()["detail"]


def test_unknown_result_format_is_406_with_the_offers(strict_hub):
    r = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 1"}, headers={"accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.json()["detail"] and "text/csv" in r.json()["detail"]


def test_oversized_query_is_413(strict_hub):
    q = "SELECT * WHERE { ?s ?p ?o } # " + "x" * 3000
    r = httpx.post(strict_hub.url + "/sparql", content=q, headers={"content-type": "application/sparql-query"})
    assert r.status_code == 413 and "2,000" in r.json()["detail"]


def test_row_cap_is_stated_not_silent(strict_hub):
    r = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    body = r.json()
    assert len(body["results"]["bindings"]) == 50
    assert r.headers["x-result-truncated"] == "true" and r.headers["x-row-cap"] == "50"
    assert body["head"]["link"] == [strict_hub.settings.base + "about/limits"]
    # a reader is not capped (LIMIT 500: the whole store would race the 1 s deadline on a busy machine)
    full = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o } LIMIT 500"},
                     headers=strict_hub.auth(strict_hub.reader))
    assert len(full.json()["results"]["bindings"]) == 500 and "x-result-truncated" not in full.headers


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
def test_runaway_query_is_stopped_and_others_are_served(request, tmp_path, mode):
    """Ordering, not speed: the second client's answer comes while the runaway query still runs (its
    deadline is generous, so a busy machine does not change the order), and the runaway ends in 503."""
    remote = server_for(request, mode)
    hub, stop = start_live_hub(tmp_path, mode, remote, query_timeout=8.0, row_cap=50, max_query_length=2000)
    try:
        result: dict = {}
        started = threading.Event()

        def runaway():
            started.set()
            # over a remote store, a token holder's long answer streams from the store (the pass-through) and is
            # cut at the deadline (test_a_streamed_answer_past_its_deadline_is_cut…); a slow short one is a 503
            query = HUGE if mode == "embedded" else HUGE_COUNT
            result["response"] = httpx.get(hub.url + "/sparql", params={"query": query}, headers=hub.auth(hub.reader), timeout=120)

        thread = threading.Thread(target=runaway)
        thread.start()
        started.wait(timeout=30)
        deadline = time.monotonic() + 30
        while ("response" not in result and not httpx.get(hub.url + "/healthz").json()["running_queries"]
               and time.monotonic() < deadline):
            time.sleep(0.02)  # bounded: until the runaway query is being evaluated (or was refused up front)
        quick = httpx.get(hub.url + "/sparql", params={"query": LOOKUP.format(iri=_decision(hub))}, timeout=120)
        assert quick.status_code == 200 and "X/15" in quick.text
        if mode != "virtuoso":  # Virtuoso refuses it up front: its estimate of the time is past its limit
            assert "response" not in result, "the second client was answered only after the runaway query"
        thread.join(timeout=120)
        r = result["response"]
        assert r.status_code == 503 and "time limit" in r.json()["detail"]
        deadline = time.monotonic() + 60
        while httpx.get(hub.url + "/healthz").json()["running_queries"] and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded: the stopped query's thread winds down within a batch of rows
        assert httpx.get(hub.url + "/healthz").json()["running_queries"] == 0
    finally:
        stop()


def test_service_calls_are_off_unless_allowed(strict_hub):
    for target in ("http://example.org/sparql", strict_hub.url + "/sparql"):
        r = httpx.get(strict_hub.url + "/sparql", params={"query": f"SELECT * WHERE {{ SERVICE <{target}> {{ ?s ?p ?o }} }}"})
        assert r.status_code == 403 and "SERVICE" in r.json()["detail"]
    r = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT * WHERE { SERVICE ?x { ?s ?p ?o } }"})
    assert r.status_code == 403
    # the word inside a string is not a SERVICE call
    r = httpx.get(strict_hub.url + "/sparql", params={"query": 'SELECT * WHERE { ?s ?p "SERVICE <http://x/>" }'})
    assert r.status_code == 200


def test_update_without_token_is_401_and_changes_nothing(strict_hub):
    before = snapshot(strict_hub.hub.store)
    r = httpx.post(strict_hub.url + "/sparql", data={"update": "DROP ALL"})
    assert r.status_code == 401 and "token" in r.json()["detail"]
    r = httpx.post(strict_hub.url + "/sparql", data={"update": "DROP ALL"}, headers={"authorization": "Bearer chmkg_forged"})
    assert r.status_code == 401
    r = httpx.post(strict_hub.url + "/sparql", data={"update": "DROP ALL"}, headers=strict_hub.auth(strict_hub.reader))
    assert r.status_code == 403 and "editor" in r.json()["detail"]
    assert snapshot(strict_hub.hub.store) == before


def test_update_breaking_a_shape_is_refused_whole(strict_hub):
    before = snapshot(strict_hub.hub.store)
    decision = _decision(strict_hub)
    update = (
        f"INSERT DATA {{ GRAPH <http://example.org/notes> {{ <http://example.org/n> <http://www.w3.org/2000/01/rdf-schema#label> \"fine\" }} }} ;\n"
        f"DELETE WHERE {{ GRAPH ?g {{ <{decision}> <https://w3id.org/chmkg/ns#symbol> ?s }} }}"
    )
    r = httpx.post(strict_hub.url + "/sparql", content=update, headers={"content-type": "application/sparql-update", **strict_hub.auth()})
    assert r.status_code == 422
    body = r.json()
    assert any(v["focus"] == decision and v["path"].endswith("#symbol") for v in body["report"]["violations"])
    assert snapshot(strict_hub.hub.store) == before


def test_update_outside_named_graphs_or_into_meta_is_refused(strict_hub):
    before = snapshot(strict_hub.hub.store)
    h = {"content-type": "application/sparql-update", **strict_hub.auth()}
    r = httpx.post(strict_hub.url + "/sparql", content='INSERT DATA { <http://x/s> <http://x/p> "o" }', headers=h)
    assert r.status_code == 400 and "named graph" in r.json()["detail"]
    r = httpx.post(strict_hub.url + "/sparql", content=f'INSERT DATA {{ GRAPH <{strict_hub.settings.meta_graph}> {{ <http://x/s> <http://x/p> "o" }} }}', headers=h)
    assert r.status_code == 403 and "meta graph" in r.json()["detail"]
    assert snapshot(strict_hub.hub.store) == before


@pytest.mark.parametrize("body,ctype,status,words", [
    (b'<http://x/s> <http://x/p> "unterminated .', "text/turtle", 400, "malformed"),
    (b"\xff\xfe not utf-8", "text/turtle; charset=utf-16", 415, "UTF-8"),
    (b"<a> <b> <c> .", "application/x-shockwave-flash", 415, "cannot read"),
    (b"", "text/turtle", 400, "empty"),
])
def test_graph_store_put_of_bad_bodies_changes_nothing(strict_hub, body, ctype, status, words):
    before = snapshot(strict_hub.hub.store)
    r = httpx.put(strict_hub.url + "/gsp", params={"graph": strict_hub.settings.graph("bundled")}, content=body,
                  headers={"content-type": ctype, **strict_hub.auth()})
    assert r.status_code == status and words in r.json()["detail"]
    assert snapshot(strict_hub.hub.store) == before


def test_graph_store_delete_that_would_dangle_is_refused(strict_hub):
    """Removing a graph other graphs' shapes depend on is checked like any write."""
    live = strict_hub
    h = {"content-type": "text/turtle", **live.auth()}
    r = httpx.put(live.url + "/gsp", params={"graph": "http://example.org/records"}, headers=h, content=(
        "@prefix chm: <https://w3id.org/chmkg/ns#> . @prefix dcterms: <http://purl.org/dc/terms/> .\n"
        "<http://example.org/r1> a chm:Record ; dcterms:title \"Report\"@en ; dcterms:language \"en\" ;\n"
        f"  dcterms:subject <{live.settings.base}scheme/aichi-targets/target-19> ."))
    assert r.status_code == 201, r.text
    before = snapshot(live.hub.store)
    r = httpx.delete(live.url + "/gsp", params={"graph": live.settings.graph("bundled")}, headers=live.auth())
    assert r.status_code == 422 and "http://example.org/r1" in r.text
    assert snapshot(live.hub.store) == before


def test_queries_page_and_editor_are_served_offline(live_hub):
    page = httpx.get(live_hub.url + "/queries").text
    assert "Decision lineage" in page or "lineage" in page
    editor = httpx.get(live_hub.url + "/editor").text
    assert "/static/vendor/yasgui/yasgui.min.js" in editor and "https://" not in editor.split("<body>")[0]
    js = httpx.get(live_hub.url + "/static/vendor/yasgui/yasgui.min.js")
    assert js.status_code == 200 and len(js.content) > 500_000
    html = httpx.get(live_hub.url + "/sparql", headers={"accept": "text/html"}, follow_redirects=False)
    assert html.status_code == 303 and html.headers["location"].endswith("/editor")


def test_service_allow_list_lets_listed_endpoints_through(tmp_path, oxigraph_server):
    """With the remote store's endpoint on the allow-list, a federated query reaches it."""
    from sparql.store import RemoteStore

    remote = RemoteStore(oxigraph_server + "/query", oxigraph_server + "/update")
    remote.update('DROP SILENT ALL ; INSERT DATA { GRAPH <http://example.org/far> { <http://example.org/far/s> <http://example.org/p> "far away" } }')
    remote.close()
    live, stop = start_live_hub(tmp_path, "embedded", service_allow=oxigraph_server + "/query")
    try:
        q = f'SELECT ?o WHERE {{ SERVICE <{oxigraph_server}/query?union-default-graph> {{ <http://example.org/far/s> ?p ?o }} }}'
        r = httpx.get(live.url + "/sparql", params={"query": q})
        assert r.status_code == 200, r.text
        assert [b["o"]["value"] for b in r.json()["results"]["bindings"]] == ["far away"]
        other = httpx.get(live.url + "/sparql", params={"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"})
        assert other.status_code == 403
    finally:
        stop()


def test_deep_property_path_is_stopped_by_the_timeout(strict_hub):
    """Every node to every node it reaches over any predicate, transitively: built to explode."""
    r = httpx.get(strict_hub.url + "/sparql", params={"query": "SELECT ?s ?o WHERE { ?s (!<urn:none>|^!<urn:none>)* ?o }"},
                  headers=strict_hub.auth(strict_hub.reader), timeout=120)
    if strict_hub.settings.remote_engine == "virtuoso":  # it does not evaluate a path open at both ends
        assert r.status_code == 400 and "cannot evaluate" in r.json()["detail"] and "transitive start" in r.json()["detail"]
    else:
        assert r.status_code == 503 and "time limit" in r.json()["detail"]
    assert httpx.get(strict_hub.url + "/sparql", params={"query": "ASK {}"}).status_code == 200


@pytest.fixture
def capped_hub(tmp_path):
    from conftest import start_live_hub

    live, stop = start_live_hub(tmp_path, "embedded", row_cap=3)
    yield live
    stop()


def test_an_uncached_lookup_answered_before_routing_is_the_routes_answer(capped_hub):
    """The ASGI fast path in front of the app (hub/web/routers/sparql.py CachedQueries) answers a
    bound-subject lookup, and then the same from its cache, without the middleware or the routing;
    the same query with one more parameter goes through the route. Same body, same headers (the
    security headers included), same cap. A request with an Origin passes on, for CORS to answer."""
    url = capped_hub.url + "/sparql"
    from sparql.builder import fill

    fast_path = capped_hub.app.fast
    inner, passed_on = fast_path.app, []

    async def counting(scope, receive, send):  # what the fast path hands on to the app: observed, not changed
        passed_on.append(scope["query_string"])
        await inner(scope, receive, send)

    fast_path.app = counting
    security = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy",
                "cross-origin-opener-policy", "permissions-policy")
    node = ox.NamedNode(capped_hub.settings.base + "decision/cop/15/16")
    lookup = str(fill("SELECT ?p ?o WHERE { $s ?p ?o }", s=node))
    try:
        for query, accept in ((lookup, "application/sparql-results+json"),
                              (str(fill("SELECT ?g ?p ?o WHERE { GRAPH ?g { $s ?p ?o } }", s=node)), "text/csv"),
                              (str(fill("ASK { $s ?p ?o }", s=node)), "application/sparql-results+xml"),
                              (JOIN, "application/sparql-results+json")):  # not a lookup: on the query workers
            capped_hub.app.state.hub.cache.clear()
            before = len(passed_on)
            fast = httpx.get(url, params={"query": query}, headers={"accept": accept})
            assert len(passed_on) == before, "the lookup went through the app"
            routed = httpx.get(url, params={"query": query, "union-default-graph": "true"}, headers={"accept": accept})
            assert len(passed_on) == before + 1
            assert fast.status_code == routed.status_code == 200
            assert fast.content == routed.content
            for h in ("content-type", "vary", "x-result-truncated", "x-row-cap", "link", *security):
                assert fast.headers.get(h) == routed.headers.get(h), h
            assert "x-cache" not in fast.headers
            hit = httpx.get(url, params={"query": query}, headers={"accept": accept})
            assert hit.headers.get("x-cache") == "hit" and hit.content == fast.content and len(passed_on) == before + 1
            assert all(hit.headers.get(h) == routed.headers.get(h) for h in security)
            # a page on a partner's site asks: the app answers, with its CORS headers
            origin = {"accept": accept, "origin": "https://partner.example"}
            cors = httpx.get(url, params={"query": query}, headers=origin)
            cors_routed = httpx.get(url, params={"query": query, "union-default-graph": "true"}, headers=origin)
            assert len(passed_on) == before + 3 and cors.content == fast.content
            for h in ("access-control-allow-origin", "access-control-expose-headers", "vary", *security):
                assert cors.headers.get(h) == cors_routed.headers.get(h), h
    finally:
        fast_path.app = inner
    capped = httpx.get(url, params={"query": lookup}, headers={"accept": "application/sparql-results+json"})
    assert capped.headers["x-result-truncated"] == "true" and len(capped.json()["results"]["bindings"]) == 3
    # with a token the cap is lifted: that request is the route's
    full = httpx.get(url, params={"query": lookup},
                     headers={"accept": "application/sparql-results+json", **capped_hub.auth()})
    assert "x-result-truncated" not in full.headers and len(full.json()["results"]["bindings"]) > 3


def test_a_lookup_the_engine_writes_is_byte_for_byte_the_routes_answer(tmp_path):
    """With the default cap, the fast path has pyoxigraph write a lookup's JSON itself (no Python
    object per row); the route serialises in Python. Over literals that test escaping (quotes, a
    newline, a tab, a backslash, a control character, U+2028, an emoji, markup), language tags,
    datatypes, a blank node and a non-ASCII IRI, both give the same bytes."""
    from sparql.builder import fill

    live, stop = start_live_hub(tmp_path, "embedded")
    try:
        hub = live.app.state.hub
        s, p = ox.NamedNode(live.settings.base + "test/escapes"), ox.NamedNode("http://example.org/p")
        objects = [ox.Literal('a "quoted"\n\t\\ \x01 \u2028 é 😀 </script>', language="en"),
                   ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")),
                   ox.Literal("plain"), ox.BlankNode("b1"), ox.NamedNode("http://example.org/oé")]
        body = ox.serialize([ox.Triple(s, p, o) for o in objects], format=ox.RdfFormat.N_TRIPLES)
        put = httpx.put(live.url + "/gsp", params={"graph": "http://example.org/escapes"}, content=body,
                        headers={"content-type": "application/n-triples", **live.auth()})
        assert put.status_code in (201, 204), put.text
        engine_answers = []
        written_by = hub.store.solutions_json

        def observed(*args, **kwargs):  # what the engine wrote: observed, not changed
            out = written_by(*args, **kwargs)
            engine_answers.append(out)
            return out

        hub.store.solutions_json = observed
        query = str(fill("SELECT ?p ?o ?unbound WHERE { $s ?p ?o }", s=s))
        accept = {"accept": "application/sparql-results+json"}
        fast = httpx.get(live.url + "/sparql", params={"query": query}, headers=accept)
        routed = httpx.get(live.url + "/sparql", params={"query": query, "union-default-graph": "true"}, headers=accept)
        assert len(engine_answers) == 1 and engine_answers[0] is not None, "the engine did not write the lookup"
        assert fast.status_code == routed.status_code == 200
        assert fast.content == routed.content == engine_answers[0]
        assert fast.headers["vary"] == routed.headers["vary"] and fast.headers["content-type"] == routed.headers["content-type"]
        values = sorted((b["o"]["type"], b["o"]["value"]) for b in fast.json()["results"]["bindings"] if b["o"]["type"] != "bnode")
        assert values == sorted([("literal", "1"), ("uri", "http://example.org/oé"), ("literal", "plain"), ("literal", objects[0].value)])
        assert sum(b["o"]["type"] == "bnode" for b in fast.json()["results"]["bindings"]) == 1
        # a join is not a lookup: it runs on the query workers, and the engine writes it too
        fast = httpx.get(live.url + "/sparql", params={"query": JOIN}, headers=accept)
        routed = httpx.get(live.url + "/sparql", params={"query": JOIN, "union-default-graph": "true"}, headers=accept)
        assert len(engine_answers) == 2 and engine_answers[1] == fast.content == routed.content
        assert len(fast.json()["results"]["bindings"]) == 2
        # non-ASCII in the query (percent-escaped UTF-8) reads as the route reads it
        query = str(fill("SELECT ?o WHERE { $s ?p ?o FILTER (?o = $v) }", s=s, v=ox.Literal("plain"))) + " # é 😀"
        fast = httpx.get(live.url + "/sparql", params={"query": query}, headers=accept)
        routed = httpx.get(live.url + "/sparql", params={"query": query, "union-default-graph": "true"}, headers=accept)
        assert len(engine_answers) == 3 and engine_answers[2] == fast.content == routed.content
        assert [b["o"]["value"] for b in fast.json()["results"]["bindings"]] == ["plain"]
    finally:
        stop()


@pytest.mark.parametrize("inline_ms", [1e9, 0])
def test_a_query_seen_to_be_quick_runs_on_the_event_loop_until_the_next_write(tmp_path, inline_ms):
    """A join is not a lookup: it first runs on a query worker. Once seen to take less than
    inline_query_ms (here: any time, or never), the same text runs on the event loop — no thread hop —
    until a write moves the generation."""
    from sparql.builder import fill

    live, stop = start_live_hub(tmp_path, "embedded", inline_query_ms=inline_ms)
    try:
        hub = live.app.state.hub
        threads = []
        write = hub.store.solutions_json

        def observed(*args, **kwargs):  # where the engine was asked: observed, not changed
            threads.append(threading.get_ident())
            return write(*args, **kwargs)

        hub.store.solutions_json = observed
        accept = {"accept": "application/sparql-results+json"}

        def ask(query: str) -> None:
            hub.cache.clear()
            r = httpx.get(live.url + "/sparql", params={"query": query}, headers=accept)
            assert r.status_code == 200 and r.json()["results"]["bindings"]

        ask(str(fill("SELECT ?p ?o WHERE { $s ?p ?o }", s=ox.NamedNode(_decision(live)))))  # a lookup: on the loop
        loop = threads[-1]
        ask(JOIN)
        ask(JOIN)
        body = ox.serialize([ox.Triple(ox.NamedNode(live.settings.base + "test/x"), ox.NamedNode("http://example.org/p"),
                                       ox.Literal("x"))], format=ox.RdfFormat.N_TRIPLES)
        put = httpx.put(live.url + "/gsp", params={"graph": "http://example.org/moves"}, content=body,
                        headers={"content-type": "application/n-triples", **live.auth()})
        assert put.status_code in (201, 204), put.text
        ask(JOIN)
        on_loop = [t == loop for t in threads[1:]]
        assert on_loop == ([False, True, False] if inline_ms else [False, False, False])
    finally:
        stop()


def test_a_query_past_its_deadline_on_the_fast_path_is_answered_with_its_error_and_not_run_again(tmp_path):
    """An anonymous join runs on the fast path (on the query workers); past its deadline (here: at
    once) the request passes on to the route with the error, which answers 503 without a second run."""
    live, stop = start_live_hub(tmp_path, "embedded", query_timeout=1e-6)
    try:
        hub = live.app.state.hub
        runs = []
        evaluate, write = hub.store.execute, hub.store.solutions_json

        def counted(fn):
            def run(*args, **kwargs):  # observed, not changed
                runs.append(fn.__name__)
                return fn(*args, **kwargs)
            return run

        hub.store.execute, hub.store.solutions_json = counted(evaluate), counted(write)
        r = httpx.get(live.url + "/sparql", params={"query": JOIN}, headers={"accept": "application/sparql-results+json"})
        assert r.status_code == 503 and "time limit" in r.json()["detail"]
        assert runs == ["solutions_json"], runs
        assert r.headers["x-content-type-options"] == "nosniff"  # the app's middleware answered
    finally:
        stop()


@pytest.mark.parametrize("query", ["SELECT ?p WHERE { <http://x/a> ?p ", "SELECT ?p WHERE { <http://x/a> ?p ?o } LIMIT x",
                                   "ASK { <http://x/a> ?p ?o } ; DROP ALL", "SELECT * WHERE { <http://x/a> ?p ?o . FILTER(<http://x/f>(?o)) }"])
def test_bad_lookups_get_the_routes_clear_error(capped_hub, query):
    r = httpx.get(capped_hub.url + "/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]


@pytest.mark.parametrize("update", ["DROP ALL", "CLEAR SILENT NAMED", "INSERT DATA { GRAPH <http://example.org/g> { <http://example.org/a> <http://example.org/b> 1 } } ; DROP ALL"])
def test_an_editor_cannot_empty_the_whole_store_in_one_request(capped_hub, update):
    count = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
    before = httpx.get(capped_hub.url + "/sparql", params={"query": count}, headers={"accept": "application/sparql-results+json",
                                                                                        **capped_hub.auth()}).json()
    r = httpx.post(capped_hub.url + "/sparql", data={"update": update}, headers=capped_hub.auth())
    assert r.status_code == 403 and "admin" in r.json()["detail"]
    after = httpx.get(capped_hub.url + "/sparql", params={"query": count}, headers={"accept": "application/sparql-results+json",
                                                                                       **capped_hub.auth()}).json()
    assert before == after and before["results"]["bindings"][0]["n"]["value"] != "0"
