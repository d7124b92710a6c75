"""Tagging submitted documents: reading each format, the reference extractor, the tagger, the
submission into the graph, the review queue, the CLI and the evaluations."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import BASE, META, SHARED, graph, snapshot
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.web.app import create_app
from hub.cli import app as cli
from hub.settings import Settings
from loaders.bundled import read_bundled
from loaders.cbd_reference import read_convention, read_targets
from writes.ingest import ingest
from writes.update import apply_update
from ontology import CHM, DCTERMS
from ontology.errors import ShapeViolation
from ontology.iris import Minter
from sparql.store import EmbeddedStore
from tagging import documents as D
from tagging.evaluation import evaluate_references, evaluate_tagging, read_annotated, read_gold
from tagging.references import Resolver, extract_references
from tagging.submission import (
    Analysis,
    known_iris,
    load_vocabulary,
    submission_update,
    tagging_graphs,
)
from tagging.tagger import LabelEntry, Suggestion, Tagger, Vocabulary, build_pipeline

from hostile import INJECTED, hostile_iris

FIXTURES = Path(__file__).parent / "fixtures"
M = Minter(BASE)
needs_shared = pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="../shared/data not found: these tests read the real vocabularies and seeds")


# -- documents ----------------------------------------------------------------------------------

def _pdf(text: str, encrypt: bool = False) -> bytes:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=11)
    pdf.set_title("Protected areas report")
    pdf.multi_cell(0, 6, text)
    data = bytes(pdf.output())
    if encrypt:
        from pypdf import PdfReader, PdfWriter

        w = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
        w.encrypt("secret")
        buf = io.BytesIO()
        w.write(buf)
        data = buf.getvalue()
    return data


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    d = docx.Document()
    d.add_heading("Marine protected areas", level=1)
    for p in paragraphs:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


TEXT = "Parties shall establish protected areas, as requested in paragraph 9 (f) of decision 15/16 and Article 8(j)."


@pytest.mark.parametrize("name,data,fmt", [
    ("note.txt", TEXT.encode(), "text/plain"),
    ("note.md", ("# Protected areas\n\n" + TEXT + "\n\n* a *list* item").encode(), "text/markdown"),
    ("note.html", ("<html><head><title>Protected areas</title><script>var x = 'decision 1/1';</script></head><body><h1>PA</h1><p>"
                   + TEXT + "</p></body></html>").encode(), "text/html"),
    ("note.pdf", None, "application/pdf"),
    ("note.docx", None, D.DOCX),
])
def test_each_format_is_read_with_title_language_and_text(name, data, fmt):
    if data is None:
        data = _pdf(TEXT) if name.endswith(".pdf") else _docx([TEXT])
    doc = D.extract(data, name)
    assert doc.format == fmt
    assert doc.language == "en" and doc.language_detected
    assert "decision 15/16" in " ".join(doc.text.split())
    assert "var x" not in doc.text  # scripts are not text
    if fmt != "text/plain":
        assert "rotected" in doc.title or doc.title in ("PA", "Marine protected areas")


@pytest.mark.parametrize("text,lang", [
    ("Les Parties établissent des aires protégées et favorisent la coopération technique et scientifique.", "fr"),
    ("Las Partes establecerán áreas protegidas y promoverán la cooperación técnica y científica.", "es"),
])
def test_french_and_spanish_are_detected(text, lang):
    assert D.extract(text.encode(), "doc.txt").language == lang


@pytest.mark.parametrize("name,data,code,words", [
    ("empty.txt", b"   \n", "E602", "empty"),
    ("binary.txt", b"\x00\x01\x02\x03binary\x00" * 20, "E601", "binary"),
    ("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage", "E601", "PDF cannot be read"),
    ("fake.pdf", b"just some text pretending", "E601", "not"),
    ("renamed.docx", None, "E601", "word/document.xml"),
    ("big.txt", b"a" * 2_000, "E603", "over the limit"),
    ("deutsch.txt", "Die Vertragsparteien schützen die biologische Vielfalt in ihren Schutzgebieten und Wäldern.".encode(), "E605", "'de'"),
    ("image.png", b"\x89PNG\r\n\x1a\n....", "E604", "not supported"),
])
def test_bad_documents_are_refused_by_name(name, data, code, words):
    if name == "renamed.docx":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("data/readme.txt", "a zip of something else")
        data = buf.getvalue()
    with pytest.raises(D.DocumentError) as e:
        D.extract(data, name, max_bytes=1_000)
    assert e.value.code == code
    assert words in e.value.message


def test_encrypted_pdf_is_refused():
    pytest.importorskip("fpdf")
    with pytest.raises(D.DocumentError, match="encrypted"):
        D.extract(_pdf(TEXT, encrypt=True), "secret.pdf")


def test_client_file_names_cannot_traverse():
    assert D.safe_filename("../../etc/passwd") == "passwd"
    assert D.safe_filename("..\\..\\boot.ini") == "boot.ini"
    assert D.safe_filename("\x00\x1b.hidden") == "hidden"


# -- references -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text,keys", [(item["text"], item["references"]) for item in read_annotated(FIXTURES / "references" / "annotated.json")])
def test_each_reference_form(text, keys):
    assert [r.key for r in extract_references(text)] == keys


def test_reference_evaluation_counts_misses_and_extras():
    items = [{"text": "decision X/15 and Article 18.3", "references": ["X/15", "Article 18.3", "XI/2"]},
             {"text": "decision XI/24", "references": []}]
    sc = evaluate_references(items)
    assert (sc.expected, sc.found, sc.correct) == (3, 3, 2)
    assert sc.precision == pytest.approx(2 / 3, abs=1e-3) and sc.recall == pytest.approx(2 / 3, abs=1e-3)
    assert sc.misses[0]["missing"] == ["XI/2"] and sc.misses[1]["extra"] == ["XI/24"]


@pytest.fixture(scope="module")
def kg(tmp_path_factory):
    """A store with the bundled data, the reference texts and the InforMEA + ECOLEX vocabularies."""
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data not found: tagging against the real vocabularies needs it")
    from thesaurus.importers import read_vocabulary

    data = SHARED / "data"
    s = EmbeddedStore(tmp_path_factory.mktemp("kg") / "store")
    for src in (read_bundled(BASE), read_targets(data / "cbd-reference" / "targets", BASE),
                read_convention(data / "cbd-reference" / "convention-texts", BASE),
                read_vocabulary("informea", data)[0], read_vocabulary("ecolex", data)[0]):
        ingest(s, src, graph(src.name), META)
    yield s
    s.close()


@pytest.fixture(scope="module")
def tagging(kg):
    return Tagger(load_vocabulary(kg, tagging_graphs(kg, M))), Resolver(M, known_iris(kg))


@needs_shared
@pytest.mark.parametrize("seed", ["000_68c10ef8b266d689.txt", "002_d740640f765c40bb.txt"])
def test_every_decision_symbol_in_the_seeds_is_found_and_resolved(seed, tagging):
    text = (SHARED / "seeds" / seed).read_text(encoding="utf-8")
    # every decision symbol the text writes (Roman or Arabic, after "decision(s)" or in a list)
    written = set()
    for m in re.finditer(r"[Dd]ecisions?((?:\s*(?:,|and)?\s*(?:[IVX]+|\d{1,2})/\d{1,3})+)", text):
        written |= set(re.findall(r"(?:[IVX]+|\d{1,2})/\d{1,3}", m.group(1)))
    assert len(written) >= 5
    resolver = tagging[1]
    refs = resolver.resolve(extract_references(text))
    found = {str(r.parts["symbol"]) for r in refs if r.kind == "decision"}
    assert written <= found, f"missed {written - found}"
    for r in refs:
        if r.kind != "decision":
            continue
        in_hub = M.decision(str(r.parts["symbol"])) in resolver.known
        # resolved exactly when the hub has the decision; otherwise kept, and listed as unresolved
        assert (r.status == "resolved") == in_hub, r
        if in_hub:
            assert r.iri and r.iri.startswith(M.decision(str(r.parts["symbol"])))
        else:
            assert r.iri is None and "not in the hub" in r.note
    assert sum(r.status == "resolved" for r in refs if r.kind == "decision") >= 5
    if seed.startswith("002"):
        assert [r.iri for r in refs if r.key == "15/16 para 9 (f)"] == [M.decision_paragraph("15/16", "9 (f)")]


@needs_shared
def test_paragraph_level_resolution_and_article_fallback(tagging):
    refs = tagging[1].resolve(extract_references("paragraph 1 of decision I/3, Article 18.3, Article 8(j), Article 20.9, "
                                                 "Aichi Biodiversity Target 19, COP 10"))
    by_key = {r.key: r for r in refs}
    assert by_key["I/3 para 1"].iri == M.decision_paragraph("I/3", "1")
    assert by_key["Article 18.3"].iri == M.article(18, 3)
    assert by_key["Article 8(j)"].iri == M.article(8, "j")  # the Convention's lettered items are its paragraphs
    assert by_key["Article 20.9"].iri == M.article(20) and "not in the hub" in by_key["Article 20.9"].note
    assert by_key["Aichi Biodiversity Target 19"].iri == M.concept("aichi-targets", "target-19")
    assert by_key["COP-10"].iri == M.meeting("cop", 10)


# -- the tagger -----------------------------------------------------------------------------------

def _toy() -> Tagger:
    entries = [LabelEntry("urn:pa", "protected area"), LabelEntry("urn:mpa", "marine protected area"),
               LabelEntry("urn:cb", "capacity building"), LabelEntry("urn:pa", "reserve", "alt"),
               LabelEntry("urn:ap", "aire protégée"), LabelEntry("urn:bq", "bosque")]
    labels = {"en": entries[:4], "fr": [entries[4]], "es": [entries[5]]}
    return Tagger(Vocabulary(labels, {("urn:pa", "en"): "protected area", ("urn:mpa", "en"): "marine protected area"},
                             {"urn:mpa": {"urn:pa"}}))


@pytest.mark.slow
def test_case_folded_lemmas_match_and_the_longest_label_wins():
    sugg = {s.concept: s for s in _toy().suggest("Marine Protected Areas. Other Protected Areas and capacity-building.", "en")}
    assert set(sugg) == {"urn:pa", "urn:mpa", "urn:cb"}
    assert sugg["urn:mpa"].matched == ["Marine Protected Areas"] and sugg["urn:pa"].count == 1  # not inside the longer match
    assert sugg["urn:cb"].matched == ["capacity-building"]


@pytest.mark.slow
def test_french_and_spanish_lemmas():
    t = _toy()
    assert [s.concept for s in t.suggest("Les aires protégées du pays.", "fr")] == ["urn:ap"]
    assert [s.concept for s in t.suggest("Los bosques del país.", "es")] == ["urn:bq"]


@pytest.mark.slow
def test_ranking_weighs_frequency_position_title_and_hierarchy():
    t = _toy()
    text = "A reserve. " + "filler words here. " * 50 + "protected area, protected area, marine protected area."
    s = {x.concept: x for x in t.suggest(text, "en")}
    assert s["urn:pa"].count == 3
    assert s["urn:pa"].score > s["urn:mpa"].score  # more frequent, earlier, and supported by its narrower concept
    titled = {x.concept: x for x in t.suggest(text, "en", title="Marine protected area")}
    assert titled["urn:mpa"].score > s["urn:mpa"].score  # the title counts


def test_the_component_is_a_reusable_versioned_spacy_factory():
    import spacy

    nlp = build_pipeline("en", [LabelEntry("urn:pa", "protected area")])
    data = nlp.get_pipe("chmkg_concept_tagger").to_bytes()
    assert json.loads(data)["version"].startswith("1.")
    other = spacy.blank("en")
    other.add_pipe("chmkg_lookup_lemmas")
    other.add_pipe("chmkg_concept_tagger").from_bytes(data)
    assert [c for c, *_ in other("the Protected Areas")._.chmkg_concepts] == ["urn:pa"]
    with pytest.raises(ValueError, match="not compatible"):
        other.get_pipe("chmkg_concept_tagger").from_bytes(json.dumps({"version": "9.0", "entries": [], "lemmas": [], "weights": []}).encode())


@needs_shared
def test_tagger_over_the_mea_thesaurus_and_the_shipped_gold_set(kg):
    tagger = Tagger(load_vocabulary(kg, tagging_graphs(kg, M)))
    top = tagger.suggest("Marine protected areas and invasive species in island ecosystems", "en", limit=5)
    assert "http://www.informea.org/terms/marine-protected-area" in [s.concept for s in top]
    scores = evaluate_tagging(tagger, read_gold(FIXTURES / "tagging" / "gold.json"), k=3)
    assert scores.documents == 7 and scores.doc_recall >= 0.5 and scores.doc_precision >= 0.4


@needs_shared
def test_gold_split_of_human_tagged_decisions_is_read_and_scored(kg):
    gold = read_gold(SHARED / "data" / "gold-tagging" / "informea-leo" / "cbd_decisions_informea_tags.dev.json")
    assert len(gold) == 28 and sum(len(g.concepts) for g in gold) == 59  # 60 rows, one (decision, term) pair twice
    tagger = Tagger(load_vocabulary(kg, tagging_graphs(kg, M, ["informea"])))
    sc = evaluate_tagging(tagger, gold, k=3)
    assert 0.2 < sc.micro_f1 <= 1 and 0.2 < sc.doc_f1 <= 1 and len(sc.per_document) == 28


# -- into the graph -------------------------------------------------------------------------------

@needs_shared
def test_submission_is_validated_whole_and_a_failure_leaves_the_store_unchanged(kg, tagging):
    before = snapshot(kg)
    doc = D.Document("Text", "Title", "en", "text/plain", "x.txt", 4)
    bad = Analysis(doc, [Suggestion(BASE + "decision/cop/10/15", "not a concept", 0.9, 1, 0)], [], 1, 0.0, "feedfacefeedface")
    with pytest.raises(ShapeViolation, match="skos:Concept"):
        apply_update(kg, submission_update(bad, M, "tester").update, META, who="tester")
    assert snapshot(kg) == before
    assert not kg.graph_exists(graph("submission-feedfacefeedface")) and not kg.graph_exists(graph("suggestions-feedfacefeedface"))


@pytest.fixture
def client(tmp_path, kg):
    settings = Settings(base=BASE, store_path=str(tmp_path / "store"), shared_data=str(SHARED / "data"),
                        max_document_bytes=200_000)
    app = create_app(settings)
    hub = app.state.hub
    hub.store.update("DROP SILENT ALL")
    import pyoxigraph as ox
    data = kg.dump(None, ox.RdfFormat.N_QUADS)
    hub.store.raw.bulk_load(data, ox.RdfFormat.N_QUADS)
    tokens = {role: hub.tokens.create(f"t-{role}", role) for role in ("reader", "editor")}
    with TestClient(app) as c:
        c.tokens = tokens
        c.hub = hub
        yield c


def _auth(c, role):
    return {"Authorization": f"Bearer {c.tokens[role]}"}


@needs_shared
def test_submit_through_the_api_then_review(client):
    seed = (SHARED / "seeds" / "002_d740640f765c40bb.txt").read_bytes()
    assert client.post("/api/documents", files={"file": ("wp.txt", seed, "text/plain")}).status_code == 401
    r = client.post("/api/documents", files={"file": ("wp.txt", seed, "text/plain")}, headers=_auth(client, "reader"))
    assert r.status_code == 201, r.text
    body = r.json()
    record = body["record"]
    assert r.headers["location"] == record and body["language"] == "en" and body["suggestions"]
    store = client.hub.store
    assert store.ask(f"ASK {{ <{record}> a <{CHM.Record}> ; <{DCTERMS.references}> <{M.decision_paragraph('15/16', '9 (f)')}> ; "
                     f"<{DCTERMS.contributor}> \"t-reader\" ; <{DCTERMS.format}> \"text/plain\" }}")
    assert store.ask(f"ASK {{ GRAPH <{graph('suggestions-' + body['id'])}> {{ ?s <{CHM.suggestedFor}> <{record}> ; <{CHM.score}> ?x . "
                     f"?a <{CHM.taggerVersion}> ?v }} }}")
    assert not store.ask(f"ASK {{ <{record}> <{DCTERMS.subject}> ?c }}")  # suggestions are not subjects until reviewed
    again = client.post("/api/documents", files={"file": ("wp.txt", seed, "text/plain")}, headers=_auth(client, "reader"))
    assert again.status_code == 409

    # review: readers cannot, editors can; accepting makes the subject; a second accept is stale
    assert client.get("/api/review", headers=_auth(client, "reader")).status_code == 403
    queue = client.get("/api/review", headers=_auth(client, "editor")).json()
    first, second = queue[0], queue[1]
    ok = client.post("/api/review", json={"action": "accept", "suggestion": first["suggestion"]}, headers=_auth(client, "editor"))
    assert ok.status_code == 200, ok.text
    assert store.ask(f"ASK {{ <{record}> <{DCTERMS.subject}> <{first['concept']}> }}")
    assert client.post("/api/review", json={"action": "accept", "suggestion": first["suggestion"]}, headers=_auth(client, "editor")).status_code == 409
    assert client.post("/api/review", json={"action": "reject", "suggestion": second["suggestion"]}, headers=_auth(client, "editor")).status_code == 200
    assert not store.ask(f"ASK {{ <{record}> <{DCTERMS.subject}> <{second['concept']}> }}")
    # adding a subject that is not a concept fails the shapes, nothing changes
    before = snapshot(store)
    bad = client.post("/api/review", json={"action": "add", "record": record, "concept": M.decision("X/15")}, headers=_auth(client, "editor"))
    assert bad.status_code == 422 and snapshot(store) == before
    # hostile values never reach the update text: each is refused as not an IRI and nothing changes
    for hostile in hostile_iris("http://www.informea.org/terms/capacity-building"):
        for body in ({"action": "add", "record": record, "concept": hostile}, {"action": "add", "record": hostile, "concept": first["concept"]},
                     {"action": "accept", "suggestion": hostile}, {"action": "reject", "suggestion": first["suggestion"] + hostile}):
            r = client.post("/api/review", json=body, headers=_auth(client, "editor"))
            assert r.status_code in (400, 404), (body, r.status_code, r.text)
            assert snapshot(store) == before, body
    assert not store.ask("ASK { ?s ?p ?o }", {"o": ox.NamedNode(INJECTED)})
    good = client.post("/api/review", json={"action": "add", "record": record, "concept": "http://www.informea.org/terms/capacity-building"},
                       headers=_auth(client, "editor"))
    assert good.status_code == 200
    audit = client.hub.settings.audit_path.read_text().splitlines()
    assert any("accept suggestion" in line and "t-editor" in line for line in audit)

    # the record's page lists its suggestions by concept label, score and review status, not as bare links
    page = client.get(record.removeprefix(BASE.rstrip("/")) + ".html").text
    table = page.split('id="suggested"', 1)[1].split("</section>", 1)[0]
    assert first["label"] in table and ">accepted</td>" in table and ">rejected</td>" in table and ">pending</td>" in table
    assert "/suggestion/" not in page.split('id="suggested"', 1)[1]  # no bare suggestion links below it either


@needs_shared
def test_several_suggestions_are_reviewed_in_one_call_all_or_nothing(client):
    ed = _auth(client, "editor")
    records = []
    for name, text in (("a.txt", "Marine protected areas\n\nMarine protected areas, invasive species and the budget."),
                       ("b.txt", "Forest biodiversity\n\nForest biodiversity, gender and capacity building.")):
        r = client.post("/api/documents", files={"file": (name, text.encode(), "text/plain")}, headers=_auth(client, "reader"))
        assert r.status_code == 201, r.text
        records.append(r.json()["record"])
    queue = client.get("/api/review", headers=ed).json()
    of = {rec: [q for q in queue if q["record"] == rec] for rec in records}
    assert all(len(v) >= 2 for v in of.values())
    store = client.hub.store
    # across records, one commit: two accepts of a and one reject of b
    a1, a2, b1 = of[records[0]][0], of[records[0]][1], of[records[1]][0]
    r = client.post("/api/review", json={"actions": [{"action": "accept", "suggestion": a1["suggestion"]},
                                                     {"action": "accept", "suggestion": a2["suggestion"]},
                                                     {"action": "reject", "suggestion": b1["suggestion"]}]}, headers=ed)
    assert r.status_code == 200 and r.json()["reviewed"] == 3, r.text
    for c in (a1["concept"], a2["concept"]):
        assert store.ask("ASK { ?r ?p ?c }", {"r": ox.NamedNode(records[0]), "p": ox.NamedNode(DCTERMS.subject), "c": ox.NamedNode(c)})
    # a stale item spoils the whole batch: nothing of it is written
    before = snapshot(store)
    b2 = of[records[1]][1]
    r = client.post("/api/review", json={"action": "accept", "suggestions": [b2["suggestion"], a1["suggestion"]]}, headers=ed)
    assert r.status_code == 409 and a1["suggestion"] in r.json()["detail"] and snapshot(store) == before
    r = client.post("/api/review", json={"action": "accept", "suggestions": [b2["suggestion"], b2["suggestion"]]}, headers=ed)
    assert r.status_code == 404 and "twice" in r.json()["detail"] and snapshot(store) == before
    r = client.post("/api/review", json={"action": "accept", "suggestions": ["http://x/s"] * 501}, headers=ed)
    assert r.status_code == 413 and snapshot(store) == before
    for hostile in hostile_iris(b2["suggestion"]):
        r = client.post("/api/review", json={"action": "accept", "suggestions": [b2["suggestion"], hostile]}, headers=ed)
        assert r.status_code in (400, 404) and snapshot(store) == before
        r = client.post("/api/review", json={"action": "reject", "record": hostile}, headers=ed)
        assert r.status_code in (200, 400, 404) and snapshot(store) == before, r.text
    # everything still pending for record b, at once
    r = client.post("/api/review", json={"action": "reject", "record": records[1]}, headers=ed)
    assert r.status_code == 200 and r.json()["reviewed"] == len(of[records[1]]) - 1
    assert not [q for q in client.get("/api/review", headers=ed).json() if q["record"] == records[1]]
    assert client.post("/api/review", json={"action": "reject", "record": records[1]}, headers=ed).status_code == 404


@needs_shared
def test_bad_submissions_store_nothing(client):
    store = client.hub.store
    before = snapshot(store)
    for name, data in [("empty.txt", b""), ("big.txt", b"word " * 50_000), ("fake.pdf", b"no pdf"),
                       ("de.txt", "Die Vertragsparteien schützen die biologische Vielfalt in ihren Schutzgebieten.".encode())]:
        r = client.post("/api/documents", files={"file": (name, data, "application/octet-stream")}, headers=_auth(client, "reader"))
        assert r.status_code in (413, 415, 422), (name, r.status_code)
        assert r.json()["detail"]
    assert snapshot(store) == before


@needs_shared
def test_tag_api_stores_nothing_and_dry_run(client):
    before = snapshot(client.hub.store)
    r = client.post("/api/tag", content="Décisions X/15 et XI/2 sur les aires protégées.".encode(), headers={"content-type": "text/plain"})
    assert r.status_code == 200 and r.json()["language"] == "fr"
    assert [x["key"] for x in r.json()["references"]] == ["X/15", "XI/2"]
    dry = client.post("/api/documents?dry_run=true", content=b"Decision X/15 on protected areas and forests.",
                      headers={**_auth(client, "reader"), "content-type": "text/plain"})
    assert dry.status_code == 200 and "record" not in dry.json()
    assert snapshot(client.hub.store) == before


# -- CLI ------------------------------------------------------------------------------------------

@needs_shared
def test_cli_tag_folder_json_csv_and_submit(tmp_path, kg):
    import pyoxigraph as ox

    store_path = tmp_path / "store"
    s = EmbeddedStore(store_path)
    s.raw.bulk_load(kg.dump(None, ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
    s.close()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Marine protected areas under decision X/31 and Article 8(j).", encoding="utf-8")
    (folder / "b.md").write_text("# Invasive species\n\nIsland ecosystems and decision XI/24.", encoding="utf-8")
    (folder / "c.txt").write_bytes(b"")
    runner = CliRunner()
    base = ["--store", str(store_path), "--base", BASE]
    r = runner.invoke(cli, [*base, "tag", str(folder), "--output", "json"])
    assert r.exit_code == 1  # c.txt is empty: reported, the others tagged
    payload = json.loads(r.stdout)
    assert [Path(d["file"]).name for d in payload["documents"]] == ["a.txt", "b.md"]
    assert "E602" in payload["failures"][0]["error"]
    r = runner.invoke(cli, [*base, "tag", str(folder / "a.txt"), "--output", "csv"])
    assert r.exit_code == 0 and "reference:decision" in r.stdout and "subject" in r.stdout
    r = runner.invoke(cli, [*base, "tag", str(folder / "b.md"), "--submit", "--as", "batch"])
    assert r.exit_code == 0 and "stored" in r.stdout
    s = EmbeddedStore(store_path)
    try:
        assert s.ask(f"ASK {{ ?r a <{CHM.Record}> ; <{DCTERMS.contributor}> \"batch\" ; <{DCTERMS.references}> <{M.decision('XI/24')}> }}")
    finally:
        s.close()
    r = runner.invoke(cli, [*base, "eval-references", str(FIXTURES / "references" / "annotated.json"), "--json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["recall"] == 1.0
    r = runner.invoke(cli, [*base, "eval-tagging", str(FIXTURES / "tagging" / "gold.json"), "--scheme", "informea", "--scheme", "ecolex", "--k", "3",
                              "--folds", "0"])
    assert r.exit_code == 0 and "F1@3 (micro)" in r.stdout and "nDCG@3" in r.stdout
