"""The Skosmos-compatible REST API, checked with the `skosmos-client` package against a live hub."""

from __future__ import annotations

import httpx
import pytest
from skosmos_client import SkosmosClient

from conftest import SHARED, start_live_hub
from writes.ingest import ingest

REDD = "http://www.informea.org/terms/redd"


@pytest.fixture(scope="module")
def vocab_hub(tmp_path_factory):
    if not (SHARED / "data" / "informea-thesaurus").is_dir():
        pytest.skip("../shared/data is absent: the vocabularies are read from it")
    from thesaurus.importers import read_vocabulary

    live, stop = start_live_hub(tmp_path_factory.mktemp("skosmos"), "embedded", load_bundled=False)
    for name in ("informea", "ecolex"):
        source, _ = read_vocabulary(name, SHARED / "data")
        ingest(live.hub.store, source, live.settings.graph(source.name), live.settings.meta_graph)
    live.hub.generation += 1  # loaded behind the app's back: let derived indexes rebuild
    yield live
    stop()


@pytest.fixture
def client(vocab_hub):
    return SkosmosClient(api_base=vocab_hub.url + "/rest/v1/")


def test_vocabularies_and_vocabulary_info(client):
    vocabs = {v["id"]: v for v in client.vocabularies("en")}
    assert set(vocabs) == {"informea", "ecolex"} and vocabs["informea"]["title"] == "InforMEA (MEA) thesaurus"
    info = client.get_vocabulary("ecolex")
    assert set(info["languages"]) == {"en", "es", "fr"}
    with pytest.raises(ValueError):
        client.get_vocabulary("agrovoc")


def test_search_with_wildcards_languages_and_alt_labels(client):
    hits = client.search("protected area*", lang="en", vocabs="informea")
    assert any(h["prefLabel"] == "protected area" for h in hits)
    fr = client.search("accès et partage*", lang="fr")
    assert fr and all(h["vocab"] == "ecolex" and h["lang"] == "fr" for h in fr)
    alt = client.search("acclimatisation", vocabs="informea")  # a synonym of 'adaptation'
    assert alt[0]["uri"] == "http://www.informea.org/terms/adaptation" and alt[0]["prefLabel"] == "adaptation"


def test_concept_data_label_hierarchy_and_children(client, vocab_hub):
    # skosmos-client's data() asks for RDF/XML and then parses without a format, which rdflib 7
    # reads as Turtle; the same request, parsed as what it asked for:
    import rdflib

    r = httpx.get(vocab_hub.url + "/rest/v1/informea/data", params={"uri": "http://www.informea.org/terms/adaptation", "format": "application/rdf+xml"})
    assert r.headers["content-type"].startswith("application/rdf+xml")
    g = rdflib.Graph().parse(data=r.text, format="xml")
    assert (rdflib.URIRef("http://www.informea.org/terms/adaptation"), rdflib.namespace.SKOS.prefLabel, rdflib.Literal("adaptation", lang="en")) in g
    concept = client.get_concept("informea", "http://www.informea.org/terms/disease")
    assert concept.label("en") == "disease"
    broader = concept.broader("en")
    assert broader and broader[0]["uri"].startswith("http://www.informea.org/terms/")
    parent = broader[0]["uri"]
    kids = httpx.get(vocab_hub.url + "/rest/v1/informea/children", params={"uri": parent}).json()["narrower"]
    assert "http://www.informea.org/terms/disease" in {k["uri"] for k in kids}
    hierarchy = httpx.get(vocab_hub.url + "/rest/v1/informea/hierarchy", params={"uri": "http://www.informea.org/terms/disease"}).json()
    assert parent in hierarchy["broaderTransitive"]
    assert client.get_concept("informea", REDD).broaderTransitive("en")  # the REDD+ self-cycle terminates


def test_top_concepts_lookup_groups(client):
    top = client.top_concepts("informea", "en")
    assert top and all("hasChildren" in t for t in top)
    assert client.lookup("informea", "biodiversity", "en")[0]["uri"] == "http://www.informea.org/terms/biodiversity"
    with pytest.raises(ValueError):
        client.lookup("informea", "no such thing at all")
    groups = client.groups("informea", "en")
    assert {g["prefLabel"] for g in groups} >= {"Biological diversity", "Chemicals and Waste"}


def test_bad_requests_are_clear(vocab_hub):
    r = httpx.get(vocab_hub.url + "/rest/v1/informea/label", params={"uri": "not an iri"})
    assert r.status_code == 400 and "not an IRI" in r.json()["message"]
    r = httpx.get(vocab_hub.url + "/rest/v1/informea/label", params={"uri": "http://example.org/none"})
    assert r.status_code == 404


def test_thesaurus_browser_pages(vocab_hub):
    home = httpx.get(vocab_hub.url + "/thesaurus")
    assert home.status_code == 200 and 'href="/thesaurus/informea"' in home.text
    top = httpx.get(vocab_hub.url + "/thesaurus/informea")
    assert top.status_code == 200 and "Top concepts" in top.text
    letter = httpx.get(vocab_hub.url + "/thesaurus/informea", params={"letter": "b"})
    assert ">biodiversity</a>" in letter.text
    parent = "http://www.informea.org/terms/biodiversity"
    kids = httpx.get(vocab_hub.url + "/thesaurus/informea", params={"parent": parent})
    assert kids.status_code == 200 and kids.text.count("<li>") >= 1
    concept = httpx.get(vocab_hub.url + "/resource", params={"iri": "http://www.informea.org/terms/adaptation"})
    assert concept.status_code == 200 and "adaptation" in concept.text and "acclimatisation" in concept.text
    assert httpx.get(vocab_hub.url + "/thesaurus/agrovoc").status_code == 404
