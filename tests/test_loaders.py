"""The ingest path: every RDF format, idempotence, replacement, and bad input leaving the store as it was."""

from __future__ import annotations

import os

import pyoxigraph as ox
import pytest

from conftest import BASE, META, graph, snapshot
from loaders.chm_records import read_chm_records
from writes.ingest import ingest
from loaders.rdf import read_rdf
from ontology.errors import RdfSyntaxError, ShapeViolation, SourceError, UnknownFormatError, UnknownSchemaError
from sparql.store import LOAD_STATE, EmbeddedStore

RECORDS_TTL = """@prefix chm: <https://w3id.org/chmkg/ns#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<http://example.org/rec/1> a chm:Record ; dcterms:title "National report"@en ; dcterms:language "en" ;
    dcterms:subject <http://example.org/c/1> .
<http://example.org/s> a skos:ConceptScheme ; skos:prefLabel "Subjects"@en .
<http://example.org/c/1> a skos:Concept ; skos:inScheme <http://example.org/s> ; skos:prefLabel "Protected areas"@en .
"""
FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "nq": ox.RdfFormat.N_QUADS,
           "trig": ox.RdfFormat.TRIG, "rdf": ox.RdfFormat.RDF_XML, "jsonld": ox.RdfFormat.JSON_LD}


def _write(tmp_path, suffix: str, text: str = RECORDS_TTL):
    triples = list(ox.parse(text.encode(), ox.RdfFormat.TURTLE))
    fmt = FORMATS[suffix]
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        data = ox.serialize([ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode("urn:g")) for t in triples], format=fmt)
    else:
        data = ox.serialize(triples, format=fmt)
    path = tmp_path / f"records.{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", sorted(FORMATS))
def test_every_rdf_format_loads_into_its_named_graph(tmp_path, store, suffix):
    path = _write(tmp_path, suffix)
    result = ingest(store, read_rdf(path), graph("records"), META)
    assert result.status == "loaded"
    assert store.count(graph("records")) == 9
    rows = store.select(f"SELECT ?c ?n WHERE {{ GRAPH <{META}> {{ <{graph('records')}> <https://w3id.org/chmkg/ns#checksum> ?c ; <https://w3id.org/chmkg/ns#tripleCount> ?n }} }}", union=False)
    assert rows[0]["c"].value.startswith("sha256:") and rows[0]["n"].value == "9"


def test_loading_an_unchanged_source_again_changes_nothing(tmp_path, store):
    path = _write(tmp_path, "ttl")
    ingest(store, read_rdf(path), graph("records"), META)
    before = snapshot(store)
    result = ingest(store, read_rdf(path), graph("records"), META)
    assert result.status == "unchanged"
    assert snapshot(store) == before


def test_a_changed_source_replaces_its_graph(tmp_path, store):
    path = _write(tmp_path, "ttl")
    ingest(store, read_rdf(path), graph("records"), META)
    path.write_text(RECORDS_TTL.replace("National report", "Sixth national report"))
    result = ingest(store, read_rdf(path), graph("records"), META)
    assert (result.status, result.added, result.removed) == ("replaced", 1, 1)
    titles = [r["t"].value for r in store.select("SELECT ?t WHERE { ?r a <https://w3id.org/chmkg/ns#Record> ; <http://purl.org/dc/terms/title> ?t }")]
    assert titles == ["Sixth national report"]


def _assert_refused(store, exc, match, fn):
    before = snapshot(store)
    with pytest.raises(exc, match=match) as info:
        fn()
    assert snapshot(store) == before
    return info.value


def test_malformed_rdf_names_line_and_column(tmp_path, bundled_store):
    bad = tmp_path / "bad.ttl"
    bad.write_text('<http://e/a> <http://e/b> <http://e/c> .\n<http://e/x> <http://e/y> "unterminated .\n')
    _assert_refused(bundled_store, RdfSyntaxError, r"line 2 column \d+", lambda: ingest(bundled_store, read_rdf(bad), graph("bad"), META))


def test_unknown_format_missing_and_unreadable_files(tmp_path, bundled_store):
    odd = tmp_path / "data.xyz"
    odd.write_text("x")
    _assert_refused(bundled_store, UnknownFormatError, "unknown RDF format 'xyz'", lambda: read_rdf(odd))
    _assert_refused(bundled_store, SourceError, "no such file", lambda: read_rdf(tmp_path / "missing.ttl"))
    folder = tmp_path / "folder.ttl"
    folder.mkdir()
    _assert_refused(bundled_store, SourceError, "is a directory", lambda: read_rdf(folder))


def test_data_failing_the_shapes_is_rejected_whole_with_a_report(tmp_path, bundled_store):
    path = tmp_path / "bad-record.ttl"
    path.write_text(RECORDS_TTL.replace('dcterms:language "en" ;', "").replace(
        "<http://example.org/c/1> .", f"<{BASE}meeting/cop/10> ."))
    err = _assert_refused(bundled_store, ShapeViolation, "fails the shapes",
                          lambda: ingest(bundled_store, read_rdf(path), graph("bad-record"), META))
    keys = {(v.focus, v.path, v.component.rsplit("#", 1)[1]) for v in err.report.violations}
    assert ("http://example.org/rec/1", "http://purl.org/dc/terms/language", "MinCountConstraintComponent") in keys
    subject = [v for v in err.report.violations if v.path == "http://purl.org/dc/terms/subject"]
    assert subject and subject[0].value == f"{BASE}meeting/cop/10" and "skos:Concept" in subject[0].message


def test_a_replacement_that_would_leave_links_dangling_is_refused(tmp_path, store):
    scheme = tmp_path / "scheme.ttl"
    scheme.write_text("\n".join(RECORDS_TTL.splitlines()[0:3] + RECORDS_TTL.splitlines()[5:]))
    ingest(store, read_rdf(scheme), graph("scheme"), META)
    records = tmp_path / "recs.ttl"
    records.write_text("\n".join(RECORDS_TTL.splitlines()[:5]))
    ingest(store, read_rdf(records), graph("recs"), META)
    # the new version of the scheme drops the concept that a record in another graph uses
    scheme.write_text("\n".join(RECORDS_TTL.splitlines()[0:3] + [RECORDS_TTL.splitlines()[5]]))
    err = _assert_refused(store, ShapeViolation, "fails the shapes", lambda: ingest(store, read_rdf(scheme), graph("scheme"), META))
    assert any(v.focus == "http://example.org/rec/1" for v in err.report.violations)


def test_a_new_graph_about_a_node_typed_elsewhere_is_checked_against_that_type(tmp_path, store):
    ingest(store, read_rdf(_write(tmp_path, "ttl")), graph("records"), META)
    # the record's type is only in the other graph: its shape still applies to what the new graph says
    extra = tmp_path / "extra.ttl"
    extra.write_text("<http://example.org/rec/1> <http://purl.org/dc/terms/subject> <http://example.org/nowhere> .\n")
    err = _assert_refused(store, ShapeViolation, "fails the shapes", lambda: ingest(store, read_rdf(extra), graph("extra"), META))
    assert [(v.focus, v.value) for v in err.report.violations] == [("http://example.org/rec/1", "http://example.org/nowhere")]
    assert err.report.focus_nodes == 1
    fine = tmp_path / "fine.ttl"
    fine.write_text("<http://example.org/rec/1> <http://purl.org/dc/terms/subject> <http://example.org/c/1> .\n")
    result = ingest(store, read_rdf(fine), graph("fine"), META)
    assert result.status == "loaded" and result.report.focus_nodes == 1


def test_chm_record_of_an_unknown_schema(tmp_path, bundled_store):
    path = tmp_path / "law.json"
    path.write_text('{"header": {"identifier": "X1", "schema": "absPermit", "languages": ["en"]}, "title": {"en": "A permit"}}')
    _assert_refused(bundled_store, UnknownSchemaError, "absPermit", lambda: read_chm_records([path], BASE))
    broken = tmp_path / "broken.json"
    broken.write_text('{"header": ')
    _assert_refused(bundled_store, SourceError, "not valid JSON", lambda: read_chm_records([broken], BASE))


def test_an_interrupted_fresh_load_is_dropped_when_the_store_opens(tmp_path):
    path = tmp_path / "store"
    s = EmbeddedStore(path)
    g = graph("half")
    # what a crash between the load intent and the completed write leaves behind
    s.update(f'INSERT DATA {{ GRAPH <{META}> {{ <{g}> <https://w3id.org/chmkg/ns#loadState> "loading" }} }}')
    s.update(f"INSERT DATA {{ GRAPH <{g}> {{ <http://e/a> <http://e/b> <http://e/c> }} }}")
    s.close()
    s = EmbeddedStore(path)
    assert s.recover(META) == [g]
    assert s.named_graphs() == []
    s.close()


def _intent(store, g: str, lease) -> None:
    from sparql.builder import Update, iri

    store.update(Update().insert_data(iri(META), [(iri(g), ox.NamedNode(LOAD_STATE), ox.Literal(lease.text()))])
                 .insert_data(iri(g), [(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/b"), ox.NamedNode("http://e/c"))]).text())


def test_recovery_leaves_a_load_that_a_live_process_is_running(tmp_path, store):
    """Only loads whose owner is gone are dropped: a dead pid here, or a lease not renewed elsewhere."""
    import socket
    import subprocess
    import sys
    import time

    from sparql.store import LEASE, LoadLease

    here = socket.gethostname()
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead_pid = int(gone.stdout)
    parent = LoadLease(here, os.getppid(), time.time())  # alive: the process that started the tests
    _intent(store, graph("live-here"), parent)
    _intent(store, graph("dead-here"), LoadLease(here, dead_pid, time.time()))
    _intent(store, graph("live-elsewhere"), LoadLease("another-host", 1, time.time()))
    _intent(store, graph("stale-elsewhere"), LoadLease("another-host", 1, time.time() - LEASE - 5))
    dropped = store.recover(META)
    assert sorted(dropped) == [graph("dead-here"), graph("stale-elsewhere")]
    assert sorted(store.named_graphs()) == sorted([graph("live-here"), graph("live-elsewhere"), META])


def test_hand_written_ntriples_with_comments_load_and_replace(tmp_path, store):
    """The N-Triples fast path keeps the user's file as written; replacing it must still diff exactly."""
    nt = ox.serialize(list(ox.parse(RECORDS_TTL.encode(), ox.RdfFormat.TURTLE)), format=ox.RdfFormat.N_TRIPLES)
    path = tmp_path / "records.nt"
    path.write_bytes(b"# records, written by hand\n\n" + nt.replace(b" .\n", b"  .   \n") + b"\n# end\n")
    first = ingest(store, read_rdf(path), graph("records"), META)
    assert (first.status, first.triples, first.added) == ("loaded", 9, 9)
    path.write_bytes(b"# second edition\n" + nt + b'<http://example.org/rec/1> <http://purl.org/dc/terms/title> "Rapport national"@fr .\n')
    second = ingest(store, read_rdf(path), graph("records"), META)
    assert (second.status, second.triples, second.added, second.removed) == ("replaced", 10, 1, 0)
    assert store.count(graph("records")) == 10


def _other_writer_commits(store, n: int) -> None:
    """Another process's commit: its own guarded update, over the stamp it reads."""
    from writes import commit

    other = commit.Guarded(META, commit.read_stamp(store, META))
    other.insert_terms(graph("other"), [(ox.NamedNode(f"http://e/other/{n}"), ox.NamedNode("http://e/p"), ox.Literal(str(n)))])
    store.update(other.text())
    assert commit.committed(store, other)


def test_a_commit_over_a_store_that_changed_meanwhile_is_planned_again(store):
    from writes import commit

    attempts: list[int] = []

    def plan(guarded):
        attempts.append(len(attempts) + 1)
        if len(attempts) == 1:
            _other_writer_commits(store, 1)  # between this plan's reads and its commit
        guarded.insert_terms(graph("mine"), [(ox.NamedNode("http://e/mine"), ox.NamedNode("http://e/attempt"),
                                              ox.Literal(str(attempts[-1])))])
        return attempts[-1]

    assert commit.run(store, META, plan, "the test write") == 2
    rows = store.select("SELECT ?a WHERE { GRAPH ?g { <http://e/mine> <http://e/attempt> ?a } }", union=False)
    assert [r["a"].value for r in rows] == ["2"]  # the first, stale commit wrote nothing
    assert store.count(graph("other")) == 1


def test_a_write_that_keeps_losing_the_race_is_a_409_and_writes_nothing(store):
    from writes import commit

    before = snapshot(store)
    calls: list[int] = []

    def plan(guarded):
        calls.append(1)
        _other_writer_commits(store, len(calls))
        guarded.insert_terms(graph("mine"), [(ox.NamedNode("http://e/mine"), ox.NamedNode("http://e/p"), ox.Literal("x"))])

    with pytest.raises(commit.WriteConflict) as e:
        commit.run(store, META, plan, "the test write")
    assert e.value.http_status == 409 and len(calls) == commit.ATTEMPTS
    assert not store.graph_exists(graph("mine")) and store.count(graph("other")) == commit.ATTEMPTS
    assert before != snapshot(store)  # only the other writer's commits landed
