"""Virtuoso's dialect at the store's edge (sparql/virtuoso.py), against a real Virtuoso Open Source 7
that the tests start on 127.0.0.1; the rest of the remote-mode suite runs over it too."""

from __future__ import annotations

import httpx
import pyoxigraph as ox
import pytest

from conftest import BASE, META, graph, open_remote
from ontology.errors import QueryError
from sparql.builder import Update, fill, iri, term_text
from sparql.store import _capped
from sparql.virtuoso import graphs_named_in, operations

pytestmark = [pytest.mark.remote, pytest.mark.virtuoso]
P = ox.NamedNode("http://example.org/p")


def test_an_update_splits_into_its_operations_with_the_prologue_in_force():
    update = ('PREFIX ex: <http://example.org/> INSERT DATA { GRAPH <urn:g> { ex:a ex:p "x ; } {" } } ;\n'
              "# a comment ; with a semicolon\n"
              "PREFIX ex2: <http://example.org/2/> DELETE WHERE { GRAPH <urn:g> { ex2:a ?p ?o } } ; DROP SILENT GRAPH <urn:h>")
    ops = operations(update)
    assert [text.split()[0] for _prologue, _toks, text in ops] == ["INSERT", "DELETE", "DROP"]
    assert ops[0][2].endswith('"x ; } {" } }')
    assert ops[0][0] == "PREFIX ex: <http://example.org/>\n"
    assert ops[1][0] == "PREFIX ex: <http://example.org/>\nPREFIX ex2: <http://example.org/2/>\n"


def test_graphs_named_after_graph_join_the_request_and_a_remote_select_asks_one_row_over_the_cap():
    assert graphs_named_in("ASK { GRAPH <urn:a> { ?s ?p ?o } GRAPH ?g { ?s ?p ?o } } # GRAPH <urn:c>") == ["urn:a"]
    assert _capped("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s", 50).endswith("LIMIT 51")
    assert _capped("SELECT * WHERE { ?s ?p ?o } LIMIT 10", 50).endswith("LIMIT 10")  # its own LIMIT stays
    trailing = "SELECT * WHERE { ?s ?p ?o } VALUES ?s { <urn:a> }"
    assert _capped(trailing, 50) == trailing  # nothing may follow a trailing VALUES
    assert _capped("ASK { ?s ?p ?o }", 50) == "ASK { ?s ?p ?o }"


@pytest.fixture
def virtuoso(virtuoso_server):
    s = open_remote("virtuoso", virtuoso_server)
    s.update("DROP SILENT ALL")
    yield s
    s.close()


def _lines(n: int, start: int = 0) -> list[bytes]:
    return [(term_text(iri(BASE + "thing/" + str(i))) + " " + term_text(P) + " " + term_text(ox.Literal("value " + str(i))) + " .").encode()
            for i in range(start, start + n)]


def test_writes_past_its_limits_for_one_update_arrive_whole(virtuoso):
    """One INSERT DATA of 12,000 triples is over Virtuoso's ~5,000; 6,000 removed in one DELETE DATA too."""
    g = graph("big")
    virtuoso.update(Update().insert_data(iri(META), [(iri(g), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                                     ox.NamedNode("http://rdfs.org/ns/void#Dataset"))]).text())
    virtuoso.update(Update().raw_ntriples("INSERT DATA", iri(g), _lines(12_000)).text())
    assert virtuoso.count(g) == 12_000
    virtuoso.update(Update().raw_ntriples("DELETE DATA", iri(g), _lines(6_000)).text())
    assert virtuoso.count(g) == 6_000
    held = "ASK { GRAPH $g { $s ?p ?o } }"
    assert virtuoso.ask(fill(held, g=iri(g), s=iri(BASE + "thing/6000")))
    assert not virtuoso.ask(fill(held, g=iri(g), s=iri(BASE + "thing/5999")))
    assert not virtuoso.ask(fill("ASK { GRAPH $g { ?s ?p ?o } }", g=iri(graph("never"))))  # a graph outside the request's


def test_the_engines_own_graphs_stay_out_of_sight_and_out_of_reach(virtuoso, virtuoso_server):
    virtuoso.update(Update().raw_ntriples("INSERT DATA", iri(META), _lines(3)).text())
    assert virtuoso.named_graphs() == [META]
    assert virtuoso.count() == 3  # not the thousands of triples of virtrdf#
    rows = virtuoso.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")  # the union default graph: the hub's only
    assert int(rows[0]["n"].value) == 3
    virtuoso.update("DROP ALL")
    assert virtuoso.named_graphs() == []
    own = httpx.post(virtuoso_server + "/sparql", data={"query": "ASK { GRAPH <http://www.openlinksw.com/schemas/virtrdf#> { ?s ?p ?o } }"},
                     headers={"Accept": "application/sparql-results+json"}).json()
    assert own["results"]["bindings"], "DROP ALL reached Virtuoso's own graph"
    with pytest.raises(QueryError, match="does not exist"):
        virtuoso.update(fill("DROP GRAPH $g", g=iri(graph("never"))))


@pytest.fixture
def virtuoso_hub(virtuoso_server, tmp_path):
    from conftest import hub_serving

    with hub_serving(tmp_path, "virtuoso", virtuoso_server, row_cap=50) as live:
        yield live


def test_the_pass_through_streams_what_virtuoso_says_in_the_standard_and_leaves_the_rest_to_the_hub(virtuoso_hub):
    """XML, CSV and N-Triples stream from Virtuoso unparsed; its JSON (2007 `typed-literal` terms) and
    its ASK (a SELECT binding __ASK_RETVAL) go the hub's way and come out as SPARQL 1.1 says."""
    url = virtuoso_hub.url + "/sparql"
    small = ("SELECT ?d ?n WHERE { ?d a <https://w3id.org/chmkg/ns#Decision> ; "
             "<https://w3id.org/chmkg/ns#decisionNumber> ?n } ORDER BY ?d LIMIT 5")
    for fmt in ("application/sparql-results+xml", "text/csv"):
        r = httpx.get(url, params={"query": small}, headers={"accept": fmt})
        assert r.status_code == 200 and r.headers["x-answered-by"] == "store" and r.headers["content-type"].startswith(fmt)
    r = httpx.get(url, params={"query": small}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200 and "x-answered-by" not in r.headers
    rows = r.json()["results"]["bindings"]
    assert len(rows) == 5 and {row["n"]["type"] for row in rows} == {"literal"}  # not Virtuoso's typed-literal
    ask = httpx.get(url, params={"query": "ASK { ?s a <https://w3id.org/chmkg/ns#Decision> }"},
                    headers={"accept": "application/sparql-results+json"})
    assert ask.json() == {"head": {}, "boolean": True} and "x-answered-by" not in ask.headers
    nothing = httpx.get(url, params={"query": "ASK { ?s a <urn:no-such-class> }"}, headers={"accept": "application/sparql-results+xml"})
    assert "<boolean>false</boolean>" in nothing.text
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/chmkg/ns#Decision> ; ?p ?o }"
    mine = httpx.get(url, params={"query": construct}, headers={"accept": "application/n-triples", **virtuoso_hub.auth()})
    assert mine.headers["x-answered-by"] == "store" and mine.text.count("\n") > 50
