"""The SPARQL tokenizer: forms, SERVICE targets, USING injection, and which queries may run inline."""

from __future__ import annotations

import json

import pytest

from sparql import lexer


def test_form_update_and_services_ignore_strings_and_comments():
    a = lexer.analyse('PREFIX x: <http://x/> # SERVICE <http://no/>\nSELECT * WHERE { ?s ?p "SERVICE <http://no/>" . SERVICE <http://yes/> { ?s ?p ?o } }')
    assert a.form == "SELECT" and not a.is_update and a.services == ("http://yes/",)
    assert lexer.analyse("PREFIX x: <http://x/> INSERT DATA { GRAPH <g> { <a> <b> <c> } }").is_update
    assert lexer.analyse("ASK { }").form == "ASK"


@pytest.mark.parametrize("query,cheap", [
    ("SELECT ?p ?o WHERE { <http://x/a> ?p ?o }", True),
    ("PREFIX c: <http://x/> SELECT * WHERE { c:a ?p ?o ; c:q ?z }", True),
    ("DESCRIBE <http://x/a>", True),
    ("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", False),  # unbound first subject: a cartesian product
    ("SELECT (COUNT(*) AS ?n) WHERE { <http://x/a> ?p ?o }", False),  # aggregate
    ("SELECT * WHERE { <http://x/a> <http://x/p>* ?o }", False),  # property path
    ("SELECT * WHERE { <http://x/a> ?p ?o } ORDER BY ?o", False),
    ("SELECT * WHERE { <http://x/a> ?p ?o { SELECT * WHERE { ?x ?y ?z } } }", False),  # subquery
    ("SELECT * WHERE { <http://x/a> ?p ?o . ?o ?q ?r . ?r ?s ?t . ?t ?u ?v }", False),  # too many patterns
    ("SELECT ?g ?p ?o WHERE { GRAPH ?g { <http://x/a> ?p ?o } }", True),  # a lookup in any named graph
    ("SELECT ?p ?o WHERE { GRAPH <http://x/g> { <http://x/a> ?p ?o } }", True),
    ("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", False),  # unbound subject: a scan
    ("SELECT * WHERE { GRAPH ?g { <http://x/a> ?p ?o } ?o ?q ?r }", False),  # a join outside the block
    ("SELECT * WHERE { GRAPH ?g { <http://x/a> ?p ?o } GRAPH ?h { <http://x/b> ?p ?o } }", False),
    ("SELECT * WHERE { GRAPH ?g { <http://x/a> ?p ?o { SELECT * WHERE { ?x ?y ?z } } } }", False),
    ("SELECT * WHERE { GRAPH ?g { <http://x/a> ?p ?o } } ORDER BY ?o", False),
])
def test_only_bound_subject_lookups_run_inline(query, cheap):
    assert lexer.analyse(query).cheap is cheap


def test_using_goes_before_each_where_without_a_dataset():
    update = "INSERT { GRAPH <http://g/> { ?s a <http://c/> } } WHERE { ?s ?p ?o } ; DELETE WHERE { ?s ?p ?o } ; WITH <http://w/> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }"
    out = lexer.add_using(update, ["http://d/"], ["http://n/"])
    assert out.count("USING <http://d/> USING NAMED <http://n/> WHERE") == 1  # not the DELETE WHERE, not the WITH one
    assert lexer.names_own_dataset(update) and not lexer.names_own_dataset("INSERT DATA { <a> <b> <c> }")


@pytest.mark.parametrize("update,empties", [
    ("DROP ALL", True), ("drop silent all", True), ("CLEAR NAMED", True), ("CLEAR SILENT NAMED ;", True),
    ("INSERT DATA { <a> <b> <c> } ; DROP ALL", True), ("DROP GRAPH <http://x/g>", False), ("CLEAR DEFAULT", False),
    ('INSERT DATA { <http://x/a> <http://x/b> "DROP ALL" }', False), ("# DROP ALL\nDROP GRAPH <http://x/g>", False), ("# a comment\nDROP ALL", True),
])
def test_updates_that_empty_the_store_are_recognised(update, empties):
    assert lexer.empties_the_store(update) is empties


@pytest.mark.parametrize("query, limit", [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 10", 10),
    ("select * { ?s ?p ?o } limit\n 20 # LIMIT 1", 20),
    ("SELECT * WHERE { ?s ?p \"LIMIT 3\" } OFFSET 2 LIMIT 7", 7),
    ("SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 } }", None),  # a subquery's LIMIT bounds nothing outside
    ("SELECT * WHERE { ?s <http://x/LIMIT> ?o . ?s ?limit ?x }", None),
    ("ASK { ?s ?p ?o }", None),
])
def test_the_outermost_limit_is_found_and_nothing_else(query, limit):
    assert lexer.analyse(query).limit == limit


def test_a_true_or_false_setting_is_read_from_the_environment_and_a_bad_one_is_named(monkeypatch, tmp_path):
    from hub.settings import load_settings
    from ontology.errors import ChmError

    monkeypatch.setenv("CHMKG_CONFIG", str(tmp_path / "none.toml"))
    assert load_settings().remote_passthrough is True
    monkeypatch.setenv("CHMKG_REMOTE_PASSTHROUGH", "off")
    assert load_settings().remote_passthrough is False
    monkeypatch.setenv("CHMKG_REMOTE_PASSTHROUGH", "perhaps")
    with pytest.raises(ChmError, match="remote_passthrough.*'perhaps' is not true or false"):
        load_settings()


def test_the_engine_writes_a_select_within_its_byte_budget_and_deadline_or_says_it_did_not():
    """EmbeddedStore.solutions_json: the answer's bytes as pyoxigraph writes them (the same as the
    Python serialiser's), None past the byte budget (the caller evaluates again with its row cap) or
    for a query that is not a SELECT, and a timeout past the deadline."""
    import time

    import pyoxigraph as ox

    from sparql.protocol import serialize_solutions
    from sparql.store import EmbeddedStore, QueryTimeout, collect

    store = EmbeddedStore(None)
    g, s, p = ox.NamedNode("http://x/g"), ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p")
    store._store.extend([ox.Quad(s, p, ox.Literal(f"value {i}"), g) for i in range(50)])
    query = "SELECT ?p ?o WHERE { <http://x/a> ?p ?o }"
    later = time.monotonic() + 60
    written = store.solutions_json(query, deadline=later, max_rows=50, max_bytes=1_000_000)
    python = serialize_solutions(collect(store._store.query(query, use_default_graph_as_union=True), None, None),
                                 "application/sparql-results+json")
    assert written == python and written.count(b'"value {') == 0 and written.count(b"value ") == 50
    assert store.solutions_json(query, deadline=later, max_rows=50, max_bytes=len(written)) == written
    assert store.solutions_json(query, deadline=later, max_rows=50, max_bytes=len(written) - 1) is None
    # 50 rows in far more than 3 × 50 bytes: counted, not evaluated again; one row over the cap: None
    assert len(written) > 3 * 50 and store.solutions_json(query, deadline=later, max_rows=49, max_bytes=1_000_000) is None
    assert store.solutions_json("ASK { ?s ?p ?o }", deadline=later, max_rows=50, max_bytes=1000) is None
    with pytest.raises(QueryTimeout):
        store.solutions_json(query, deadline=time.monotonic() - 1, max_rows=50, max_bytes=1_000_000)


@pytest.mark.parametrize("values, spelled", [
    (["a},{\"b", "},{}", '},{"', "{}", "plain"], True),  # row boundaries spelled inside literals
    ([f"v{i}" for i in range(7)], False),
])
def test_the_row_bound_of_engine_written_json_never_counts_fewer_rows_than_there_are(values, spelled):
    """_at_most_rows proves a body holds at most N rows by counting boundaries; literals that spell a
    boundary may only make it count more (then the caller takes the exact, capped path), never fewer.
    Empty rows (an OPTIONAL that binds nothing) count too."""
    import pyoxigraph as ox

    from sparql.store import _at_most_rows

    store = ox.Store()
    s, p = ox.NamedNode("http://x/a"), ox.NamedNode("http://x/p")
    store.extend([ox.Quad(s, p, ox.Literal(v), ox.NamedNode("http://x/g")) for v in values])
    for query in ("SELECT ?o WHERE { <http://x/a> ?p ?o }",
                  "SELECT ?none WHERE { <http://x/a> ?p ?o OPTIONAL { ?o ?q ?none } }"):
        body = store.query(query, use_default_graph_as_union=True).serialize(format=ox.QueryResultsFormat.JSON)
        rows = len(json.loads(body)["results"]["bindings"])
        assert rows == len(values) and len(body) >= 3 * rows  # counted, not bounded by its length
        assert not _at_most_rows(body, rows - 1)  # never fewer rows than there are
        if not spelled or "none" in query:
            assert _at_most_rows(body, rows)  # and exact when no literal spells a boundary
