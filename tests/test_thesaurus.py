"""Vocabulary import (InforMEA, GEMET, ECOLEX) against the SOURCES.md figures, and the quality checks:
each with a fixture that trips it and one that does not, and the real data's known faults found."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib.namespace import RDF, SKOS

from conftest import BASE, META, graph, snapshot
from writes.ingest import ingest
from ontology.errors import SourceError
from thesaurus.importers import ecolex_graph, gemet_graph, informea_graph, read_vocabulary
from thesaurus.quality import CHECKS, run_checks

pytestmark = pytest.mark.slow  # real vocabularies imported per test

G = "urn:test:vocab"
HEAD = """@prefix skos: <http://www.w3.org/2004/02/skos/core#> . @prefix ex: <http://example.org/> .
ex:s a skos:ConceptScheme ; skos:prefLabel "S"@en .
"""
# check id → (a vocabulary that trips it, one that does not)
FIXTURES = {
    "orphan-concepts": ('ex:a a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "a"@en .',
                        'ex:a a skos:Concept ; skos:prefLabel "a"@en ; skos:broader ex:b . ex:b a skos:Concept ; skos:prefLabel "b"@en .'),
    "broader-cycles": ('ex:a a skos:Concept ; skos:broader ex:b . ex:b a skos:Concept ; skos:broader ex:a .',
                       'ex:a a skos:Concept ; skos:broader ex:b . ex:b a skos:Concept .'),
    "missing-preflabel-language": ('ex:a a skos:Concept ; skos:prefLabel "a"@en , "a"@fr . ex:b a skos:Concept ; skos:prefLabel "b"@en .',
                                   'ex:a a skos:Concept ; skos:prefLabel "a"@en , "a"@fr . ex:b a skos:Concept ; skos:prefLabel "b"@en , "b"@fr .'),
    "several-preflabels": ('ex:a a skos:Concept ; skos:prefLabel "REDD"@en , "REDD+"@en .',
                           'ex:a a skos:Concept ; skos:prefLabel "REDD"@en , "REDD"@fr .'),
    "pref-and-alt": ('ex:a a skos:Concept ; skos:prefLabel "forest"@en ; skos:altLabel "forest"@en .',
                     'ex:a a skos:Concept ; skos:prefLabel "forest"@en ; skos:altLabel "woodland"@en .'),
    "label-clash": ('ex:a a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "Forest"@en . ex:b a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "forest"@en .',
                    'ex:a a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "forest"@en . ex:b a skos:Concept ; skos:inScheme ex:s ; skos:prefLabel "forestry"@en .'),
    "related-and-broader": ('ex:a a skos:Concept ; skos:broader ex:b ; skos:related ex:b . ex:b a skos:Concept .',
                            'ex:a a skos:Concept ; skos:broader ex:b ; skos:related ex:c . ex:b a skos:Concept . ex:c a skos:Concept .'),
    "dangling-references": ('ex:a a skos:Concept ; skos:broader ex:nowhere .',
                            'ex:a a skos:Concept ; skos:broader ex:b . ex:b a skos:Concept .'),
    "top-concept-with-broader": ('ex:a a skos:Concept ; skos:topConceptOf ex:s ; skos:broader ex:b . ex:b a skos:Concept .',
                                 'ex:a a skos:Concept ; skos:topConceptOf ex:s . ex:b a skos:Concept ; skos:broader ex:a .'),
    "no-definition": ('ex:a a skos:Concept ; skos:prefLabel "a"@en .',
                      'ex:a a skos:Concept ; skos:prefLabel "a"@en ; skos:definition "An a."@en .'),
    "stray-characters": ('ex:a a skos:Concept ; skos:prefLabel "a"@en ; skos:definition "An a. /n"@en .',
                         'ex:a a skos:Concept ; skos:prefLabel "a"@en ; skos:definition "An a."@en .'),
}


def _check(ttl: str, check_id: str) -> int:
    store = ox.Store()
    store.load((HEAD + ttl).encode(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode(G))
    return run_checks(store, G, only=[check_id]).results[0].count


def test_every_check_has_fixtures():
    assert set(FIXTURES) == {c.id for c in CHECKS}


@pytest.mark.parametrize("check_id", sorted(FIXTURES))
def test_check_trips_on_its_fault_only(check_id):
    bad, good = FIXTURES[check_id]
    assert _check(bad, check_id) >= 1
    assert _check(good, check_id) == 0


def _folder(shared_data: Path, name: str) -> Path:
    return shared_data / name


def test_informea_import_matches_sources(shared_data):
    g = informea_graph(shared_data / "informea-thesaurus")
    concepts = set(g.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) == 565  # 566 Concept nodes, 565 distinct URIs (REDD and REDD+ share one)
    assert len(list(g.triples((None, SKOS.broader, None)))) == 477  # one per concept node that has a parent
    assert len(list(g.triples((None, SKOS.definition, None)))) == 562  # 562 concept nodes have one
    assert len(set(g.subjects(RDF.type, SKOS.Collection))) == 6
    assert len(set(g.subjects(SKOS.altLabel, None))) >= 360  # 372 terms have synonyms; a few tids do not join
    assert all(o.language == "en" for o in g.objects(None, SKOS.prefLabel))


def test_gemet_import_matches_sources(shared_data):
    g = gemet_graph(shared_data / "gemet")
    assert len(set(g.subjects(RDF.type, SKOS.Concept))) == 5520
    labels = list(g.objects(None, SKOS.prefLabel))
    assert sum(1 for o in labels if o.language == "en") >= 5520  # + the scheme's label the hub adds
    assert sum(1 for o in labels if o.language == "fr") >= 5208
    assert len(list(g.triples((None, SKOS.broader, None)))) == 5634
    assert len(list(g.triples((None, SKOS.related, None)))) >= 3390


def test_ecolex_import_covers_every_keyword(shared_data):
    keys = json.loads((shared_data / "ecolex-vocabularies" / "keywords.json").read_text(encoding="utf-8"))
    g = ecolex_graph(shared_data / "ecolex-vocabularies")
    labels = {str(o) for p in (SKOS.prefLabel, SKOS.hiddenLabel) for o in g.objects(None, p)}
    assert len(keys) == 610 and all(k.strip() in labels for k in keys)
    assert {o.language for o in g.objects(None, SKOS.prefLabel)} >= {"en", "fr", "es"}


def test_the_real_informea_faults_are_found(shared_data):
    source, report = read_vocabulary("informea", shared_data)
    found = report.quality.by_id()
    redd = "http://www.informea.org/terms/redd"
    assert redd in {f.concept for f in found["several-preflabels"].findings}  # REDD and REDD+ on one IRI
    assert redd in {f.concept for f in found["broader-cycles"].findings}  # REDD+ its own broader
    stray = [f for f in found["stray-characters"].findings if "ends with ' /n'" in f.detail]
    assert len(stray) == 562  # every definition
    assert any("cycle" in line for line in report.skosify_log)


def test_import_into_the_store_then_check_it(shared_data, store, bundled_store):
    source, report = read_vocabulary("informea", shared_data)
    result = ingest(store, source, graph("thesaurus-informea"), META)
    assert result.status == "loaded" and store.count(graph("thesaurus-informea")) == report.triples
    from thesaurus.quality import check_stored

    stored = check_stored(store, graph("thesaurus-informea"))
    assert stored.concepts == 565 and stored.by_id()["several-preflabels"].count == 1


def test_a_malformed_skos_file_is_refused_and_nothing_changes(tmp_path, store, bundled_store):
    folder = tmp_path / "gemet"
    folder.mkdir()
    (folder / "gemet-en.skos.rdf").write_text("<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><oops")
    (folder / "gemet-fr.skos.rdf").write_text("")
    before = snapshot(store)
    with pytest.raises(SourceError, match="malformed RDF/XML"):
        read_vocabulary("gemet", tmp_path)
    assert snapshot(store) == before


def test_unknown_vocabulary_is_a_clear_error(tmp_path):
    with pytest.raises(SourceError, match="unknown vocabulary 'agrovoc'"):
        read_vocabulary("agrovoc", tmp_path)


def test_cli_import_and_check(tmp_path, shared_data):
    from typer.testing import CliRunner

    from hub.cli import app

    runner = CliRunner()
    args = ["--store", str(tmp_path / "var" / "store"), "--base", BASE]
    r = runner.invoke(app, [*args, "thesaurus", "import", "informea", "ecolex", "--shared", str(shared_data)])
    assert r.exit_code == 0, r.output
    assert "informea: loaded, 565 concepts" in r.stdout
    r = runner.invoke(app, [*args, "thesaurus", "check", "--json"])
    assert r.exit_code == 0, r.output
    reports = {d["graph"]: d for d in json.loads(r.stdout)}
    assert reports[graph("thesaurus-informea")]["concepts"] == 565
    r = runner.invoke(app, [*args, "thesaurus", "check", "--graph", "nope"])
    assert r.exit_code == 1 and "no graph" in r.output


def test_mappings_from_the_tables_and_gemet_suggestions_apart(shared_data):
    from rdflib import URIRef

    from thesaurus.importers import mapping_graphs

    facts, suggestions, report = mapping_graphs(shared_data)
    abs_ = URIRef("http://www.informea.org/terms/access-and-benefit-sharing")
    assert (abs_, SKOS.exactMatch, URIRef("https://www.ecolex.org/keyword/access-and-benefit-sharing")) in facts
    assert report.links == len(facts) and report.exact > 50 and report.close > 300
    # what cannot be resolved is listed with the reason, e.g. the table's own typo
    assert "integrated management → integrated managment (ECOLEX keyword not found)" in report.unresolved
    # GEMET links are suggestions in their own graph, never among the facts
    assert report.suggestions == len(suggestions) > 100
    assert not any("eionet" in str(o) for o in facts.objects())
    assert all(str(o).startswith("http://www.eionet.europa.eu/gemet/") for o in suggestions.objects())


def test_cli_imports_mappings_into_two_graphs(tmp_path, shared_data):
    from typer.testing import CliRunner

    from hub.cli import app

    r = CliRunner().invoke(app, ["--store", str(tmp_path / "var" / "store"), "--base", BASE, "thesaurus", "import",
                                 "informea", "ecolex", "mappings", "--shared", str(shared_data)])
    assert r.exit_code == 0, r.output
    assert "thesaurus-mappings: loaded" in r.stdout and "thesaurus-suggestions: loaded" in r.stdout
    assert "unresolved: integrated management → integrated managment" in r.stdout
