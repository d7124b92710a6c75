"""The harvester against a replay server answering in the CBD APIs' documented shapes (tests/replay.py)."""

from __future__ import annotations

import gc
import json
import sqlite3

import pyoxigraph as ox
import pytest

from conftest import BASE, META, graph, snapshot
from harvest.client import Politeness, retry_after_wait
from harvest.engine import Harvester
from harvest.sources import SOURCES
from harvest.sources.base import Item, Source
from harvest.state import State
from replay import Replay, decision_tree

FAST = Politeness(rate=0, backoff=0.01, max_backoff=0.05, timeout=1.0, retries=3)
CHM = "https://w3id.org/chmkg/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
ELI = "http://data.europa.eu/eli/ontology#"


@pytest.fixture
def replay():
    server = Replay().start()
    yield server
    server.stop()


def harvester(store, tmp_path, name, url, batch=200, **options):
    state = State(tmp_path / "harvest.sqlite")
    return Harvester(store, state, SOURCES[name](BASE, options), url, META, politeness=FAST, batch=batch)


def objects(store, s, p):
    return sorted({r["o"].value for r in store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"s": ox.NamedNode(s), "p": ox.NamedNode(p)})})


def harvest_graph(store, name):
    return store.dump(graph(f"harvest-{name}"), ox.RdfFormat.N_TRIPLES)


# -- cbd-decisions -------------------------------------------------------------------------------


def test_html_text_reads_the_trackers_fragments_fast_and_anything_else_through_a_parser():
    from harvest.sources.base import _SIMPLE, html_text

    simple = "<p><em>Re</em>calling decision 14/8 &amp; <a href='x'>annex</a>,</p><ul><li>one</li><li>two</li></ul>"
    assert _SIMPLE.match(simple)
    assert html_text(simple) == "Recalling decision 14/8 & annex, one two"
    assert html_text("plain   text\n here") == "plain text here"
    long = "<p>" + "word " * 20000 + "&eacute;</p>"  # a long fragment is read once: no backtracking
    assert _SIMPLE.match(long) and html_text(long).endswith("word é")
    # what the fast path does not know goes through BeautifulSoup: hidden content dropped, tables read
    hidden = "<p>Seen<script>var x = '<p>not seen</p>';</script></p><table><tr><td>cell</td></tr></table>"
    assert not _SIMPLE.match(hidden)
    assert html_text(hidden) == "Seen cell"
    assert not _SIMPLE.match("<p>a < b</p>") and html_text("<p>a < b</p>") == "a < b"

def test_a_decision_tree_becomes_the_hubs_decision_with_its_elements(bundled_store, replay, tmp_path):
    replay.add_decision(decision_tree(15, 4, paragraphs=4, title="Kunming-Montreal Global Biodiversity Framework"))
    replay.add_decision(decision_tree(16, 2, paragraphs=2))
    report = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url).run()
    assert (report.status, report.new, report.refused) == ("ok", 2, [])
    d = BASE + "decision/cop/15/4"
    # the same node the bundled data holds: its bundled title stays, the harvested one joins it
    assert "15/4" in objects(bundled_store, d, CHM + "symbol")
    assert "Kunming-Montreal Global Biodiversity Framework" in objects(bundled_store, d, ELI + "title")
    assert objects(bundled_store, d, DCT + "identifier") == ["CBD/COP/15/04"]
    assert objects(bundled_store, d, "http://www.w3.org/2000/01/rdf-schema#seeAlso")[0].endswith("/api/v2021/decisions/CBD%2FCOP%2F15%2F04/tree")
    para = d + "/para/a-1"
    assert objects(bundled_store, para, ELI + "number") == ["A.1"]
    assert objects(bundled_store, para, ELI + "is_part_of") == [d]
    assert objects(bundled_store, para, DCT + "isPartOf") == [d + "/section/a"]
    assert objects(bundled_store, para, CHM + "elementType") == [BASE + "scheme/element-type/operational"]
    assert objects(bundled_store, para, CHM + "trackingStatus") == [BASE + "scheme/decision-status/active"]
    # the tracker names the Parties; the text ("Requests the Executive Secretary …") gives the act and its addressee
    assert set(objects(bundled_store, para, CHM + "addressedTo")) == {BASE + "actor/parties", BASE + "actor/executive-secretary"}
    act = para + "/act/1"
    assert objects(bundled_store, para, CHM + "hasAct") == [act]
    assert objects(bundled_store, act, CHM + "operativeVerb") == [BASE + "scheme/operative-verb/requests"]
    assert objects(bundled_store, act, CHM + "addressee") == [BASE + "actor/executive-secretary"]
    texts = objects(bundled_store, para, CHM + "fullText")
    assert "1. Requests the Executive Secretary to do thing 1 of decision 4," in texts and any(t.startswith("1. Prie") for t in texts)
    assert BASE + "decision/cop/14/4" in objects(bundled_store, para, DCT + "references")
    assert BASE + "scheme/cbd-subjects/cbd-subject-chm" in objects(bundled_store, para, DCT + "subject")
    # items and sub-items sit in their paragraph
    item, sub = d + "/para/a-1-a", d + "/para/a-1-a-i"
    assert objects(bundled_store, item, ELI + "number") == ["A.1 (a)"]
    assert objects(bundled_store, sub, DCT + "isPartOf") == [item]
    assert objects(bundled_store, sub, CHM + "fullText") == ["(i) through the clearing-house mechanism;"]
    # preamble, section, references to documents and notifications, target links
    assert objects(bundled_store, d + "/preamble/2", CHM + "fullText") == ["Recalling decision 14/4,"]
    assert BASE + "document/cbd-sbi-15-3" in objects(bundled_store, d + "/para/a-3", DCT + "references")
    # a document named in passing is an entity: its symbol, its kind, its meeting
    doc = BASE + "document/cbd-sbi-15-3"
    assert objects(bundled_store, doc, DCT + "identifier") == ["CBD/SBI/15/3"]
    assert objects(bundled_store, doc, CHM + "forMeeting") == [BASE + "meeting/sbi/15"]
    assert objects(bundled_store, doc, CHM + "documentType") == ["working document"]
    assert BASE + "notification/2024-001" in objects(bundled_store, d + "/para/a-4", DCT + "references")
    assert BASE + "scheme/gbf-targets/target-21" in objects(bundled_store, d, DCT + "subject")
    assert objects(bundled_store, d + "/para/a-2", CHM + "addressedTo") == [BASE + "actor/executive-secretary", BASE + "actor/sbstta"]
    # a decision the bundled data does not hold is created whole, in its meeting
    assert objects(bundled_store, BASE + "decision/cop/16/2", "http://www.w3.org/ns/prov#wasGeneratedBy") == [BASE + "meeting/cop/16"]
    # provenance of the graph: what was asked, when, counts, checksum
    meta = {r["p"].value: r["o"].value for r in bundled_store.select(
        "SELECT ?m ?g ?p ?o WHERE { GRAPH ?m { ?g ?p ?o } }", {"m": ox.NamedNode(META), "g": ox.NamedNode(graph("harvest-cbd-decisions"))},
        union=False)}
    assert meta[CHM + "reader"] == "harvest:cbd-decisions" and meta[DCT + "source"] == replay.url
    assert meta[CHM + "checksum"].startswith("sha256:") and int(meta[CHM + "tripleCount"]) > 100


def test_an_unchanged_second_run_writes_nothing_and_asks_conditionally(bundled_store, replay, tmp_path):
    for n in range(1, 6):
        replay.add_decision(decision_tree(15, n))
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url)
    assert h.run().new == 5
    before = snapshot(bundled_store)
    replay.requests.clear()
    second = h.run()
    assert (second.new, second.changed, second.unchanged, second.removed) == (0, 0, 5, 0)
    assert snapshot(bundled_store) == before
    assert second.triples_added == second.triples_removed == 0
    # each tree was asked with its ETag and answered 304 (nothing to map)
    assert sum("/tree" in r for r in replay.requests) == 5


def test_a_long_harvest_flushes_the_stores_memory_tables_to_disk_as_it_goes(tmp_path, replay, monkeypatch):
    """pyoxigraph keeps written data in memory until a flush: without one, 100k index records grew the
    process by 538 MB (bench/harvest.py). The embedded store flushes after every FLUSH_AFTER_BYTES of
    updates, which shows on disk as new table files while the harvest runs, with every record intact."""
    import sparql.store as st

    from loaders.bundled import read_bundled
    from writes.ingest import ingest

    store = st.EmbeddedStore(tmp_path / "store")
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    store.flush()
    tables = lambda: {p.name for p in (tmp_path / "store").glob("*.sst")}  # noqa: E731
    before = tables()
    monkeypatch.setattr(st, "FLUSH_AFTER_BYTES", 20_000)  # a few batches of these decisions
    flushes = []
    real_flush = st.EmbeddedStore.flush
    monkeypatch.setattr(st.EmbeddedStore, "flush", lambda self: (flushes.append(tables()), real_flush(self))[1])
    for n in range(1, 13):
        replay.add_decision(decision_tree(15, n))
    report = harvester(store, tmp_path, "cbd-decisions", replay.url, batch=2).run()
    assert report.new == 12 and not report.refused
    assert len(flushes) >= 3 and tables() - before  # flushed several times, on disk as new tables
    assert len(objects(store, BASE + "decision/cop/15/12", "http://data.europa.eu/eli/ontology#has_part")) > 0
    store.close()


def test_a_changed_decision_replaces_exactly_its_old_triples(bundled_store, replay, tmp_path):
    for n in (1, 2):
        replay.add_decision(decision_tree(15, n))
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url)
    h.run()
    tree = replay.decisions["CBD/COP/15/01"]
    para = tree["nodes"][2]["nodes"][1]
    para["html"]["en"] = "<p>2. <em>Urges</em> Parties to act.</p>"
    para["statuses"] = ["implemented"]
    report = h.run()
    assert (report.changed, report.unchanged) == (1, 1)
    node = BASE + "decision/cop/15/1/para/a-2"
    assert "2. Urges Parties to act." in objects(bundled_store, node, CHM + "fullText")
    assert not any("thing 2" in t for t in objects(bundled_store, node, CHM + "fullText") if t.startswith("2. Requests"))
    assert objects(bundled_store, node, CHM + "trackingStatus") == [BASE + "scheme/decision-status/implemented"]
    # the untouched decision kept every triple
    assert objects(bundled_store, BASE + "decision/cop/15/2/para/a-2", CHM + "trackingStatus") == [BASE + "scheme/decision-status/active"]


def test_a_full_sweep_removes_what_the_source_no_longer_has(bundled_store, replay, tmp_path):
    replay.add_decision(decision_tree(15, 16, title="Knowledge management and the clearing-house mechanism"))
    replay.add_decision(decision_tree(15, 30))
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url)
    h.run()
    del replay.decisions["CBD/COP/15/16"]
    incremental = h.run()
    assert incremental.removed == 0  # an incremental run cannot know
    assert objects(bundled_store, BASE + "decision/cop/15/16/para/a-1", ELI + "number") == ["A.1"]
    full = h.run(full=True)
    assert (full.removed, full.unchanged) == (1, 1)
    assert objects(bundled_store, BASE + "decision/cop/15/16/para/a-1", ELI + "number") == []
    assert b"decision/cop/15/16" not in harvest_graph(bundled_store, "cbd-decisions")
    # the bundled facts about 15/16 stay
    assert objects(bundled_store, BASE + "decision/cop/15/16", CHM + "symbol") == ["15/16"]
    assert objects(bundled_store, BASE + "decision/cop/15/30", CHM + "symbol") == ["15/30"]


def test_a_record_that_fails_the_shapes_is_quarantined_and_the_rest_loads(bundled_store, replay, tmp_path):
    replay.add_decision(decision_tree(15, 5))
    bad = decision_tree(15, 6)
    bad["code"] = "CBD/COP/40/06"  # no COP 40 meeting: the decision would point at a meeting that is not one
    replay.decisions[bad["code"]] = bad
    replay.add_decision(decision_tree(16, 7))
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url)
    report = h.run()
    assert (report.new, len(report.refused)) == (2, 1)
    refused = report.refused[0]
    assert refused["key"] == "CBD/COP/40/06" and "wasGeneratedBy" in refused["reason"]
    assert b"decision/cop/40/6" not in harvest_graph(bundled_store, "cbd-decisions")
    assert objects(bundled_store, BASE + "decision/cop/16/7", CHM + "symbol") == ["16/7"]
    q = State(tmp_path / "harvest.sqlite").quarantine("cbd-decisions")
    assert [r["key"] for r in q] == ["CBD/COP/40/06"] and "ClassConstraintComponent" in q[0]["report"]
    # once what it needs is there (the meeting), the next run loads it and it leaves the quarantine
    bundled_store.update(
        "INSERT DATA { GRAPH <http://127.0.0.1:8000/graph/meetings-extra> { "
        "<http://127.0.0.1:8000/meeting/cop/40> a <https://w3id.org/chmkg/ns#Meeting> ; "
        "<https://schema.org/startDate> \"2040-10-01\"^^<http://www.w3.org/2001/XMLSchema#date> ; "
        "<https://w3id.org/chmkg/ns#meetingNumber> 40 ; "
        "<http://www.w3.org/ns/prov#wasAssociatedWith> <http://127.0.0.1:8000/actor/cop> ; "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> \"COP-40\"@en } }")
    again = h.run()
    assert again.new == 1 and not again.refused
    assert State(tmp_path / "harvest.sqlite").quarantine("cbd-decisions") == []


def test_malformed_codes_and_hostile_values_are_refused_or_kept_as_literals(bundled_store, replay, tmp_path):
    from hostile import INJECTED

    before_other = [g for g in bundled_store.named_graphs()]
    hostile = decision_tree(15, 8)
    hostile["code"] = 'CBD/COP/15/08> } ; DROP ALL ; INSERT DATA { <x> <y> "z" } #'
    replay.decisions[hostile["code"]] = hostile
    fine = decision_tree(15, 9)
    fine["title"]["en"] = INJECTED
    fine["nodes"][2]["nodes"][0]["actors"] = ['parties> } ; DROP ALL #']
    fine["nodes"][2]["nodes"][0]["decisions"] = ['CBD/COP/15/01"> ; DROP ALL']
    replay.add_decision(fine)
    report = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url).run()
    assert [r["key"] for r in report.refused] == [hostile["code"]]
    assert "not a decision code" in report.refused[0]["reason"]
    assert INJECTED in objects(bundled_store, BASE + "decision/cop/15/9", ELI + "title")
    assert set(before_other) <= set(bundled_store.named_graphs())
    assert bundled_store.ask("ASK { ?s ?p ?o }")


def test_a_harvest_alone_with_the_store_bulk_loads_and_maps_in_a_process_of_its_own_to_the_same_result(replay, tmp_path, monkeypatch):
    """`chmkg harvest` (alone with an embedded store): batches that only add go through the bulk loader
    and records are mapped in a process of its own (forked on Linux); the graph, the counts and the refusals are those of
    a transactional, in-process run."""
    from harvest import engine
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    for n in range(1, 25):
        replay.add_decision(decision_tree(15, n))
    hostile = decision_tree(16, 1)
    hostile["code"] = 'CBD/COP/16/01> } ; DROP ALL #'  # cannot be mapped: refused with its reason
    replay.decisions[hostile["code"]] = hostile
    bad = decision_tree(15, 30)
    bad["code"] = "CBD/COP/40/06"  # fails the shapes: quarantined
    replay.decisions[bad["code"]] = bad
    submitted: list[int] = []

    class CountingPool(engine.ProcessPoolExecutor):  # a real process pool, its mappings counted
        def submit(self, fn, *args, **kwargs):
            if fn is engine._map_in_worker:
                submitted.append(len(args[-1]))  # the records of one chunk
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(engine, "MAP_WHILE_WARMING", False)  # wait for the worker: every record is then mapped there
    monkeypatch.setattr(engine, "ProcessPoolExecutor", CountingPool)
    results = {}
    thresholds = gc.get_threshold()
    frozen: dict[str, list[int]] = {"transactions": [], "bulk": []}
    for mode in ("transactions", "bulk"):
        store = EmbeddedStore(tmp_path / mode / "store")
        ingest(store, read_bundled(BASE), graph("bundled"), META)
        state = State(tmp_path / mode / "harvest.sqlite")
        fast = mode == "bulk"
        report = Harvester(store, state, SOURCES["cbd-decisions"](BASE), replay.url, META, politeness=FAST, batch=7,
                           bulk=fast, parallel_map=fast,
                           progress=lambda r, mode=mode: frozen[mode].append(gc.get_freeze_count())).run()
        results[mode] = (report.new, sorted((r["key"], r["reason"][:60]) for r in report.refused), harvest_graph(store, "cbd-decisions"),
                         report.triples_added)
        state.close()
        store.close()
    assert results["bulk"] == results["transactions"]
    assert results["bulk"][0] == 24 and len(results["bulk"][1]) == 2
    assert sum(submitted) == 26  # every record was mapped by the other process
    # the run alone in its process froze the heap it started with, and left the collector as it found it
    assert min(frozen["bulk"]) > 0 and frozen["transactions"] and not any(frozen["transactions"])
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
    assert max(submitted) > 1  # in chunks, not one record a hand-over
    assert not list((tmp_path / "bulk" / "store-hub" / "bulk-intents").glob("*.nq"))  # every addition finished


def test_a_harvest_in_groups_ends_where_batch_by_batch_commits_end_over_changes_and_a_sweep(replay, tmp_path, monkeypatch):
    """New records written in groups beside the validation of the next batches (a harvest alone with the
    store), each group loaded as pieces at once, give the graph, the counts and the bookkeeping that
    committing batch by batch gives: on a first run, and on a full run that changes, adds and removes
    records (those batches wait for the groups)."""
    import sqlite3

    from harvest import engine
    from loaders.bundled import read_bundled
    from sparql import store as store_module
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    monkeypatch.setattr(engine, "WRITE_GROUP_BATCHES", 3)  # groups of 12 records: several groups, one cut short
    monkeypatch.setattr(store_module, "BULK_PIECES", 2)
    monkeypatch.setattr(store_module, "BULK_PIECE_LINES", 100)  # a group of a few hundred lines: two loads at once
    for n in range(1, 31):
        replay.add_decision(decision_tree(15, n, paragraphs=4))
    bad = decision_tree(16, 9)
    bad["code"] = "CBD/COP/40/06"  # fails the shapes: quarantined in the middle of a group
    replay.decisions[bad["code"]] = bad
    stores, states = {}, {}
    for mode in ("transactions", "bulk"):
        stores[mode] = EmbeddedStore(tmp_path / mode / "store")
        ingest(stores[mode], read_bundled(BASE), graph("bundled"), META)
        states[mode] = State(tmp_path / mode / "harvest.sqlite")

    def run(mode: str, **options) -> tuple:
        report = Harvester(stores[mode], states[mode], SOURCES["cbd-decisions"](BASE), replay.url, META, politeness=FAST,
                           batch=4, bulk=mode == "bulk").run(**options)
        assert report.status == "ok", report.message
        with sqlite3.connect(tmp_path / mode / "harvest.sqlite") as db:
            records = db.execute("SELECT key, checksum FROM record ORDER BY key").fetchall()
            shared = db.execute("SELECT line, refs FROM shared ORDER BY line").fetchall()
            quarantined = db.execute("SELECT key FROM quarantine ORDER BY key").fetchall()
        return ((report.new, report.changed, report.unchanged, report.removed, len(report.refused),
                 report.triples_added, report.triples_removed),
                sorted(harvest_graph(stores[mode], "cbd-decisions").split(b"\n")), records, shared, quarantined)

    first = {mode: run(mode) for mode in stores}
    assert first["bulk"] == first["transactions"]
    assert first["bulk"][0][:5] == (30, 0, 0, 0, 1)
    # the source changes a decision, drops one, adds five: a full run
    para = replay.decisions["CBD/COP/15/02"]["nodes"][2]["nodes"][1]
    para["html"]["en"] = "<p>2. <em>Urges</em> Parties to act.</p>"
    del replay.decisions["CBD/COP/15/03"]
    for n in range(31, 36):
        replay.add_decision(decision_tree(15, n, paragraphs=4))
    second = {mode: run(mode, full=True) for mode in stores}
    assert second["bulk"] == second["transactions"]
    assert second["bulk"][0][:5] == (5, 1, 28, 1, 1)
    for mode in stores:
        states[mode].close()
        stores[mode].close()
    assert not list((tmp_path / "bulk" / "store-hub" / "bulk-intents").glob("*.nq"))


def test_a_record_listed_twice_in_one_run_ends_as_its_last_version(replay, tmp_path):
    """A source that lists a record again later in the same run (with a new title): the graph holds its last
    version only, in a harvest that commits batch by batch and in one alone with the store (groups)."""
    from harvest.sources.base import Item
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    def doc(key: str, title: str) -> dict:
        return {"id": key, "schema_s": "statement", "title_EN_t": title, "updatedDate_dt": "2024-01-01T00:00:00Z"}

    class Twice(SOURCES["cbd-index"]):
        def items(self, client, ctx):
            yield Item(key="st-1", payload=doc("st-1", "First title"), url=replay.url + "/st-1")
            yield Item(key="st-2", payload=doc("st-2", "Another statement"), url=replay.url + "/st-2")
            yield Item(key="st-1", payload=doc("st-1", "Corrected title"), url=replay.url + "/st-1")

    titles = {}
    for mode in ("transactions", "bulk"):
        store = EmbeddedStore(tmp_path / mode / "store")
        ingest(store, read_bundled(BASE), graph("bundled"), META)
        state = State(tmp_path / mode / "harvest.sqlite")
        report = Harvester(store, state, Twice(BASE), replay.url, META, politeness=FAST, batch=1, bulk=mode == "bulk").run()
        assert report.status == "ok", report.message
        titles[mode] = sorted(q.object.value for q in store.raw.quads_for_pattern(
            None, ox.NamedNode("http://purl.org/dc/terms/title"), None, ox.NamedNode(graph("harvest-cbd-index"))))
        state.close()
        store.close()
    assert titles["bulk"] == titles["transactions"] == ["Another statement", "Corrected title"]

def test_a_bulk_addition_checks_iris_unless_pyoxigraph_wrote_the_lines(tmp_path):
    """A bulk addition parses its lines strictly, so a line with a relative IRI is refused by name and leaves
    nothing; lines marked as written by pyoxigraph (a harvest's mapping) skip that check, and a commit is
    marked so only when every line it adds is."""
    from ontology.errors import QueryError
    from sparql.store import EmbeddedStore
    from writes.commit import Guarded

    store = EmbeddedStore(tmp_path / "store")
    g = "http://example.org/g"
    bad = [b'<http://example.org/s1> <http://example.org/p> "fine" .', b'<http://example.org/s2> <http://example.org/p> <relative> .']
    with pytest.raises(QueryError, match="not valid N-Triples"):
        store.insert_bulk([(g, bad)])
    assert store.dump(g, ox.RdfFormat.N_TRIPLES) in (b"", None)
    assert not list((tmp_path / "store-hub" / "bulk-intents").glob("*.nq"))
    assert store.insert_bulk([(g, bad[1:])], checked=True) == 1  # the caller vouched for it: not checked again
    guarded = Guarded("http://example.org/meta", None)
    guarded.insert_lines(g, bad[:1], checked=True)
    assert guarded.checked
    guarded.insert_lines(g, bad[1:])
    assert not guarded.checked
    store.close()


def test_a_bulk_addition_does_not_look_up_the_subjects_it_is_told_are_new_and_still_undoes_them(tmp_path):
    """A harvest's validation has looked its new subjects up already: the bulk addition takes its word and does
    not look them up again, and still writes them down in its intent, so a cut-off load is undone whole."""
    from sparql.store import EmbeddedStore

    store = EmbeddedStore(tmp_path / "store")
    g = "http://example.org/g"
    store.insert_bulk([(g, [b'<http://example.org/old> <http://example.org/p> "kept" .'])])
    lines = [f"<http://example.org/n{i}> <http://example.org/p> \"new {i}\" .".encode() for i in range(4)]
    looked_up: list[str] = []
    real = store.raw

    class Counting:
        def __getattr__(self, name):
            return getattr(real, name)

        def __contains__(self, quad):
            return quad in real

        def quads_for_pattern(self, s, *rest):
            looked_up.append(s.value if s is not None else "")
            return real.quads_for_pattern(s, *rest)

        def bulk_load(self, *args, **options):
            raise SystemExit("killed while loading")

    store._store = Counting()
    with pytest.raises(SystemExit):
        store.insert_bulk([(g, lines)], new_subjects={"http://example.org/n0", "http://example.org/n1"})
    store._store = real
    assert looked_up == ["http://example.org/n2", "http://example.org/n3"]  # the others were taken at their word
    store.close()
    del real  # the process is gone: nothing holds the store open
    reopened = EmbeddedStore(tmp_path / "store")  # the cut-off addition is undone, the told-new subjects too
    assert reopened.dump(g, ox.RdfFormat.N_TRIPLES) == b'<http://example.org/old> <http://example.org/p> "kept" .\n'
    reopened.close()


def test_a_bulk_addition_cut_off_is_undone_when_the_store_is_next_opened(tmp_path):
    """The bulk loader is not atomic: a process that dies while it loads leaves its intent, and the next
    open of the store removes exactly what that addition wrote — and nothing that was there before."""
    from sparql.store import EmbeddedStore

    path = tmp_path / "store"
    store = EmbeddedStore(path)
    g = "http://example.org/g"
    before = [f"<http://example.org/s{i}> <http://example.org/p> \"kept {i}\" .".encode() for i in range(5)]
    assert store.insert_bulk([(g, before)]) == 5
    # an addition that repeats a triple already there: only the new ones are written (and would be undone)
    assert store.insert_bulk([(g, before[:2] + [b'<http://example.org/s9> <http://example.org/p> "new" .'])]) == 1
    kept = store.dump(None, ox.RdfFormat.N_QUADS)
    # new subjects (written down once each) and a new triple about a subject the graph has (written down as it is)
    added = ([f"<http://example.org/n{i}> <http://example.org/p> \"cut off {i}\" .".encode() for i in range(400)] + before
             + [b'<http://example.org/s0> <http://example.org/p> "cut off too" .'])

    class Dying:
        """The store's bulk loader writes half the addition, then the process dies."""

        def __init__(self, real):
            self.real = real

        def __getattr__(self, name):
            return getattr(self.real, name)

        def __contains__(self, quad):
            return quad in self.real

        def bulk_load(self, data, fmt, **options):
            lines = data.split(b"\n")
            self.real.bulk_load(b"\n".join(lines[: len(lines) // 2]) + b"\n", fmt, **options)
            raise SystemExit("killed while loading")

    real = store.raw
    store._store = Dying(real)
    with pytest.raises(SystemExit):
        store.insert_bulk([(g, added)])
    store._store = real
    assert b"cut off 0" in store.dump(g, ox.RdfFormat.N_TRIPLES)  # half of it is in
    intents = list((tmp_path / "store-hub" / "bulk-intents").glob("*.nq"))
    intent = intents[0].read_bytes() if len(intents) == 1 else b""
    assert b"kept" not in intent  # what was there before is not in the intent
    assert intent.count(b"#S <http://example.org/n") == 400 and b'"cut off 0"' not in intent  # a new subject: one line
    assert b'<http://example.org/s0> <http://example.org/p> "cut off too" <http://example.org/g> .' in intent
    store.close()
    del real  # the process is gone: nothing holds the store open
    again = EmbeddedStore(path)
    assert again.dump(None, ox.RdfFormat.N_QUADS) == kept
    assert not list((tmp_path / "store-hub" / "bulk-intents").glob("*.nq"))
    again.close()


# -- the polite client -------------------------------------------------------------------------

def test_retry_after_is_read_in_seconds_and_as_an_http_date():
    assert retry_after_wait("7") == 7.0
    assert retry_after_wait("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert retry_after_wait("soon") is None and retry_after_wait(None) is None


def test_faults_are_retried_with_backoff_and_the_run_completes(bundled_store, replay, tmp_path):
    for n in range(1, 4):
        replay.add_decision(decision_tree(15, n))
    replay.timeout_seconds = 1.5
    replay.fault("/api/v2021/decisions", "500", 1)
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F01/tree", "429", 1)
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F02/tree", "timeout", 1)
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F03/tree", "malformed", 1)
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url)
    report = h.run()
    assert (report.status, report.new, report.refused) == ("ok", 3, [])
    assert report.retries == 4
    assert all(f[2] == 0 for f in replay.faults)


def test_a_redirect_is_followed_and_its_address_kept_and_a_body_cut_off_is_asked_again(bundled_store, replay, tmp_path):
    for n in range(1, 3):
        replay.add_decision(decision_tree(15, n))
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F01/tree", "redirect", 1)
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F02/tree", "cut", 1)
    report = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url).run()
    assert (report.status, report.new, report.refused, report.retries) == ("ok", 2, [], 1)
    see_also = "http://www.w3.org/2000/01/rdf-schema#seeAlso"
    # the record's address is the one that answered, after the redirect
    assert objects(bundled_store, BASE + "decision/cop/15/1", see_also) == [replay.url + "/api/v2021/decisions/CBD%2FCOP%2F15%2F01/tree?moved=1"]
    assert objects(bundled_store, BASE + "decision/cop/15/2", see_also) == [replay.url + "/api/v2021/decisions/CBD%2FCOP%2F15%2F02/tree"]
    assert all(f[2] == 0 for f in replay.faults)

def test_the_client_goes_through_the_environments_proxy_unless_no_proxy_names_the_host(replay, monkeypatch):
    """As httpx did: HTTP_PROXY is honoured (the replay server answers as the proxy: it is asked the absolute
    address), and NO_PROXY sends a host's requests straight to it (here: a host that does not exist)."""
    from harvest.client import Client, HarvestHTTPError

    monkeypatch.setenv("HTTP_PROXY", replay.url)
    monkeypatch.setenv("http_proxy", replay.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with Client("http://cbd-api.invalid", FAST) as client:
        assert client.get_json("/api/v2013/countries").data == []
    assert replay.requests[-1] == "http://cbd-api.invalid/api/v2013/countries"
    monkeypatch.setenv("NO_PROXY", "cbd-api.invalid")
    monkeypatch.setenv("no_proxy", "cbd-api.invalid")
    with Client("http://cbd-api.invalid", Politeness(rate=0, backoff=0.01, max_backoff=0.02, timeout=1.0, retries=1)) as client:
        with pytest.raises(HarvestHTTPError):
            client.get_json("/api/v2013/countries")
    assert replay.requests[-1] == "http://cbd-api.invalid/api/v2013/countries"  # not asked again
    monkeypatch.delenv("NO_PROXY")
    monkeypatch.delenv("no_proxy")
    for broken in ("ftp://proxy.example", "http://[bad"):
        monkeypatch.setenv("HTTP_PROXY", broken)
        monkeypatch.setenv("http_proxy", broken)
        with Client("http://cbd-api.invalid", FAST) as client:
            with pytest.raises(HarvestHTTPError, match="proxy .* of the environment .* cannot be used"):
                client.get_json("/api/v2013/countries")

def test_a_429_waits_as_long_as_retry_after_says(replay):
    from harvest.client import Client

    replay.fault("/api/v2013/countries", "429", 1)
    waits = []
    client = Client(replay.url, Politeness(rate=0, backoff=0.01, retries=2))
    import harvest.client as hc

    original = hc.Retrying

    def spy(**kw):
        r = original(**kw)
        r.sleep = waits.append  # record the wait instead of sleeping it
        return r

    hc.Retrying = spy
    try:
        assert client.get_json("/api/v2013/countries").data == []
    finally:
        hc.Retrying = original
        client.close()
    assert waits == [1.0]


def test_a_source_that_keeps_failing_fails_the_run_keeps_what_was_committed_and_resumes(bundled_store, replay, tmp_path):
    for n in range(1, 7):
        replay.add_decision(decision_tree(15, n))
    replay.fault("/api/v2021/decisions/CBD%2FCOP%2F15%2F05/tree", "truncated", 100)
    h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url, batch=2)
    first = h.run()
    # a tree that never parses is refused with its reason; the others load
    assert first.status == "ok" and first.new == 5
    assert first.refused[0]["key"] == "CBD/COP/15/05" and "not valid JSON" in first.refused[0]["reason"]
    # a listing that never answers fails the run, and says so
    replay.faults.clear()
    replay.fault("/api/v2021/decisions", "500", 100)
    failed = h.run(full=True)
    assert failed.status == "failed" and "HTTP 500" in failed.message
    replay.faults.clear()
    after = h.run(full=True)
    assert after.status == "ok" and after.new == 1 and after.removed == 0


def test_a_harvest_resumes_from_its_checkpoint(bundled_store, replay, tmp_path):
    from harvest.sources import cbd_decisions

    for n in range(1, 8):
        replay.add_decision(decision_tree(15, n))
    old_page = cbd_decisions.PAGE
    cbd_decisions.PAGE = 2
    try:
        h = harvester(bundled_store, tmp_path, "cbd-decisions", replay.url, batch=2)
        replay.fault("/api/v2021/decisions", "500", 0)
        # the third listing page fails for good: two batches are committed, the checkpoint stays
        calls = {"n": 0}
        original = replay.answer

        def failing(method, path, query, headers):
            if path == "/api/v2021/decisions" and query.get("sk") == ["4"] and calls["n"] < 10:
                calls["n"] += 1
                return 503, {"statusCode": 503}, {}
            return original(method, path, query, headers)

        replay.answer = failing
        first = h.run()
        assert first.status == "failed" and first.new == 4
        assert State(tmp_path / "harvest.sqlite").checkpoint("cbd-decisions")["cursor"] == {"sk": 2}
        replay.answer = original
        replay.requests.clear()
        second = h.run()
        assert second.resumed and second.status == "ok" and second.new == 3
        assert not any("sk=0" in r for r in replay.requests)  # it did not start over
        assert State(tmp_path / "harvest.sqlite").checkpoint("cbd-decisions") is None
    finally:
        cbd_decisions.PAGE = old_page


# -- cbd-index ---------------------------------------------------------------------------------

def index_docs() -> list[dict]:
    return [
        {"id": "52000000cbd0050000000f01", "schema_s": "meeting", "symbol_s": "COP-15", "title_EN_t": "Fifteenth meeting of the COP",
         "title_FR_t": "Quinzième réunion de la COP", "startDate_dt": "2021-10-11T00:00:00Z", "updatedDate_dt": "2024-01-01T00:00:00Z",
         "url_ss": ["/meetings/COP-15"]},
        {"id": "52000000cbd0050000000f02", "schema_s": "meeting", "symbol_s": "SBSTTA-25", "title_EN_t": "Twenty-fifth meeting of SBSTTA",
         "eventCountry_s": "ke", "eventCity_EN_t": "Nairobi", "startDate_dt": "2023-10-15T00:00:00Z", "endDate_dt": "2023-10-19T00:00:00Z",
         "themes_ss": ["CBD-SUBJECT-CHM"], "updatedDate_dt": "2024-01-02T00:00:00Z"},
        {"id": "ntf-2024-001", "schema_s": "notification", "symbol_s": "2024-001", "title_EN_t": "Call for views on the CHM",
         "title_ES_t": "Convocatoria de opiniones", "date_dt": "2024-01-10T00:00:00Z", "themes_ss": ["CBD-SUBJECT-CHM"],
         "meeting_ss": ["SBSTTA-25"], "url_ss": ["/notifications/2024-001"], "updatedDate_dt": "2024-01-11T00:00:00Z"},
        {"id": "st-1", "schema_s": "statement", "title_EN_t": "Statement at the opening", "updatedDate_dt": "2024-02-01T00:00:00Z"},
        {"id": "nr-1", "schema_s": "nationalReport", "government_s": "co", "title_t": "Sixth national report of Colombia",
         "realm_ss": ["chm"], "updatedDate_dt": "2024-03-01T00:00:00Z"},
        {"id": "nt7-1", "schema_s": "nationalTarget7", "identifier_s": "NT7-CO-1", "government_s": "co",
         "title_EN_t": "Colombia national target 3", "globalTargetAlignment_ss": ["GBF-TARGET-03"], "_revision_i": 2,
         "updatedDate_dt": "2024-04-01T00:00:00Z"},
        {"id": "dt-1", "schema_s": "decision-text", "dttCode_s": "CBD/COP/15/16", "dttParagraphCode_s": "CBD/COP/15/16/09.06",
         "title_t": "(f) prepare a work programme for the clearing-house mechanism", "dttType_ss": ["operational"],
         "dttStatus_ss": ["implemented"], "dttActor_ss": ["executive-secretary"], "dttSubject_ss": ["CBD-SUBJECT-CHM"],
         "updatedDate_dt": "2024-05-01T00:00:00Z"},
        {"id": "old-version", "schema_s": "statement", "title_EN_t": "Superseded version", "version_s": "1",
         "updatedDate_dt": "2024-05-02T00:00:00Z"},
    ]


def test_the_search_index_brings_meetings_notifications_reports_targets_and_decision_texts(bundled_store, replay, tmp_path):
    replay.index = index_docs()
    report = harvester(bundled_store, tmp_path, "cbd-index", replay.url).run()
    assert (report.status, report.new, report.refused) == ("ok", 7, [])
    s = bundled_store
    # a meeting the hub has keeps its dates; the index adds its names and address
    cop15 = BASE + "meeting/cop/15"
    assert objects(s, cop15, "https://schema.org/startDate") == ["2022-12-07"]
    assert "Quinzième réunion de la COP" in objects(s, cop15, SKOS + "altLabel")
    # a meeting it has not is created from the index
    sbstta = BASE + "meeting/sbstta/25"
    assert objects(s, sbstta, "https://schema.org/startDate") == ["2023-10-15"]
    assert objects(s, sbstta, CHM + "country") == ["KE"]
    # the notification is the node decision elements refer to
    ntf = BASE + "notification/2024-001"
    assert objects(s, ntf, DCT + "title") == ["Call for views on the CHM", "Convocatoria de opiniones"]
    assert objects(s, ntf, DCT + "references") == [sbstta]
    assert objects(s, ntf, "http://www.w3.org/2000/01/rdf-schema#seeAlso") == ["https://www.cbd.int/notifications/2024-001"]
    assert objects(s, BASE + "record/nt7-co-1", DCT + "subject") == [BASE + "scheme/gbf-targets/target-3"]
    assert objects(s, BASE + "record/nr-1", CHM + "country") == ["CO"]
    # the decision text lands on the paragraph the bundled data has (15/16 para 9 (f))
    para = BASE + "decision/cop/15/16/para/9-f"
    assert objects(s, para, CHM + "trackingStatus") == [BASE + "scheme/decision-status/implemented"]
    assert "(f) prepare a work programme for the clearing-house mechanism" in objects(s, para, CHM + "fullText")
    # only current versions are asked for
    assert all("version_s" in r for r in replay.requests if "/index/select" in r)
    assert not objects(s, BASE + "record/old-version", DCT + "title")


def test_incremental_index_runs_ask_for_updates_since_the_last_run(bundled_store, replay, tmp_path):
    replay.index = index_docs()
    h = harvester(bundled_store, tmp_path, "cbd-index", replay.url)
    h.run()
    replay.requests.clear()
    second = h.run()
    assert second.since is not None and second.fetched == 0
    assert any("updatedDate_dt%3A%5B" in r for r in replay.requests)
    from datetime import datetime, timezone

    replay.index.append({"id": "st-2", "schema_s": "statement", "title_EN_t": "A new statement",
                         "updatedDate_dt": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    third = h.run()
    assert (third.fetched, third.new) == (1, 1)
    assert objects(bundled_store, BASE + "record/st-2", DCT + "title") == ["A new statement"]


# -- chm-records -------------------------------------------------------------------------------

def chm_record(uid: str, schema: str = "organization", revision: int = 1, title: str = "Instituto Humboldt") -> tuple[dict, dict]:
    listed = {"id": f"{uid}@{revision}", "identifier_s": uid, "schema_s": schema, "realm_ss": ["chm"], "_revision_i": revision,
              "updatedDate_dt": f"2024-0{revision}-01T00:00:00Z", "url_ss": [f"https://chm.cbd.int/database/record?documentID={uid}"]}
    body = {"header": {"identifier": uid, "schema": schema, "languages": ["en", "es"]},
            "title": {"en": title, "es": title + " (es)"}, "government": {"identifier": "co"},
            "cbdSubjects": [{"identifier": "CBD-SUBJECT-CHM"}], "gbfTargets": [{"identifier": "GBF-TARGET-21"}]}
    info = {"identifier": uid, "revision": revision, "type": schema, "metadata": {"schema": schema}, "body": body}
    return listed, info


def test_chm_records_are_listed_by_the_index_read_with_info_and_not_refetched_when_unchanged(bundled_store, replay, tmp_path):
    for uid, schema in (("ORG-1", "organization"), ("CBI-1", "capacityBuildingInitiative"), ("WEIRD-1", "resource")):
        listed, info = chm_record(uid, schema)
        if uid == "WEIRD-1":  # listed as a resource; the record itself is of a schema the hub does not map
            info["body"]["header"]["schema"] = "lmo"
        replay.index.append(listed)
        replay.records[uid] = info
    gone, _ = chm_record("GONE-1")
    replay.index.append(gone)  # listed, but /info answers 404
    h = harvester(bundled_store, tmp_path, "chm-records", replay.url)
    report = h.run()
    assert report.new == 2
    reasons = {r["key"]: r["reason"] for r in report.refused}
    assert "has no mapping" in reasons["WEIRD-1"] and "404" in reasons["GONE-1"]
    org = BASE + "record/org-1"
    assert objects(bundled_store, org, DCT + "title") == ["Instituto Humboldt", "Instituto Humboldt (es)"]
    assert objects(bundled_store, org, CHM + "country") == ["CO"]
    assert BASE + "scheme/gbf-targets/target-21" in objects(bundled_store, org, DCT + "subject")
    assert objects(bundled_store, org, CHM + "sourceRevision") == ["1"]
    replay.requests.clear()
    second = h.run(full=True)
    assert second.unchanged == 2 and not [r for r in replay.requests if "/info" in r and "ORG-1" in r]
    # a new revision is fetched and replaces the old
    listed, info = chm_record("ORG-1", revision=2, title="Instituto Alexander von Humboldt")
    replay.index = [d for d in replay.index if d.get("identifier_s") != "ORG-1"] + [listed]
    replay.records["ORG-1"] = info
    third = h.run(full=True)
    assert third.changed == 1
    assert objects(bundled_store, org, DCT + "title") == ["Instituto Alexander von Humboldt", "Instituto Alexander von Humboldt (es)"]


# -- cbd-thesaurus -----------------------------------------------------------------------------

def test_thesaurus_domains_become_skos_linked_to_the_hubs_targets_and_countries(bundled_store, replay, tmp_path):
    replay.terms = {
        "CBD-SUBJECTS": [
            {"identifier": "CBD-SUBJECT-CROSS", "title": {"en": "Cross-cutting issues", "fr": "Questions intersectorielles"},
             "broaderTerms": [], "narrowerTerms": ["CBD-SUBJECT-CHM"], "relatedTerms": []},
            {"identifier": "CBD-SUBJECT-CHM", "title": {"en": "Clearing-house mechanism"}, "shortTitle": {"en": "CHM"},
             "broaderTerms": ["CBD-SUBJECT-CROSS"], "narrowerTerms": [], "relatedTerms": [], "nonPreferedTerms": ["CHM network"]},
        ],
        "GBF-TARGETS": [{"identifier": "GBF-TARGET-03", "title": {"en": "Target 3"}, "broaderTerms": []}],
    }
    replay.countries = [{"code": "CO", "name": {"en": "Colombia", "es": "Colombia", "fr": "Colombie"},
                         "treaties": {"XXVII8": {"party": "1994-11-28", "instrument": "ratification"},
                                      "XXVII8a": {"party": None}}}]
    report = harvester(bundled_store, tmp_path, "cbd-thesaurus", replay.url, domains="CBD-SUBJECTS,GBF-TARGETS").run()
    assert (report.status, report.new) == ("ok", 4)
    chm = BASE + "scheme/cbd-subjects/cbd-subject-chm"
    assert "Clearing-house mechanism" in objects(bundled_store, chm, SKOS + "prefLabel")
    assert objects(bundled_store, chm, SKOS + "broader") == [BASE + "scheme/cbd-subjects/cbd-subject-cross"]
    assert objects(bundled_store, chm, SKOS + "hiddenLabel") == ["CHM network"]
    assert objects(bundled_store, BASE + "scheme/cbd-gbf-targets/gbf-target-03", SKOS + "exactMatch") == [BASE + "scheme/gbf-targets/target-3"]
    co = BASE + "country/co"
    assert "Colombie" in objects(bundled_store, co, SKOS + "prefLabel")
    ms = co + "/party/cbd"
    assert objects(bundled_store, ms, "http://www.w3.org/ns/org#organization") == [BASE + "actor/cop"]
    assert objects(bundled_store, ms, CHM + "nodeRole") == [CHM + "Party"]
    assert objects(bundled_store, ms, CHM + "inForceFrom") == ["1994-11-28"]
    assert objects(bundled_store, ms, SKOS + "prefLabel") == ["Colombia: Party to the Convention on Biological Diversity"]
    assert objects(bundled_store, co + "/party/cartagena", CHM + "nodeRole") == []  # neither signed nor party


# -- informea (OData) --------------------------------------------------------------------------

def odata_decision(i: int, number: str = "", treaty: str = "cbd") -> dict:
    return {"__metadata": {"type": "Decision"}, "id": f"inf-{i:04d}", "number": number or f"XII/{i}", "treaty": treaty,
            "title": [{"__metadata": {"type": "LocalizableString"}, "language": "en", "value": f"InforMEA decision {i}"}],
            "summary": [{"__metadata": {"type": "Decision"}}], "updated": "/Date(1400000000000)/",
            "link": f"https://www.cbd.int/decision/cop/?id={i}"}


def test_informea_pages_through_the_silent_cap_and_stops_at_the_404(bundled_store, replay, tmp_path):
    replay.odata = {"Decisions": [odata_decision(i) for i in range(1, 31)] + [odata_decision(1000 + i, f"BS-VI/{i}", "cartagena")
                                                                                for i in range(1, 171)] + [odata_decision(9999, "nonsense")],
                    "NationalPlans": [{"id": "np-1", "country": "co", "title": [{"language": "es", "value": "EPANB de Colombia"}],
                                       "submission": "/Date(1420070400000)/", "url": "https://www.cbd.int/doc/world/co/co-nbsap-v3-es.pdf"}]}
    report = harvester(bundled_store, tmp_path, "informea", replay.url + "/informea.svc", sets="Decisions,NationalPlans").run()
    assert report.fetched == 202 and report.status == "ok"
    assert [r["key"] for r in report.refused] == ["Decisions:inf-9999"]
    # 201 decisions: pages of 100, 100, then 1; the NationalPlans page after the first is a 404
    assert sum("/Decisions" in r for r in replay.requests) == 3
    assert objects(bundled_store, BASE + "decision/cop/12/2", DCT + "identifier") == ["informea:inf-0002"]
    assert objects(bundled_store, BASE + "decision/cp/6/3", CHM + "symbol") == ["BS-VI/3"]
    plan = BASE + "record/informea-nationalplans-np-1"
    assert objects(bundled_store, plan, DCT + "issued") == ["2015-01-01T00:00:00Z"]
    assert objects(bundled_store, plan, CHM + "country") == ["CO"]


def test_informea_reads_both_envelopes_and_stops_on_a_repeated_page(bundled_store, replay, tmp_path):
    replay.odata = {"Decisions": [odata_decision(i) for i in range(1, 101)]}
    replay.odata_v1 = True
    original = replay.answer

    def ignores_skip(method, path, query, headers):  # a server that always answers the first page
        query = {k: v for k, v in query.items() if k != "$skip"}
        return original(method, path, query, headers)

    replay.answer = ignores_skip
    report = harvester(bundled_store, tmp_path, "informea", replay.url + "/informea.svc", sets="Decisions").run()
    assert (report.status, report.fetched) == ("ok", 100)
    assert sum("/Decisions" in r for r in replay.requests) == 2


# -- bioland (national CHM) --------------------------------------------------------------------

def test_a_bioland_site_follows_links_next_into_its_own_graph(bundled_store, replay, tmp_path):
    replay.bioland = {"es": [{"type": "node--content", "id": f"uuid-{i}", "drupal_internal__nid": i, "langcode": "es",
                              "title": f"Noticia {i}", "changed": "2024-05-02T11:00:00+00:00",
                              "body": {"value": f"<p>Texto <b>{i}</b></p>"}, "path": {"alias": f"/noticias/{i}"},
                              "field_tags": "CBD-SUBJECT-CHM,GBF-TARGET-21" if i % 2 else ["CBD-SUBJECT-CHM"],
                              "field_type_placement": [{"name": "News"}]} for i in range(1, 121)]}
    from harvest.sources import bioland

    old = bioland.LIMIT
    bioland.LIMIT = 50
    try:
        report = harvester(bundled_store, tmp_path, "bioland", replay.url, country="co", locales="es").run()
    finally:
        bioland.LIMIT = old
    assert (report.status, report.new) == ("ok", 120)
    assert sum("/jsonapi/node/content" in r for r in replay.requests) == 3
    r1 = BASE + "record/bioland-co-1"
    assert objects(bundled_store, r1, DCT + "description") == ["Texto 1"]
    assert objects(bundled_store, r1, DCT + "subject") == [BASE + "scheme/cbd-subjects/cbd-subject-chm", BASE + "scheme/gbf-targets/target-21"]
    assert objects(bundled_store, r1, "http://www.w3.org/2000/01/rdf-schema#seeAlso") == [replay.url + "/es/noticias/1"]
    assert BASE + "graph/harvest-bioland-co" in bundled_store.named_graphs()


def test_bioland_needs_the_sites_country():
    from ontology.errors import BadParameter

    with pytest.raises(BadParameter, match="country"):
        SOURCES["bioland"](BASE, {})


# -- the command line --------------------------------------------------------------------------

def chmkg(tmp_path, *args):
    from typer.testing import CliRunner

    from hub.cli import app

    return CliRunner().invoke(app, ["--store", str(tmp_path / "var" / "store"), "--base", BASE, *args])


def test_chmkg_harvest_reports_as_json_and_harvests_lists_the_quarantine(tmp_path, replay):
    assert chmkg(tmp_path, "load", "--reader", "rdf", str(tmp_path / "none.nt")).exit_code == 1  # nothing there yet
    from loaders.bundled import read_bundled
    from sparql.builder import prefixed
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    s = EmbeddedStore(tmp_path / "var" / "store")
    ingest(s, read_bundled(BASE), graph("bundled"), META)
    s.close()
    replay.add_decision(decision_tree(15, 2))
    bad = decision_tree(15, 3)
    bad["title"] = {}
    replay.add_decision(bad)
    r = chmkg(tmp_path, "harvest", "cbd-decisions", "--url", replay.url, "--rate", "0", "--json")
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert (report["status"], report["new"], report["fetched"]) == ("ok", 1, 2)
    assert report["refused"] == [{"key": "CBD/COP/15/03", "reason": "cannot map the record: decision CBD/COP/15/03 has no title"}]
    listed = json.loads(chmkg(tmp_path, "harvests", "--json").output)
    assert listed["records"] == {"cbd-decisions": 1} and listed["runs"][0]["status"] == "ok"
    table = chmkg(tmp_path, "harvest", "cbd-decisions", "--url", replay.url, "--rate", "0")
    assert table.exit_code == 0 and "refused CBD/COP/15/03: cannot map the record" in table.output
    # the audit log has one line per run
    audit = (tmp_path / "var" / "store-hub" / "audit.log").read_text().splitlines()
    assert sum("harvest cbd-decisions" in line for line in audit) == 2
    # a run that brought decisions derives the tracking statuses again (once: the second run wrote nothing)
    assert sum("derive decision-tracking statuses after a harvest" in line for line in audit) == 1
    s = EmbeddedStore(tmp_path / "var" / "store")
    try:
        status = s.select(prefixed("SELECT ?p ?s WHERE { $p chm:currentStatus ?s }"),
                          {"p": ox.NamedNode(BASE + "decision/cop/15/2/para/a-1")})
    finally:
        s.close()
    assert [r["s"].value for r in status] == [BASE + "scheme/decision-status/active"]


def test_chmkg_harvest_refuses_bad_options_with_a_clear_error(tmp_path, replay):
    from hostile import BREAKOUTS

    cases = [(("harvest", "nowhere"), "unknown harvest source"),
             (("harvest", "cbd-decisions", "--url", "ftp://example.org"), "http(s) URL"),
             (("harvest", "cbd-decisions", "--since", "last tuesday"), "ISO date"),
             (("harvest", "bioland", "--url", replay.url), "country"),
             (("harvest", "bioland", "--url", replay.url, "-O", "nonsense"), "KEY=VALUE"),
             (("harvest", "cbd-decisions", "--url", replay.url, "--limit", "0"), "at least 1")]
    for args, message in cases:
        r = chmkg(tmp_path, *args)
        assert r.exit_code == 1 and message in r.output and "Error [E" in r.output, (args, r.output)
    # hostile values in options reach no query: an unreachable URL fails cleanly, a country is refused
    for h in BREAKOUTS:
        r = chmkg(tmp_path, "harvest", "bioland", "--url", replay.url, "-O", "country=" + h, "--rate", "0")
        assert r.exit_code == 1 and "Traceback" not in r.output
        r = chmkg(tmp_path, "harvest", "cbd-index", "--url", "http://127.0.0.1:9/" + h, "--rate", "0", "--retries", "0",
                  "--timeout", "0.5")
        assert r.exit_code == 1 and "Traceback" not in r.output and "Error [E" in r.output, r.output


@pytest.mark.slow
def test_a_harvest_killed_at_any_moment_leaves_no_partial_record(tmp_path, replay):
    """Kill ``chmkg harvest`` with SIGKILL at several moments; every decision in the store is whole
    (all its elements or none), and the next run completes to exactly what an uninterrupted run gives."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    for session in (13, 14, 15, 16):
        for n in range(1, 41):
            replay.add_decision(decision_tree(session, n, paragraphs=8))
    store_path = tmp_path / "var" / "store"
    s = EmbeddedStore(store_path)
    ingest(s, read_bundled(BASE), graph("bundled"), META)
    s.close()
    from pathlib import Path

    cmd = [str(Path(sys.executable).parent / "chmkg"), "--store", str(store_path), "--base", BASE, "harvest", "cbd-decisions",
           "--url", replay.url, "--rate", "0", "--batch", "7"]

    def elements_per_decision() -> dict[str, int]:
        st = EmbeddedStore(store_path)
        try:
            from sparql.builder import fill

            rows = st.select(fill("SELECT ?d (COUNT(DISTINCT ?e) AS ?n) WHERE { GRAPH $g { ?e "
                                  "<http://data.europa.eu/eli/ontology#is_part_of> ?d } } GROUP BY ?d",
                                  g=ox.NamedNode(graph("harvest-cbd-decisions"))), union=False)
            return {r["d"].value: int(r["n"].value) for r in rows}
        finally:
            st.close()

    state_db = tmp_path / "var" / "store-hub" / "harvest.sqlite"

    def harvested() -> int:
        try:
            with sqlite3.connect(state_db, timeout=5) as db:
                return db.execute("SELECT COUNT(*) FROM record").fetchone()[0]
        except sqlite3.Error:
            return 0

    # three kills, each once that many decisions are in, mid-way through a later batch (new records are
    # written in groups of batches, and known to the state once their group is written)
    for at_least in (1, 40, 90):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 120
        while harvested() < at_least and p.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.05)
        killed = p.poll() is None
        if killed:
            os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=30)
        assert killed, "the harvest ended before it could be killed: give it more to do"
        counts = elements_per_decision()
        # 2 preamble + section + 8 paragraphs + item + sub-item = 13 elements, or the decision is absent
        assert set(counts.values()) <= {13}, counts
        assert len(counts) < 160
    done = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = elements_per_decision()
    assert len(counts) == 160 and set(counts.values()) == {13}
    again = json.loads(subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300).stdout)
    assert (again["new"], again["changed"], again["unchanged"]) == (0, 0, 160)



def test_the_mapping_process_ends_with_the_harvest_even_when_the_harvest_is_killed_alone(tmp_path, replay):
    """`chmkg harvest` maps in a process of its own; killing the harvest's process alone (SIGKILL, as the
    OOM killer does) leaves no mapping process behind, and Ctrl-C is left to the harvest."""
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    import psutil

    from harvest import engine

    for session in (13, 14, 15):
        for n in range(1, 101):
            replay.add_decision(decision_tree(session, n, paragraphs=8))
    cmd = [str(Path(sys.executable).parent / "chmkg"), "--store", str(tmp_path / "store"), "--base", BASE, "harvest",
           "cbd-decisions", "--url", replay.url, "--rate", "0"]
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[psutil.Process] = []
    try:
        harvest = psutil.Process(p.pid)
        deadline = time.monotonic() + 120
        while len(workers) < engine.MAP_WORKERS and p.poll() is None and time.monotonic() < deadline:
            workers = harvest.children()
            time.sleep(0.02)
        assert len(workers) == engine.MAP_WORKERS and p.poll() is None, (
            "the harvest ended before its mapping processes were seen: give it more to do")
        for w in workers:
            w.send_signal(signal.SIGINT)  # Ctrl-C reaches the whole foreground group: the workers leave it to the harvest
        time.sleep(0.2)
        assert all(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)
    finally:
        p.kill()
        p.wait(timeout=30)
    gone, alive = psutil.wait_procs(workers, timeout=30)
    for w in alive:
        w.kill()
    assert not alive, "a mapping process outlived the harvest"

class _MentionsOneNode(Source):
    """Records that each state a triple about one common node (as own lines): every group of a harvest has lines
    about it."""

    name = "mentions-one-node"
    title = "records that all mention one node"
    default_url = "http://127.0.0.1:9/"
    common = "http://example.org/common"

    def items(self, client, ctx):
        for i in range(6):
            yield Item(key=f"r{i}", payload={"i": i}, revision="1")

    def map(self, item):
        from harvest.sources.base import Mapped
        from loaders.triples import iri, lit

        out = Mapped()
        node = self.m.base + f"test/record/{item.payload['i']}"
        out.own.add(node, "http://www.w3.org/2000/01/rdf-schema#label", lit(f"record {item.payload['i']}"))
        out.own.add(self.common, "http://example.org/mentions", iri(node))
        return out


def test_a_group_never_calls_new_a_subject_the_group_written_before_it_writes(tmp_path, monkeypatch):
    """A group's new subjects (no lookup when it is bulk loaded; undone whole if cut off) are those its validation
    found nowhere, less those of the group being written at that moment: when the group is written, no
    subject it calls new has a triple in the graph."""
    import time

    from harvest import engine
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    monkeypatch.setattr(engine, "WRITE_GROUP_BATCHES", 1)  # a group per batch of two records
    store = EmbeddedStore(tmp_path / "store")
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    real = store.insert_bulk
    told: list[frozenset[str]] = []
    wrong: list[str] = []

    def slow(parts, before=None, *, checked=False, new_subjects=()):
        time.sleep(0.3)  # the next batch is validated while this group is still being written
        for g, lines in parts:
            for s in new_subjects:
                if next(iter(store.raw.quads_for_pattern(ox.NamedNode(s), None, None, ox.NamedNode(g))), None) is not None:
                    wrong.append(s)
        told.append(frozenset(new_subjects))
        return real(parts, before, checked=checked, new_subjects=new_subjects)

    monkeypatch.setattr(store, "insert_bulk", slow)
    source = _MentionsOneNode(BASE)
    report = Harvester(store, State(tmp_path / "harvest.sqlite"), source, source.default_url, META, batch=2,
                       bulk=True).run()
    assert report.status == "ok" and report.new == 6
    assert len(told) == 3 and not wrong
    assert source.common in told[0] and not any(source.common in t for t in told[1:])
    assert BASE + "test/record/5" in told[2]  # the hint is used: the records' own nodes are taken as new
    assert len(list(store.raw.quads_for_pattern(ox.NamedNode(source.common), None, None, None))) == 6
    store.close()


# -- scheduled harvests in the served hub ----------------------------------------------------

def test_the_scheduler_runs_due_sources_through_the_hubs_write_and_reports_them(settings, replay, tmp_path):
    from dataclasses import replace

    from hub.harvesting import Scheduler
    from hub.service import Hub
    from loaders.bundled import read_bundled
    from ontology.errors import BadParameter
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    replay.add_decision(decision_tree(15, 11))
    s = replace(settings, harvest_schedule="cbd-decisions=3600", harvest_urls=f"cbd-decisions={replay.url}", harvest_rate=0)
    store = EmbeddedStore(s.store_path)
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    hub = Hub(s, store)
    now = [1000.0]
    scheduler = Scheduler(s, store, write=lambda fn: hub.write(fn, who="scheduler", what="harvest batch"), clock=lambda: now[0])
    generation = hub.generation
    assert scheduler.due() == ["cbd-decisions"]
    scheduler.run_due()
    assert scheduler.last["cbd-decisions"]["status"] == "ok" and scheduler.last["cbd-decisions"]["new"] == 1
    assert hub.generation > generation  # the caches were emptied by the write
    assert scheduler.status()["cbd-decisions"]["due_in_s"] == 3600 and scheduler.due() == []
    now[0] += 3600
    replay.requests.clear()
    scheduler.run_due()
    assert scheduler.last["cbd-decisions"]["status"] == "ok" and replay.requests
    audit = s.audit_path.read_text()
    assert "harvest cbd-decisions from" in audit and '"scheduler"' in audit
    for bad, message in (("nowhere=3600", "unknown harvest source"), ("cbd-index=5", "at least 60 seconds")):
        with pytest.raises(BadParameter, match=message):
            Scheduler(replace(s, harvest_schedule=bad), store, write=lambda fn: fn())
    hub.close()  # closes the store too


def test_healthz_and_the_admin_page_show_runs_and_the_quarantine(settings, replay, tmp_path):
    from dataclasses import replace

    from fastapi.testclient import TestClient

    from hub.harvesting import run_harvest
    from hub.web.app import create_app
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    store = EmbeddedStore(settings.store_path)
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    bad = decision_tree(15, 12)
    bad["code"] = "CBD/COP/41/12"
    replay.decisions[bad["code"]] = bad
    replay.add_decision(decision_tree(15, 13))
    run_harvest(replace(settings, harvest_rate=0), store, "cbd-decisions", url=replay.url)
    store.close()
    app = create_app(settings)
    token = app.state.hub.tokens.create("ed", "editor")
    with TestClient(app) as c:
        health = c.get("/healthz").json()["harvest"]
        assert health["last_runs"]["cbd-decisions"]["status"] == "ok"
        assert health["quarantined"] == 1 and health["records"] == {"cbd-decisions": 1}
        assert c.get("/admin/harvests").status_code in (401, 403)
        page = c.get("/admin/harvests", headers={"Authorization": "Bearer " + token})
        assert page.status_code == 200 and "CBD/COP/41/12" in page.text and "wasGeneratedBy" in page.text
        api = c.get("/api/harvests", headers={"Authorization": "Bearer " + token}).json()
        assert api["quarantine"][0]["key"] == "CBD/COP/41/12"


# -- chmkg data fetch --------------------------------------------------------------------------

@pytest.fixture
def mirror(tmp_path):
    """A local server holding a copy of ../shared/data, laid out as the folder is."""
    import shutil
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from conftest import SHARED

    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data not found: the mirror serves a copy of it")
    copy = tmp_path / "mirror"
    shutil.copytree(SHARED / "data" / "kmgbf-ontology", copy / "kmgbf-ontology")
    shutil.copytree(SHARED / "data" / "treaty-memberships", copy / "treaty-memberships")

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(copy)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", copy
    server.shutdown()
    server.server_close()


def test_data_fetch_lays_out_checked_files_from_a_mirror(tmp_path, mirror):
    from harvest.datafiles import check, fetch

    url, copy = mirror
    to = tmp_path / "shared-data"
    report = fetch(to, mirror=url, only=["kmgbf-ontology", "treaty-memberships"], use_upstream=False)
    assert report.complete and len(report.fetched) == sum(1 for p in copy.rglob("*") if p.is_file())
    assert check(to, only=["kmgbf-ontology", "treaty-memberships"])["different"] == []
    again = fetch(to, mirror=url, only=["kmgbf-ontology"], use_upstream=False)
    assert again.fetched == [] and len(again.present) > 5  # what is there and intact is not asked again
    # the build reads what was fetched
    from loaders.kmgbf import read_kmgbf

    assert read_kmgbf(to, BASE).triple_count == 2333 + 27 + 27  # as published, + exactMatch and inScheme per goal and target
    # a partial copy builds what it can and says in one line what it lacks
    r = chmkg(tmp_path, "build", "--shared", str(to))
    assert r.exit_code == 0, r.output
    assert "lacks the files of targets, convention, informea, ecolex, gemet, mappings" in " ".join(r.output.split())
    assert "kmgbf" in r.output and "countries" not in r.output


def test_data_fetch_refuses_a_file_whose_checksum_differs_and_reports_missing_ones(tmp_path, mirror):
    from harvest.datafiles import fetch

    url, copy = mirror
    (copy / "kmgbf-ontology" / "ontology" / "kmgbf-all.ttl").write_text("# tampered\n")
    (copy / "kmgbf-ontology" / "LICENSE").unlink()
    to = tmp_path / "shared-data"
    report = fetch(to, mirror=url, only=["kmgbf-ontology"], use_upstream=False)
    reasons = {f["path"]: f["reason"] for f in report.failed}
    assert "checksum mismatch" in reasons["kmgbf-ontology/ontology/kmgbf-all.ttl"]
    assert "HTTP 404" in reasons["kmgbf-ontology/LICENSE"]
    assert not (to / "kmgbf-ontology" / "ontology" / "kmgbf-all.ttl").exists()
    assert not list(to.rglob("*.part"))  # nothing partial left behind
    assert "kmgbf-ontology/ontology/kmgbf-ontology.ttl" in report.fetched


def test_data_fetch_without_network_says_so_once_per_host_and_the_cli_exits_1(tmp_path):
    import socket

    from harvest.datafiles import fetch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    to = tmp_path / "shared-data"
    report = fetch(to, mirror=f"http://127.0.0.1:{port}", only=["kmgbf-ontology"], use_upstream=False, timeout=2)
    assert report.failed and all("no network" in f["reason"] for f in report.failed)
    assert not to.exists()  # not even empty folders: a later run still sees the data as missing
    r = chmkg(tmp_path, "data", "fetch", "--to", str(to), "--mirror", f"http://127.0.0.1:{port}", "--no-upstream",
              "--only", "kmgbf-ontology", "--timeout", "2")
    assert r.exit_code == 1 and "could not be fetched" in r.output
    bad = chmkg(tmp_path, "data", "fetch", "--mirror", "ftp://nowhere")
    assert bad.exit_code == 1 and "Error [E314]" in bad.output
