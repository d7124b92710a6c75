"""The bundled default dataset: what it holds, that it conforms, that it is rebuilt identically."""

from __future__ import annotations

import pytest

from conftest import BASE, META, graph
from loaders.bundled import read_bundled
from writes.ingest import ingest
from shapes.validate import validate_store, validate_with_pyshacl
from sparql import queries
from sparql.store import EmbeddedStore

CHM = "https://w3id.org/chmkg/ns#"
NAMED_IN_ISSUE = ["I/3", "II/3", "III/4", "IV/2", "V/14", "VI/18", "VII/23", "VIII/11", "IX/30", "X/2", "X/15", "XI/2",
                  "XII/2", "XIII/23", "XIV/24", "XIV/25", "15/4", "15/8", "15/16"]


def _count(store, cls: str) -> int:
    return int(store.select(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{cls}> }}")[0]["n"].value)


def test_it_holds_the_classes_and_counts_the_issue_names(bundled_store):
    s = bundled_store
    assert _count(s, CHM + "Instrument") == 3
    assert _count(s, CHM + "Article") == 42
    assert _count(s, CHM + "ArticleParagraph") == 5 + 2 + 5
    cop = s.select(f"SELECT (COUNT(?m) AS ?n) WHERE {{ ?m a <{CHM}Meeting> ; <http://www.w3.org/ns/prov#wasAssociatedWith> <{BASE}actor/cop> }}")
    assert cop[0]["n"].value == "16"
    aichi = s.select(f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#inScheme> <{BASE}scheme/aichi-targets> }}")
    gbf = s.select(f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c <http://www.w3.org/2004/02/skos/core#inScheme> <{BASE}scheme/gbf-targets> }}")
    assert (aichi[0]["n"].value, gbf[0]["n"].value) == ("25", "27")
    assert _count(s, CHM + "StrategicAction") == 40
    goals = s.select(f"SELECT (COUNT(?g) AS ?n) WHERE {{ <{BASE}work-programme/chm-wp-2024-2030> <{CHM}hasGoal> ?g }}")
    assert goals[0]["n"].value == "4"
    for label in ("Consortium of Scientific Partners on Biodiversity", "NBSAP Forum", "Bio-Bridge Initiative", "InforMEA",
                  "European Environment Agency", "Global Environment Facility"):
        assert s.ask(f'ASK {{ ?a a <http://xmlns.com/foaf/0.1/Agent> ; <http://www.w3.org/2004/02/skos/core#prefLabel> "{label}"@en }}'), label


@pytest.mark.parametrize("symbol", NAMED_IN_ISSUE)
def test_every_decision_the_issue_names_is_there_with_symbol_title_and_meeting(bundled_store, symbol):
    from ontology.iris import Minter
    from ontology.symbols import parse_symbol

    d = Minter(BASE).decision(symbol)
    rows = bundled_store.select(
        f"SELECT ?s ?t ?m WHERE {{ <{d}> <{CHM}symbol> ?s ; <http://data.europa.eu/eli/ontology#title> ?t ; <http://www.w3.org/ns/prov#wasGeneratedBy> ?m }}")
    assert len(rows) == 1 and rows[0]["s"].value == parse_symbol(symbol).canonical and rows[0]["t"].value


@pytest.mark.slow
def test_it_conforms_with_both_validators(bundled_store):
    assert validate_store(bundled_store).conforms
    assert validate_with_pyshacl(read_bundled(BASE).ntriples).conforms


def test_it_is_rebuilt_identically(tmp_path):
    dumps = []
    for i in range(2):
        s = EmbeddedStore(tmp_path / f"s{i}")
        ingest(s, read_bundled(BASE), graph("bundled"), META)
        dumps.append(s.dump(graph("bundled"), __import__("pyoxigraph").RdfFormat.N_TRIPLES))
        s.close()
    assert dumps[0] == dumps[1] and read_bundled(BASE).checksum == read_bundled(BASE).checksum


def test_the_lineage_query_returns_the_chm_chain_from_i3_to_15_16_with_link_kinds(bundled_store):
    rows = queries.run(bundled_store, "lineage-up", {"decision": BASE + "decision/cop/15/16"})
    links = {(r["source"].value.removeprefix(BASE), r["kind"].value, r["target"].value.removeprefix(BASE)) for r in rows}
    chain = ["cop/15/16", "cop/14/25", "cop/13/23", "cop/12/2", "cop/11/2", "cop/10/15", "cop/9/30", "cop/8/11",
             "cop/7/23", "cop/6/18", "cop/5/14", "cop/4/2", "cop/3/4", "cop/2/3", "cop/1/3"]
    for later, earlier in zip(chain, chain[1:]):
        assert ("decision/" + later, "recalls", "decision/" + earlier) in links
    assert ("decision/cop/1/3", "implements", "instrument/cbd/article/18/para/3") in links
    assert ("decision/cop/8/11", "amends", "decision/cop/5/14") in links
    down = queries.run(bundled_store, "lineage-down", {"resource": BASE + "instrument/cbd/article/18/para/3"})
    assert {r["source"].value for r in down} >= {BASE + "decision/cop/1/3", BASE + "decision/cop/15/16"}


def test_every_named_query_parses_and_runs_on_an_empty_store(store):
    for q in queries.catalogue().values():
        values = {p.name: "http://example.org/x" if p.type == "iri" else "1" for p in q.params if p.required}
        queries.run(store, q.name, values)
        assert q.title and q.description


def test_the_decision_index_is_carried_with_its_sources_and_flags(bundled_store):
    """Every decision of the shared index (399) is in the bundled data, with the address its title came
    from; the rows the index flags say so; the Protocols' meetings exist for their decisions."""
    import csv
    from importlib.resources import files

    s = bundled_store
    text = files("loaders").joinpath("data", "bundled", "decision_index.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 399
    assert _count(s, CHM + "Decision") >= 399
    q = ("SELECT ?sym ?src ?flag WHERE { ?d <https://w3id.org/chmkg/ns#symbol> ?sym ; <http://purl.org/dc/terms/source> ?src "
         "OPTIONAL { ?d <https://w3id.org/chmkg/ns#sourceFlag> ?flag } }")
    from pyoxigraph import Literal
    by_symbol = {}
    for sym in ("I/3", "14/19", "BS-II/1", "NP-1/7", "VIII/1"):
        got = s.select(q, {"sym": Literal(sym)})
        assert got, sym
        by_symbol[sym] = {r["flag"].value.rsplit("/", 1)[-1] for r in got if r.get("flag")}
    assert "inferred-symbol" in by_symbol["I/3"]
    assert "weak-title" in by_symbol["14/19"]
    assert by_symbol["VIII/1"].isdisjoint({"weak-title", "inferred-symbol"})
    # a Cartagena Protocol decision of the index belongs to its meeting, which has dates
    meeting = s.select("SELECT ?start WHERE { ?d <https://w3id.org/chmkg/ns#symbol> \"BS-II/1\" ; "
                       "<http://www.w3.org/ns/prov#wasGeneratedBy> ?m . ?m <https://schema.org/startDate> ?start }")
    assert meeting and meeting[0]["start"].value == "2005-05-30"
