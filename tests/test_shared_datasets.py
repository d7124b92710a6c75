"""The real datasets in ../shared/data that `chmkg build` loads: party status, the official KMGBF ontology
(and its own SHACL shapes), the marine EBSA records and the reporting forms."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from conftest import BASE, META, SHARED, graph
from loaders.bundled import read_bundled
from sparql.store import EmbeddedStore
from writes.ingest import ingest

DATA = SHARED / "data"
CHM = "https://w3id.org/chmkg/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ORG = "http://www.w3.org/ns/org#"
KM = "http://metadata.cbd.int/kmgbf/"
KMO = "http://metadata.cbd.int/kmgbf/ontology#"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason=f"../shared/data not found at {DATA}: these tests read it")


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from loaders.countries import read_countries
    from loaders.ebsa import read_ebsa
    from loaders.forms import read_forms
    from loaders.kmgbf import read_kmgbf

    s = EmbeddedStore(tmp_path_factory.mktemp("shared") / "store")
    ingest(s, read_bundled(BASE), graph("bundled"), META)
    for reader in (read_countries, read_kmgbf, read_ebsa, read_forms):
        source = reader(DATA, BASE)
        result = ingest(s, source, graph(source.name), META)
        assert result.report.conforms and result.status == "loaded", source.name
    yield s
    s.close()


def values(store, s, p):
    rows = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", {"s": ox.NamedNode(s), "p": ox.NamedNode(p)})
    return sorted({r["o"].value for r in rows})


def count(store, query):
    return int(store.select(query)[0]["n"].value)


def test_party_status_per_instrument_with_dates(store):
    co = BASE + "country/co"
    assert "Colombie" in values(store, co, SKOS + "prefLabel") and "COL" in values(store, co, SKOS + "notation")
    ms = co + "/party/cbd"
    assert values(store, ms, ORG + "member") == [co]
    assert values(store, ms, ORG + "organization") == [BASE + "actor/cop"]
    assert values(store, ms, CHM + "nodeRole") == [CHM + "Party"]
    assert values(store, ms, CHM + "consented") == ["1994-11-28"]
    assert values(store, ms, SKOS + "prefLabel") == ["Colombia: Party to the Convention on Biological Diversity"]
    # the United States signed the Convention and never ratified it
    us = BASE + "country/us/party/cbd"
    assert values(store, us, CHM + "nodeRole") == [CHM + "Signatory"] and values(store, us, CHM + "signed") == ["1993-06-04"]
    assert not values(store, us, CHM + "consented")
    # counts per instrument, as SOURCES.md gives them: CBD 196 parties, Cartagena 171, Nagoya 113
    parties = {r["o"].value: int(r["n"].value) for r in store.select(
        "SELECT ?o (COUNT(?m) AS ?n) WHERE { ?m <http://www.w3.org/ns/org#organization> ?o ; "
        "<https://w3id.org/chmkg/ns#nodeRole> <https://w3id.org/chmkg/ns#Party> } GROUP BY ?o")}
    assert parties == {BASE + "actor/cop": 196, BASE + "actor/cp-mop": 171, BASE + "actor/np-mop": 113}
    # the European Union (ECOLEX "EUE") is a Party too
    assert values(store, BASE + "country/eu/party/cbd", CHM + "nodeRole") == [CHM + "Party"]


def test_the_official_kmgbf_ontology_is_aligned_and_carries_indicator_roles(store):
    assert values(store, BASE + "scheme/gbf-targets/target-3", SKOS + "exactMatch") == [KM + "target_3"]
    assert values(store, BASE + "scheme/gbf-targets/goal-a", SKOS + "exactMatch") == [KM + "goal_A"]
    assert values(store, KM + "target_3", SKOS + "inScheme") == [KM + "kmgbfScheme"]
    assert count(store, "SELECT (COUNT(?i) AS ?n) WHERE { ?i a <http://metadata.cbd.int/kmgbf/ontology#Indicator> }") == 204
    roles = {r["p"].value.rsplit("#", 1)[1]: int(r["n"].value) for r in store.select(
        "PREFIX k: <http://metadata.cbd.int/kmgbf/ontology#> SELECT ?p (COUNT(*) AS ?n) WHERE { "
        "VALUES ?p { k:isHeadlineFor k:isBinaryFor k:isComponentFor k:isComplementaryFor } ?i ?p ?t } GROUP BY ?p")}
    assert roles == {"isHeadlineFor": 37, "isBinaryFor": 16, "isComponentFor": 59, "isComplementaryFor": 162}
    # from a hub target to the headline indicators that monitor it
    headline = store.select("SELECT ?t ?label WHERE { ?t <http://www.w3.org/2004/02/skos/core#exactMatch> ?k . "
                            "?i <http://metadata.cbd.int/kmgbf/ontology#isHeadlineFor> ?k ; "
                            "<http://www.w3.org/2004/02/skos/core#prefLabel> ?label FILTER(LANG(?label) = 'fr') }",
                            {"t": ox.NamedNode(BASE + "scheme/gbf-targets/target-3")})
    assert headline and all(r["label"].language == "fr" for r in headline)


@pytest.mark.slow  # pyshacl runs the shapes' SPARQL constraints in rdflib: about 10 s a validation
def test_the_kmgbf_shapes_run_as_real_shapes_on_what_the_hub_holds(store):
    from pyshacl import validate
    from rdflib import Graph

    shapes = Graph().parse(DATA / "kmgbf-ontology" / "ontology" / "validation" / "kmgbf-shapes.ttl")
    held = Graph().parse(data=store.dump(graph("kmgbf"), ox.RdfFormat.N_TRIPLES).decode(), format="nt")
    conforms, _, text = validate(held, shacl_graph=shapes, inference="none")
    assert conforms, text
    # and they are not a check that cannot fail: an indicator without its code, a target without its text
    # (checked on those two nodes' own triples, which is all the shapes read of them)
    broken = Graph()
    for t in held:
        if str(t[0]) in (KM + "indicator_A.1", KM + "target_3") and \
           str(t[1]) not in (KMO + "indicatorCode", SKOS + "definition"):
            broken.add(t)
    conforms, report, _ = validate(broken, shacl_graph=shapes, inference="none")
    focus = {str(o) for o in report.objects(None, __import__("rdflib").SH.focusNode)}
    assert not conforms and {KM + "indicator_A.1", KM + "target_3"} <= focus


def test_ebsa_records_keep_each_copied_text_once_in_its_own_language(store):
    assert count(store, "SELECT (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r <https://w3id.org/chmkg/ns#recordSchema> \"marineEbsa\" }") == 168
    r = BASE + "record/ebsa-200060"  # Mesoamerican Barrier Reef: six slots, one English text
    titles = store.select("SELECT ?s ?t WHERE { ?s <http://purl.org/dc/terms/title> ?t }", {"s": ox.NamedNode(r)})
    assert [(t["t"].value, t["t"].language) for t in titles] == [("Mesoamerican Barrier Reef", "en")]
    assert values(store, r, "http://www.w3.org/2000/01/rdf-schema#seeAlso") == ["https://chm.cbd.int/database/record?documentID=200060"]
    # no record carries the same text under several language tags
    assert count(store, "SELECT (COUNT(*) AS ?n) WHERE { ?r <https://w3id.org/chmkg/ns#recordSchema> \"marineEbsa\" ; "
                        "<http://purl.org/dc/terms/description> ?a , ?b FILTER(STR(?a) = STR(?b) && LANG(?a) != LANG(?b)) }") == 0


def test_reporting_forms_have_sections_questions_options_in_six_languages_and_cycle_mappings(store):
    form = BASE + "form/cpbnationalreport4"
    section = form + "/section/article2"
    assert section in values(store, form, CHM + "hasSection")
    assert values(store, section, "http://purl.org/dc/terms/references") == [BASE + "instrument/cartagena/article/2"]
    q = form + "/question/q014"
    assert q in values(store, section, CHM + "hasQuestion")
    assert values(store, q, CHM + "answerType") == ["option"] and values(store, q, SKOS + "notation") == ["14"]
    langs = {r["l"].language for r in store.select("SELECT ?s ?l WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> ?l }",
                                                   {"s": ox.NamedNode(q)})}
    assert langs == {"en", "fr", "es", "ar", "ru", "zh"}
    option = q + "/option/implementation-fullinplace"
    assert values(store, option, CHM + "optionValue") == ["implementation.fullInPlace"]
    # the Secretariat's mapping from the 4th to the 3rd report, for the question and its answer values
    assert BASE + "form/cpbnationalreport3/question/q014" in values(store, q, SKOS + "closeMatch")
    assert BASE + "form/cpbnationalreport3/question/q014/option/implementation-fullframwork" in values(store, option, SKOS + "closeMatch")
    # an option whose value did not change maps to the same value one cycle back
    assert BASE + "form/cpbnationalreport3/question/q014/option/implementation-none" in \
        values(store, q + "/option/implementation-none", SKOS + "closeMatch")
    # binary-indicator questions: upstream's GBF-TARGET-012 is target 12, with the official binary indicator 12.b
    sections = values(store, BASE + "form/kmgbf-binary-indicators", CHM + "hasSection")
    target12 = [s for s in sections if BASE + "scheme/gbf-targets/target-12" in values(store, s, "http://purl.org/dc/terms/subject")]
    assert target12, sections
    assert KM + "indicator_12.b" in values(store, target12[0], "http://purl.org/dc/terms/references")
    assert store.ask("ASK { <http://metadata.cbd.int/kmgbf/indicator_12.b> a <http://metadata.cbd.int/kmgbf/ontology#Indicator> }")


def test_a_target_page_tells_the_frameworks_apart_and_lists_kmgbf_indicators_by_role(store):
    from hub.web.views import resource as views

    view = views.describe(store, BASE + "scheme/gbf-targets/target-21", "en", META)
    assert view.kind == "target"
    views.target_panels(store, view, "en")
    assert view.extra["framework"] == "kmgbf"
    roles = dict(view.extra["indicators"])
    assert {"headline", "complementary"} <= set(roles)
    assert all(iri.startswith(KM) for items in roles.values() for _label, iri in items)
    assert all(label and not label.startswith("http") for items in roles.values() for label, _iri in items)  # labels, not IRIs
    aichi = views.describe(store, BASE + "scheme/aichi-targets/target-19", "fr", META)
    assert aichi.kind == "target"
    views.target_panels(store, aichi, "fr")
    assert aichi.extra["framework"] == "aichi" and aichi.extra["indicators"] == []


def test_a_country_page_shows_its_party_status_per_instrument_with_dates(store):
    from hub.web.views import resource as views

    view = views.describe(store, BASE + "country/pk", "en", META)
    assert view.kind == "country"
    views.country_panels(store, view, "en")
    rows = {r["status"]: r for r in view.extra["memberships"]}
    nagoya = rows["Party to the Nagoya Protocol"]
    assert nagoya["consented"] == "2015-11-23" and nagoya["inForceFrom"] == "2016-02-21"
    assert len(rows) == 3 and all(not status.startswith("Pakistan") for status in rows)


def test_the_dashboard_maps_party_status_per_country_with_a_link_and_a_label_for_each(store, tmp_path):
    import re

    from hub.settings import Settings
    from hub.tracking import build_index
    from hub.web import i18n
    from hub.web.views import dashboard as dash
    from hub.web.views.charts import STATUS_COLOURS
    from hub.web.views.resource import _labels

    index = build_index(store, Settings(base=BASE, store_path=str(tmp_path / "unused")))
    d = dash.collect(store, BASE, index, "en", lambda iris, lang: _labels(store, iris, lang))
    by_code = {c["code"]: c for c in d.countries}
    # the classes agree with the counts SOURCES.md gives: CBD 196 Parties, Cartagena 171, Nagoya 113
    assert sum(1 for c in d.countries if c["party"].startswith("cbd")) == 196
    assert sum(1 for c in d.countries if "cp" in c["instruments"]) == 171
    assert sum(1 for c in d.countries if "np" in c["instruments"]) == 113
    assert by_code["US"]["party"] == "signatory" and by_code["BR"]["numeric"] == "076"
    charts = dash.draw(d, i18n.UI["en"], STATUS_COLOURS, lambda iri: "/" + iri.removeprefix(BASE), "en")
    svg = charts["party_map"]
    links = dict(re.findall(r'<a xlink:href="([^"]+)"><path aria-label="([^"]+)"', svg))
    assert len(links) >= 150  # every mapped country that has a status
    assert links["/country/co"].startswith("Colombia: Party to the CBD")
    assert links["/country/us"].endswith(": Signatory only")
    assert "vega.github.io" not in svg and "<script" not in svg
    fr = dash.draw(d, i18n.UI["fr"], STATUS_COLOURS, lambda iri: "/" + iri.removeprefix(BASE), "fr")["party_map"]
    assert "Partie à la CDB" in fr
