"""`chmkg serve --workers N`: reader processes over a read-only view of the embedded store, one writer.

Real processes on 127.0.0.1, real clients (SPARQLWrapper, rdflib's SPARQLStore, httpx): an
acknowledged write is seen by the very next read whichever process answers it; writes, bad input and
hostile requests behave through a reader exactly as they do against one process.
"""

from __future__ import annotations

import subprocess

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE, META, _free_port, graph
from test_faults import CHMKG, ENV, _token, _wait

from sparql.builder import fill

pytestmark = pytest.mark.slow

S = "http://example.org/workers/s"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    path = tmp_path_factory.mktemp("workers") / "store"
    store = EmbeddedStore(path)
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    store.close()
    args = ["--store", str(path)]
    token = _token(args)
    port = _free_port()
    proc = subprocess.Popen([CHMKG, *args, "serve", "--port", str(port), "--no-build-if-missing", "--workers", "2"],
                            env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url + "/healthz", proc, seconds=240)
        yield url, token
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def _ask(url: str, query: str) -> bool:
    # a new connection each time: the readers share the port, so any of them may answer
    with httpx.Client() as c:
        r = c.get(url + "/sparql", params={"query": query}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.json()["boolean"]


def _count(url: str) -> int:
    r = httpx.get(url + "/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
                  headers={"accept": "application/sparql-results+json"})
    return int(r.json()["results"]["bindings"][0]["n"]["value"])


def test_readers_answer_and_every_acknowledged_write_is_seen_by_the_next_read(served):
    url, token = served
    health = httpx.get(url + "/healthz").json()
    assert health["role"] == "reader" and health["mode"] == "embedded"
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    for i in range(3):
        w = SPARQLWrapper(url + "/sparql", updateEndpoint=url + "/sparql")
        w.addCustomHttpHeader("Authorization", f"Bearer {token}")
        w.setMethod(POST)
        w.setQuery(str(fill("INSERT DATA { GRAPH <http://example.org/workers> { $s <http://example.org/p> $v } }",
                            s=ox.NamedNode(S), v=ox.Literal(str(i), datatype=ox.NamedNode(XSD_INTEGER)))))
        w.query()  # acknowledged: from here on every process answers with it
        ask = str(fill("ASK { $s <http://example.org/p> $v }", s=ox.NamedNode(S), v=ox.Literal(str(i), datatype=ox.NamedNode(XSD_INTEGER))))
        seen = [_ask(url, ask) for _ in range(12)]
        assert all(seen), seen
        r = SPARQLWrapper(url + "/sparql")
        r.setQuery(str(fill("SELECT ?o WHERE { $s <http://example.org/p> ?o }", s=ox.NamedNode(S))))
        r.setReturnFormat(JSON)
        values = {int(b["o"]["value"]) for b in r.query().convert()["results"]["bindings"]}
        assert values == set(range(i + 1))
    from rdflib import Graph
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    g = Graph(store=SPARQLStore(url + "/sparql", returnFormat="json"))
    assert len(list(g.query(str(fill("SELECT ?o WHERE { $s ?p ?o }", s=ox.NamedNode(S)))))) == 3
    # a removal is seen at once too
    httpx.post(url + "/sparql", headers={"Authorization": f"Bearer {token}"},
               data={"update": str(fill("DELETE WHERE { GRAPH <http://example.org/workers> { $s ?p ?o } }",
                                        s=ox.NamedNode(S)))}).raise_for_status()
    gone = str(fill("ASK { $s ?p ?o }", s=ox.NamedNode(S)))
    assert not any(_ask(url, gone) for _ in range(12))


def test_bad_input_through_a_reader_gets_the_writers_clear_error_and_changes_nothing(served):
    url, token = served
    before = _count(url)
    auth = {"Authorization": f"Bearer {token}"}
    bad = httpx.put(url + "/gsp", params={"graph": "http://example.org/bad"}, headers={**auth, "content-type": "text/turtle"},
                    content=b"<http://example.org/a> <http://example.org/b> .")
    assert bad.status_code == 400 and "turtle" in bad.text.lower()
    # a form that both queries and updates goes to the writer, which refuses it
    both = httpx.post(url + "/sparql", headers=auth, data={"query": "ASK {}", "update": "DROP ALL"})
    assert both.status_code == 400
    broken = httpx.post(url + "/sparql", headers=auth, data={"update": "INSERT DATA { GRAPH <http://example.org/x> { <a> "})
    assert broken.status_code == 400 and "syntax" in broken.text.lower()
    failing = httpx.post(url + "/sparql", headers=auth, data={  # a decision without its required title: the shapes refuse it
        "update": "INSERT DATA { GRAPH <http://example.org/x> { <http://example.org/d> a <https://w3id.org/chmkg/ns#Decision> } }"})
    assert failing.status_code in (400, 422) and "shape" in failing.text.lower()
    anonymous = httpx.post(url + "/sparql", data={"update": "DROP ALL"})
    assert anonymous.status_code in (401, 403)
    assert _count(url) == before


def test_pages_and_named_queries_are_answered_by_readers(served):
    url, _ = served
    page = httpx.get(url + "/decision/cop/15/16.html")
    assert page.status_code == 200 and "15/16" in page.text
    rows = httpx.get(url + "/api/queries/lineage-up", params={"decision": BASE + "decision/cop/15/16"}).json()
    assert rows
    assert httpx.get(url + "/catalog", headers={"accept": "text/turtle"}).status_code == 200  # the writer's (it writes dumps)
