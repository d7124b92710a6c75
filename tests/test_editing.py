"""The thesaurus editor workflow through the HTTP API: checked drafts, roles, publication with
version numbers, concurrent edits, history as PROV, revert, deprecation, export and the
spreadsheet round-trip."""

from __future__ import annotations

import re

import io

import pyoxigraph as ox
import pytest
from conftest import BASE, META, graph, snapshot
from fastapi.testclient import TestClient

from hub.web.app import create_app
from hub.settings import Settings
from writes.ingest import ParsedSource, checksum, ingest
from ontology import CHM, DCTERMS, OWL, SKOS

pytestmark = pytest.mark.slow  # real vocabularies imported per test

V = "http://example.org/voc/"
G = graph("thesaurus-test")
TTL = f"""
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
<{V}scheme> a skos:ConceptScheme ; skos:prefLabel "Test scheme"@en .
<{V}forest> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "forest"@en , "forêt"@fr ; skos:narrower <{V}rainforest> ;
    skos:definition "Land covered with trees."@en .
<{V}rainforest> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "rainforest"@en ; skos:broader <{V}forest> ;
    skos:altLabel "rain forest"@en .
<{V}wetland> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "wetland"@en .
<{V}marsh> a skos:Concept ; skos:inScheme <{V}scheme> ; skos:prefLabel "marsh"@en .
"""


@pytest.fixture
def client(tmp_path):
    settings = Settings(base=BASE, store_path=str(tmp_path / "store"), shared_data=str(tmp_path / "none"))
    app = create_app(settings)
    hub = app.state.hub
    nt = b"".join(str(t).encode() + b" .\n" for t in ox.parse(TTL.encode(), ox.RdfFormat.TURTLE))
    ingest(hub.store, ParsedSource("thesaurus-test", "test", "inline", checksum(nt), nt, "test vocabulary"), G, META)
    tokens = {role: hub.tokens.create(f"t-{role}", role) for role in ("reader", "editor", "publisher")}
    tokens["editor2"] = hub.tokens.create("t-editor2", "editor")
    with TestClient(app) as c:
        c.tokens, c.hub = tokens, hub
        yield c


def H(c, role):
    return {"Authorization": f"Bearer {c.tokens[role]}"}


def state(c, concept):
    return c.get("/api/thesaurus/concept", params={"iri": concept}).json()


def propose(c, role="editor", **change):
    return c.post("/api/thesaurus/changes", json=change, headers=H(c, role))


def act(c, action, change, role="publisher"):
    return c.post(f"/api/thesaurus/changes/{action}", json={"change": change}, headers=H(c, role))


def has(c, s, p, o) -> bool:
    o = f"<{o}>" if isinstance(o, str) and o.startswith("http") else o
    return c.hub.store.ask(f"ASK {{ GRAPH <{G}> {{ <{s}> <{p}> {o} }} }}", union=False)


def test_roles_are_enforced(client):
    assert propose(client, "reader", concept=V + "wetland", base_version=0, alt={"en": ["bog"]}).status_code == 403
    assert client.post("/api/thesaurus/changes", json={"concept": V + "wetland", "base_version": 0}).status_code == 401
    r = propose(client, concept=V + "wetland", base_version=0, alt={"en": ["bog"]})
    assert r.status_code == 201
    assert act(client, "publish", r.json()["change"], role="editor").status_code == 403  # an editor cannot publish
    assert not has(client, V + "wetland", SKOS.altLabel, '"bog"@en')


def test_draft_publish_versions_and_history(client):
    r = propose(client, concept=V + "wetland", base_version=0, alt={"en": ["bog", "swamp"]}, definition={"en": "Land saturated with water."},
                scope_note={"en": "Use for inland and coastal wetlands."},
                note="synonyms from the glossary")
    change = r.json()["change"]
    assert not has(client, V + "wetland", SKOS.altLabel, '"bog"@en')  # a draft changes nothing yet
    assert [c["iri"] for c in client.get("/api/thesaurus/changes", params={"status": "draft"}).json()] == [change]
    assert act(client, "publish", change).status_code == 200
    assert has(client, V + "wetland", SKOS.altLabel, '"bog"@en') and has(client, V + "wetland", SKOS.definition, '"Land saturated with water."@en')
    assert has(client, V + "wetland", SKOS.scopeNote, '"Use for inland and coastal wetlands."@en')
    assert state(client, V + "wetland")["version"] == 1
    second = propose(client, concept=V + "wetland", base_version=1, broader=[V + "forest"]).json()["change"]
    assert act(client, "publish", second).status_code == 200
    assert has(client, V + "forest", SKOS.narrower, V + "wetland")  # the inverse link follows
    history = client.get("/api/thesaurus/history", params={"concept": V + "wetland", "format": "json"}).json()
    assert [(h["version"], h["author"], h["published_by"]) for h in history] == [(1, "t-editor", "t-publisher"), (2, "t-editor", "t-publisher")]
    assert any('"bog"@en' in line for line in history[0]["added"])
    prov = client.get("/api/thesaurus/history", params={"concept": V + "wetland"})
    g = {(str(t.subject), str(t.predicate), str(t.object)) for t in ox.parse(prov.content, ox.RdfFormat.TURTLE)}
    assert any(p == f"<{CHM.schemeVersion}>" for _, p, _ in g) and any(p == "<http://www.w3.org/ns/prov#endedAtTime>" for _, p, _ in g)
    page = client.get("/thesaurus-history", params={"concept": V + "wetland"})
    assert page.status_code == 200 and "version 2" in page.text
    assert re.search(r"<h1>History of <a [^>]*>wetland</a></h1>", page.text)  # the concept by its label, not its IRI
    # the change as rows: the property by name, the value as text with its language (N-Triples folded away)
    assert re.search(r'<tr class="added"><td aria-label="added">\+</td><td>alternative label</td>\s*<td><span lang="en">bog</span>', page.text)
    assert "<summary>N-Triples</summary>" in page.text
    assert re.search(r'<td>broader</td>\s*<td><a href="[^"]*">forest</a>', page.text)  # a linked value by its label
    changes = client.get("/thesaurus-changes", params={"status": "published"}, headers=H(client, "editor"))
    assert re.search(r'<h2><a href="[^"]*">wetland</a>', changes.text), changes.text[:300]


@pytest.mark.parametrize("change,words", [
    ({"concept": V + "forest", "broader": [V + "rainforest"]}, "Cycles in the broader hierarchy"),
    ({"concept": V + "wetland", "pref": {"en": "<script>alert(1)</script>"}}, "markup"),
    ({"concept": V + "wetland", "alt": {"en": ["wetland"]}}, "both pref and alt"),
    ({"concept": V + "marsh", "pref": {"en": "Wetland"}}, "is the prefLabel of http://example.org/voc/wetland too"),
    ({"concept": V + "wetland", "related": [V + "nowhere"]}, "not in the vocabulary"),
    ({"concept": V + "wetland", "deprecated": True}, "isReplacedBy"),
    ({"concept": V + "wetland", "pref": {"e n": "x"}}, "not a language tag"),
    ({"concept": V + "wetland", "broader": ["not an iri"]}, "not an http(s) IRI"),
])
def test_changes_that_break_a_rule_are_refused_with_the_reason(client, change, words):
    before = snapshot(client.hub.store)
    r = propose(client, base_version=0, **change)
    assert r.status_code == 422, r.text
    assert words in r.json()["detail"]
    assert snapshot(client.hub.store) == before  # not even a draft


def test_two_editors_cannot_silently_overwrite_each_other(client):
    a = propose(client, "editor", concept=V + "marsh", base_version=0, alt={"en": ["fen"]}).json()["change"]
    b = propose(client, "editor2", concept=V + "marsh", base_version=0, alt={"en": ["mire"]}).json()["change"]
    assert act(client, "publish", a).status_code == 200
    stale = act(client, "publish", b)
    assert stale.status_code == 409 and "version 1" in stale.json()["detail"]
    assert has(client, V + "marsh", SKOS.altLabel, '"fen"@en') and not has(client, V + "marsh", SKOS.altLabel, '"mire"@en')
    late = propose(client, "editor2", concept=V + "marsh", base_version=0, alt={"en": ["mire"]})
    assert late.status_code == 409
    assert act(client, "reject", b).status_code == 200
    assert client.get("/api/thesaurus/changes", params={"status": "rejected"}).json()[0]["iri"] == b


def test_revert_restores_the_previous_state(client):
    c1 = propose(client, concept=V + "rainforest", base_version=0, alt={"en": ["tropical forest"]}).json()["change"]
    act(client, "publish", c1)
    assert not has(client, V + "rainforest", SKOS.altLabel, '"rain forest"@en')
    revert = act(client, "revert", c1, role="editor")
    assert revert.status_code == 200
    draft = revert.json()["change"]
    assert act(client, "publish", draft).status_code == 200
    assert has(client, V + "rainforest", SKOS.altLabel, '"rain forest"@en') and not has(client, V + "rainforest", SKOS.altLabel, '"tropical forest"@en')
    history = client.get("/api/thesaurus/history", params={"concept": V + "rainforest", "format": "json"}).json()
    assert history[-1]["reverts"] == c1 and history[-1]["version"] == 2


def test_deprecate_instead_of_delete(client):
    r = propose(client, concept=V + "marsh", base_version=0, deprecated=True, replaced_by=V + "wetland")
    act(client, "publish", r.json()["change"])
    assert has(client, V + "marsh", OWL.deprecated, '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>')
    assert has(client, V + "marsh", DCTERMS.isReplacedBy, V + "wetland")
    assert has(client, V + "marsh", SKOS.prefLabel, '"marsh"@en')  # still there: links never dangle


def test_create_a_concept(client):
    r = propose(client, concept=V + "peatland", base_version=0, scheme=V + "scheme", pref={"en": "peatland"}, broader=[V + "wetland"])
    assert r.status_code == 201, r.text
    act(client, "publish", r.json()["change"])
    assert has(client, V + "peatland", SKOS.inScheme, V + "scheme") and has(client, V + "wetland", SKOS.narrower, V + "peatland")


def test_export_skos_and_spreadsheets(client):
    ttl = client.get("/thesaurus-export/thesaurus-test.ttl")
    assert ttl.status_code == 200 and len(list(ox.parse(ttl.content, ox.RdfFormat.TURTLE))) == len(list(ox.parse(TTL.encode(), ox.RdfFormat.TURTLE)))
    rdf = client.get("/thesaurus-export/thesaurus-test.rdf")
    assert len(list(ox.parse(rdf.content, ox.RdfFormat.RDF_XML))) > 10
    csv_text = client.get("/thesaurus-export/thesaurus-test.csv").text
    assert csv_text.splitlines()[0].startswith("concept,prefLabel@en,prefLabel@fr")
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get("/thesaurus-export/thesaurus-test.xlsx").content))
    assert wb.active.max_row == 5  # header + 4 concepts
    assert client.get("/thesaurus-export/bundled.csv").status_code == 404


def _import(c, data: bytes, name: str, apply: bool):
    return c.post("/api/thesaurus/import", params={"graph": "thesaurus-test", "apply": str(apply).lower()},
                  files={"file": (name, data)}, headers=H(c, "editor"))


def test_spreadsheet_round_trip_reports_before_applying(client):
    csv_text = client.get("/thesaurus-export/thesaurus-test.csv").text
    edited = csv_text.replace(",marsh,", ",marshland,", 1)
    before = snapshot(client.hub.store)
    dry = _import(client, edited.encode(), "test.csv", apply=False)
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["changed"] == 1 and report["unchanged"] == 3 and not report["applied"]
    assert snapshot(client.hub.store) == before
    done = _import(client, edited.encode(), "test.csv", apply=True).json()
    assert done["applied"] and len(done["drafts"]) == 1
    act(client, "publish", done["drafts"][0])
    assert has(client, V + "marsh", SKOS.prefLabel, '"marshland"@en')
    # the XLSX export imports back unchanged
    xlsx = client.get("/thesaurus-export/thesaurus-test.xlsx").content
    assert _import(client, xlsx, "test.xlsx", apply=False).json()["changed"] == 0


@pytest.mark.parametrize("mutate,status,words", [
    (lambda t: t.replace("concept,", "concept,colour,", 1), 422, "unknown column 'colour'"),
    (lambda t: t.replace(V + "wetland,wetland", "not-an-iri,wetland", 1), 422, "not an http(s) IRI"),
    (lambda t: t.replace("wetland,,", "<b>wetland</b>,,", 1), 422, "markup"),
    (lambda t: t + ",".join(["x"] * 20) + "\n", 422, "cells for"),
])
def test_broken_spreadsheets_are_refused_and_nothing_changes(client, mutate, status, words):
    csv_text = client.get("/thesaurus-export/thesaurus-test.csv").text
    before = snapshot(client.hub.store)
    r = _import(client, mutate(csv_text).encode(), "broken.csv", apply=True)
    assert r.status_code == status, r.text
    assert words in r.text
    assert snapshot(client.hub.store) == before


def test_quality_report_page_and_json_follow_each_change(client):
    first = client.get("/api/thesaurus/quality", params={"graph": "thesaurus-test"}).json()[0]
    counts = {r["id"]: r["count"] for r in first["results"]}
    assert counts["no-definition"] == 3 and counts["orphan-concepts"] == 2
    r = propose(client, concept=V + "marsh", base_version=0, definition={"en": "A wetland with grasses."}, broader=[V + "wetland"])
    act(client, "publish", r.json()["change"])
    after = {r["id"]: r["count"] for r in client.get("/api/thesaurus/quality", params={"graph": "thesaurus-test"}).json()[0]["results"]}
    assert after["no-definition"] == 2 and after["orphan-concepts"] == 0
    page = client.get("/thesaurus-quality")
    assert page.status_code == 200 and "Concepts without a definition" in page.text
    assert '<h2 id="q-1">test <span' in page.text  # the vocabulary by its name, not its graph IRI
    assert re.search(r'<a href="[^"]*">(wetland|forest|marsh|rainforest)</a> — ', page.text)  # examples by label


@pytest.mark.parametrize("vocabulary", ["informea", "ecolex"])
def test_a_vocabulary_exported_to_xlsx_and_imported_back_changes_nothing(shared_data, tmp_path, vocabulary):
    """Whitespace the source has, several prefLabels, a self-link, a '|' inside a label: all as stored."""
    from sparql.store import EmbeddedStore
    from thesaurus import editing as ed
    from thesaurus import spreadsheet as sh
    from thesaurus.importers import read_vocabulary
    from writes.ingest import ingest

    store = EmbeddedStore(tmp_path / "store")
    try:
        source, _ = read_vocabulary(vocabulary, shared_data)
        g = graph(source.name)
        ingest(store, source, g, META)
        columns, rows = sh.export_table(store, g)
        header, back = sh.read_sheet(sh.to_xlsx(columns, rows), "v.xlsx")
        history, prefix = graph(ed.HISTORY), graph("thesaurus-")
        report = sh.import_report(store, header, back, history, prefix, None)
        assert (len(report.changes), len(report.errors), report.unchanged) == (0, 0, len(rows)), report.to_dict()["errors"][:3]
        # a real edit in the sheet is still one change
        pref = next(c for c in header if c == "prefLabel@en")
        back[0][pref] = back[0][pref] + " (edited)"
        edited = sh.import_report(store, header, back, history, prefix, None)
        assert len(edited.changes) == 1 and edited.changes[0]["concept"] == back[0]["concept"]
    finally:
        store.close()
