"""Validating a change where it touches (writes.delta): additions, removals, and additions validated
already but not yet written (a bulk harvest's group), read as if they were in the store."""

from __future__ import annotations

import pyoxigraph as ox

from conftest import META, graph
from shapes.validate import predicates_read
from sparql.store import EmbeddedStore
from writes.delta import Pending, validate_delta
from writes.ingest import NEW

PREFIXES = """@prefix chm: <https://w3id.org/chmkg/ns#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <http://example.org/> .
"""
SCHEME = PREFIXES + """ex:s a skos:ConceptScheme ; skos:prefLabel "Subjects"@en .
ex:c1 a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "Protected areas"@en ; skos:scopeNote "not read by any shape"@en .
"""
RECORD = PREFIXES + """ex:rec2 a chm:Record ; dcterms:title "Second national report"@en ; dcterms:language "en" ;
    dcterms:subject ex:c1 .
"""
G = graph("harvest-test")
ACTS = PREFIXES + """@prefix eli: <http://data.europa.eu/eli/ontology#> .
ex:verb a skos:Concept ; skos:prefLabel "requests"@en .
ex:para a eli:LegalResourceSubdivision ; chm:hasAct ex:act1 , ex:act3 .
ex:act3 a chm:Act .
"""


def lines(turtle: str) -> list[bytes]:
    data = ox.serialize(list(ox.parse(turtle.encode(), ox.RdfFormat.TURTLE)), format=ox.RdfFormat.N_TRIPLES) or b""
    return sorted(line for line in data.split(b"\n") if line)


def focus_values(report) -> set[tuple[str, str | None]]:
    return {(v.focus, v.value) for v in report.violations}


def test_an_addition_that_points_at_nothing_typed_is_refused_where_it_touches():
    store = EmbeddedStore(None)
    report = validate_delta(store, G, META, lines(RECORD), [])
    assert ("http://example.org/rec2", "http://example.org/c1") in focus_values(report)
    assert report.focus_nodes == 1


def test_additions_validated_and_not_yet_written_are_read_as_if_they_were_in_the_store():
    store = EmbeddedStore(None)
    pending = Pending()
    scheme = validate_delta(store, G, META, lines(SCHEME), [], stage_into=pending)
    assert scheme.conforms, scheme.summary()
    # the concept's type is in the pending additions only: the record that uses it conforms with them
    assert validate_delta(store, G, META, lines(RECORD), [], pending=[pending]).conforms
    assert not validate_delta(store, G, META, lines(RECORD), []).conforms
    # what was staged: the triples the shapes read, not the others
    staged = {(q.subject.value, q.predicate.value) for store in pending.stores for q in store
              if q.graph_name == ox.NamedNode(NEW)}
    assert ("http://example.org/c1", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type") in staged
    assert "http://www.w3.org/2004/02/skos/core#scopeNote" not in {p for _s, p in staged}
    assert "http://www.w3.org/2004/02/skos/core#scopeNote" not in predicates_read()
    assert store.named_graphs() == []  # nothing was written


def test_a_change_that_fails_stages_nothing():
    store = EmbeddedStore(None)
    pending = Pending()
    report = validate_delta(store, G, META, lines(RECORD), [], stage_into=pending)
    assert not report.conforms
    assert not pending and not pending.subjects


def test_a_removal_that_leaves_a_link_dangling_is_refused_on_the_node_that_points():
    store = EmbeddedStore(None)
    store.raw.load(b"\n".join(lines(SCHEME) + lines(RECORD)), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(G))
    gone = [line for line in lines(SCHEME) if b"c1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>" in line]
    assert len(gone) == 1
    report = validate_delta(store, G, META, [], gone)
    assert ("http://example.org/rec2", "http://example.org/c1") in focus_values(report)


def test_the_predicates_a_sparql_constraint_reads_come_from_its_algebra():
    from shapes.validate import _sparql_reads

    e = "PREFIX e: <http://e/> "
    assert _sparql_reads(e + "SELECT * WHERE { ?s e:a/^e:b* ?o FILTER EXISTS { ?o e:c ?x } }") == {"http://e/a", "http://e/b", "http://e/c"}
    assert _sparql_reads(e + "SELECT * WHERE { ?s e:a|e:z ?o OPTIONAL { ?o e:d ?x } MINUS { ?o e:m ?y } }") == {
        "http://e/a", "http://e/z", "http://e/d", "http://e/m"}
    # a variable predicate or a negated path reads any predicate: nothing may be left out
    assert _sparql_reads("SELECT * WHERE { ?s ?p ?o }") is None
    assert _sparql_reads(e + "SELECT * WHERE { ?s e:a ?o FILTER NOT EXISTS { ?o ?p ?x } }") is None
    assert _sparql_reads("SELECT * WHERE { ?s !<http://e/a> ?o }") is None


def test_the_written_reads_of_the_shapes_sparql_constraints_are_what_their_algebra_says():
    """shapes/sparql-reads.json spares each process rdflib's parser; it must list every SPARQL constraint of the
    shapes, each as rdflib finds it now, and nothing else. When a shape's query changes:
    python -c "from shapes.validate import write_sparql_reads; write_sparql_reads()" """
    from shapes.validate import _query_key, _reads_in_algebra, _sparql_reads, _written_reads, compiled

    queries = [c.sparql(None) for c in compiled() if c.reads is None]
    assert queries  # the shapes have SPARQL constraints: the file is read
    written = _written_reads()
    assert set(written) == {_query_key(q) for q in queries}
    for q in queries:
        found = _reads_in_algebra(q)
        assert written[_query_key(q)] == (None if found is None else sorted(found))
        assert _sparql_reads(q) == found


def test_what_points_at_a_new_node_from_the_store_is_read_when_its_class_follows_that_link_backwards():
    """An act must stand in exactly one decision element (an inverse path): the element that points at
    it from the store is context, whether the act is typed by the change or already in the store; an act
    nothing points at is refused."""
    store = EmbeddedStore(None)
    store.raw.load(b"\n".join(lines(ACTS)), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph("bundled")))
    typed_here = validate_delta(store, G, META, lines(PREFIXES + "ex:act1 a chm:Act ; chm:operativeVerb ex:verb ."), [])
    assert typed_here.conforms, typed_here.summary()
    typed_there = validate_delta(store, G, META, lines(PREFIXES + "ex:act3 chm:operativeVerb ex:verb ."), [])
    assert typed_there.conforms, typed_there.summary()
    alone = validate_delta(store, G, META, lines(PREFIXES + "ex:act2 a chm:Act ; chm:operativeVerb ex:verb ."), [])
    assert [(v.focus, v.path) for v in alone.violations] == [("http://example.org/act2", "^https://w3id.org/chmkg/ns#hasAct")]
