"""The learned tagger: metrics as Annif reports them, cross-validation without leakage, training and
serving the model, and the Annif-compatible REST API (driven with the annif-client package)."""

from __future__ import annotations

import json
import math

import pytest
from conftest import BASE, SHARED, start_live_hub
from typer.testing import CliRunner

from hub.cli import app as cli
from tagging.evaluation import cross_validate, score_rankings
from tagging.model import LearnedTagger, ModelError, Trainer, TrainingDoc, label_key, load_model, split
from tagging.tagger import LabelEntry, Tagger, Vocabulary

needs_shared = pytest.mark.skipif(not (SHARED / "data").is_dir(), reason="../shared/data not found: the dev split and the thesaurus are there")
EX = "http://example.org/c/"


# -- metrics -------------------------------------------------------------------------------------
def test_micro_and_document_averages_and_ndcg_are_computed_as_annif_reports_them():
    # doc 1: 2 suggestions, first right, 2 gold; doc 2: 4 suggestions, third right, 1 gold
    sc = score_rankings([([True, False], 2), ([False, False, True, False], 1)], k=5)
    assert sc.micro_precision == round(2 / 6, 4) and sc.micro_recall == round(2 / 3, 4)
    assert sc.micro_f1 == round(2 * (2 / 6) * (2 / 3) / (2 / 6 + 2 / 3), 4)
    assert sc.doc_precision == round((1 / 2 + 1 / 4) / 2, 4) and sc.doc_recall == round((1 / 2 + 1) / 2, 4)
    f1_1, f1_2 = 2 * 0.5 * 0.5 / 1.0, 2 * 0.25 * 1 / 1.25
    assert sc.doc_f1 == round((f1_1 + f1_2) / 2, 4)  # the mean of per-document F1, not the F1 of the means
    ndcg1 = 1 / (1 + 1 / math.log2(3))
    ndcg2 = (1 / math.log2(4)) / 1
    assert sc.ndcg == round((ndcg1 + ndcg2) / 2, 4)
    assert set(sc.metrics()) == {"P@5 (micro)", "R@5 (micro)", "F1@5 (micro)", "P@5 (doc avg)", "R@5 (doc avg)",
                                 "F1@5 (doc avg)", "nDCG@5"}
    at1 = score_rankings([([True, False], 2), ([False, False, True, False], 1)], k=1)
    assert at1.micro_precision == 0.5 and at1.suggestions == 2  # only the first suggestion counts at k = 1


def test_gold_labels_match_across_thesaurus_versions():
    assert label_key("indigenous people") == label_key("Indigenous peoples")
    assert label_key("access") != label_key("accesses x")  # words, not substrings
    assert label_key("grass") == "grass"  # "ss" is not a plural


# -- a small world where indexers give concepts the words do not name -------------------------
CONCEPTS = {"wetland": "wetland", "migratory": "migratory species", "synergy": "synergy", "budget": "budget",
            "secretariat": "secretariat", "gender": "gender"}


def _world() -> tuple[Trainer, list[TrainingDoc]]:
    labels = [LabelEntry(EX + k, v) for k, v in CONCEPTS.items()]
    vocab = Vocabulary({"en": labels}, {(EX + k, "en"): v for k, v in CONCEPTS.items()}, {})
    texts = {EX + k: f"{v} {v}" for k, v in CONCEPTS.items()}
    texts[EX + "synergy"] += " coherence between agreements"
    trainer = Trainer(Tagger(vocab), texts, "http://example.org/graph")
    docs = []
    for i in range(5):
        docs.append(TrainingDoc(f"coop{i}", f"Cooperation with other conventions and organizations: progress report {i}", "en", [EX + "synergy"]))
        docs.append(TrainingDoc(f"budget{i}", f"Administration of the Convention and budget: progress report {i}", "en",
                                [EX + "budget", EX + "secretariat"]))
        docs.append(TrainingDoc(f"wet{i}", f"Wetland and migratory species of waterbirds: progress report {i}", "en",
                                [EX + "wetland", EX + "migratory"]))
        docs.append(TrainingDoc(f"gender{i}", f"Gender plan of action: progress report {i}", "en", [EX + "gender"]))
    return trainer, docs


def test_the_model_learns_what_indexers_give_beyond_the_words_and_beats_the_matcher_in_cross_validation():
    trainer, docs = _world()
    scores = cross_validate(trainer, docs, folds=4, repeats=2, ks=(5,))
    model, lexical = scores["model"][5], scores["lexical"][5]
    # the matcher can never find "synergy" or "secretariat"; the model learns them from the neighbours
    assert lexical.micro_recall < 0.75
    assert model.micro_recall > lexical.micro_recall + 0.2
    assert model.micro_f1 > lexical.micro_f1
    trained = trainer.train(docs)
    got = [c for c, _ in trained.rank("Cooperation with other conventions, new part", "en", [], 5)]
    assert got[0] == EX + "synergy"


def test_cross_validation_never_scores_a_document_with_a_model_that_saw_it():
    trainer, docs = _world()
    docs.append(TrainingDoc("odd", "Zebra okapi quagga", "en", [EX + "gender"]))
    seen = trainer.train(docs)
    assert EX + "gender" in [c for c, _ in seen.rank("Zebra okapi quagga", "en", [], 5, threshold=0.0)]
    for train, test in split(docs, 4, seed=3):
        if any(d.id == "odd" for d in test):
            model = trainer.train(train)
            assert all(d.id != "odd" for d in train)
            assert EX + "gender" not in [c for c, _ in model.rank("Zebra okapi quagga", "en", [], 5, threshold=0.0)]
    # the folds cover every document exactly once
    tested = [d.id for _train, test in split(docs, 4, seed=3) for d in test]
    assert sorted(tested) == sorted(d.id for d in docs)


def test_training_refuses_too_little_data_and_a_model_of_another_format():
    trainer, docs = _world()
    with pytest.raises(ModelError, match="at least 4"):
        trainer.train(docs[:3])
    model = trainer.train(docs)
    with pytest.raises(ModelError, match="format"):
        LearnedTagger(trainer.tagger, {**model.data, "format": 99})


# -- the real data -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def informea(tmp_path_factory):
    if not (SHARED / "data").is_dir():
        pytest.skip("../shared/data not found")
    from conftest import graph

    from sparql.store import EmbeddedStore
    from thesaurus.importers import read_vocabulary
    from writes.ingest import ingest

    folder = tmp_path_factory.mktemp("informea")
    s = EmbeddedStore(folder / "var" / "store")
    src = read_vocabulary("informea", SHARED / "data")[0]
    ingest(s, src, graph(src.name), BASE + "graph/meta")
    s.close()
    return folder / "var" / "store"


@needs_shared
@pytest.mark.slow
def test_train_tagger_writes_a_versioned_model_with_its_card_that_meets_the_targets_and_the_hub_serves_it(informea):
    runner = CliRunner()
    base = ["--store", str(informea), "--base", BASE]
    r = runner.invoke(cli, [*base, "train-tagger", "--repeats", "3", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    folder = informea.parent / "store-hub" / "models" / "tagger"
    assert (folder / "CURRENT").read_text().strip() == out["version"]
    card = (folder / out["version"] / "MODEL_CARD.md").read_text()
    assert "Cross-validated scores" in card and "F1@5 (micro)" in card and "lexical matcher alone" in card
    cv = out["card"]["cross_validation"]["model"]
    # the targets, on documents each scored by a model that never saw them
    assert cv["F1@5 (micro)"] >= 0.35 and cv["R@5 (micro)"] >= 0.35, cv
    assert cv["F1@5 (micro)"] > out["card"]["cross_validation"]["lexical"]["F1@5 (micro)"]

    # eval-tagging --folds 0 scores the hub's current tagger: the model
    r = runner.invoke(cli, [*base, "eval-tagging", "--folds", "0", "--k", "5", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["tagger"] == out["version"]

    # chmkg tag uses the hub's tagger too (the model), unless vocabularies are named (the matcher alone)
    doc = informea.parent / "cooperation.txt"
    doc.write_text("Cooperation with other conventions and international organizations\n", encoding="utf-8")
    r = runner.invoke(cli, [*base, "tag", str(doc), "-o", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["documents"][0]["tagger_version"].endswith("+model." + out["version"])
    # the seed documents (all on the clearing-house mechanism) no longer share their top three, and the
    # generic "international agreement" the matcher finds in every CBD text is not among them
    r = runner.invoke(cli, [*base, "tag", *map(str, sorted((SHARED / "seeds").glob("*.txt"))), "-o", "json", "--limit", "3"])
    assert r.exit_code == 0, r.output
    tops = [tuple(s["label"] for s in d["suggestions"][:3]) for d in json.loads(r.output)["documents"]]
    assert len(tops) >= 5 and len(set(tops)) >= 3, tops
    assert not any("international agreement" in t for t in tops), tops
    r = runner.invoke(cli, [*base, "tag", str(doc), "-o", "json", "--scheme", "informea"])
    assert r.exit_code == 0, r.output
    assert "+model." not in json.loads(r.output)["documents"][0]["tagger_version"]

    # the served hub's tagger is the model, and a submission records its version
    from hub.service import Hub
    from hub.settings import Settings

    from sparql.store import EmbeddedStore

    store = EmbeddedStore(informea)
    hub = Hub(Settings(base=BASE, store_path=str(informea), shared_data=str(SHARED / "data")), store)
    try:
        tagger, _ = hub.tagging()
        assert isinstance(tagger, LearnedTagger) and tagger.version == out["version"]
        assert tagger.version_label.endswith("+model." + out["version"])
        top = tagger.suggest("Cooperation with other conventions and international organizations", "en", limit=5)
        assert top and top[0].score <= 1.0
        assert {"synergy", "international cooperation"} & {s.label for s in top}
        # a broken model file is refused by name, and the hub falls back to the matcher
        (folder / out["version"] / "model.json").write_text("{not json")
        with pytest.raises(Exception, match="not a readable tagger model"):
            load_model(folder / out["version"] / "model.json", store)
        tagger, _ = hub.tagging()
        assert isinstance(tagger, Tagger)
    finally:
        store.close()


# -- the Annif-compatible REST API, driven by annif-client ------------------------------------------
@needs_shared
@pytest.mark.slow
def test_annif_client_lists_projects_suggests_learns_and_gets_errors_as_annif_gives_them(tmp_path):
    from urllib.parse import quote

    import httpx
    import requests
    from annif_client import AnnifClient
    from conftest import snapshot
    from hostile import hostile_iris

    from thesaurus.importers import read_vocabulary
    from writes.ingest import ingest

    live, stop = start_live_hub(tmp_path, "embedded")
    try:
        src = read_vocabulary("informea", SHARED / "data")[0]
        ingest(live.hub.store, src, live.settings.graph(src.name), live.settings.meta_graph)
        client = AnnifClient(api_base=live.url + "/v1/")
        assert "Annif" in client.api_info["title"] and client.api_info["version"]
        projects = {p["project_id"]: p for p in client.projects}
        assert set(projects) == {"chm-en", "chm-fr", "chm-es"}
        assert projects["chm-en"]["backend"]["backend_id"] == "chm-lexical" and projects["chm-en"]["is_trained"]
        assert client.get_project("chm-fr")["language"] == "fr"
        with pytest.raises(ValueError, match="not found"):
            client.get_project("yso-fi")

        text = "Marine protected areas, marine spatial planning and invasive alien species in island ecosystems"
        res = client.suggest("chm-en", text, limit=3)
        assert 1 <= len(res) <= 3 and all({"uri", "label", "notation", "score"} <= set(r) for r in res)
        assert "http://www.informea.org/terms/marine-spatial-planning" in [r["uri"] for r in client.suggest("chm-en", text)]
        assert all(r["score"] >= 0.5 for r in client.suggest("chm-en", text, threshold=0.5))
        batch = client.suggest_batch("chm-en", [{"document_id": "a", "text": text},
                                                {"document_id": "b", "text": "Gender plan of action"}], limit=2)
        assert [d["document_id"] for d in batch] == ["a", "b"] and all(len(d["results"]) <= 2 for d in batch)
        assert "http://www.informea.org/terms/gender" in [r["uri"] for r in batch[1]["results"]]
        # labels match texts in their own language only: InforMEA's English "budget" is not matched in French
        assert "http://www.informea.org/terms/budget" in [r["uri"] for r in client.suggest("chm-en", "The budget")]
        assert client.suggest("chm-fr", "Le budget des aires marines protégées") == []
        detected = client.detect_language("Les Parties établissent des aires protégées", ["en", "fr"])
        assert detected["results"][0]["language"] == "fr"

        # bad requests are named; hostile values reach no query and change nothing
        with httpx.Client(base_url=live.url, timeout=30) as h:
            assert h.post("/v1/projects/chm-en/suggest", data={"text": text, "limit": "lots"}).json()["detail"].startswith("limit")
            assert h.post("/v1/projects/chm-en/suggest-batch", json={"documents": [{"text": "x"}] * 33}).status_code == 400
            before = snapshot(live.hub.store)
            for bad in hostile_iris("chm-en"):
                # quoted: an id with a "/" (decoded by the server) matches no route (404/405), any other is not a project
                r = h.post(f"/v1/projects/{quote(bad, safe='')}/suggest", data={"text": text})
                assert r.status_code == 404 if "/" not in bad else r.status_code in (404, 405), (bad, r.status_code)
                assert h.post("/v1/projects/chm-en/suggest", data={"text": bad}).status_code == 200
            assert snapshot(live.hub.store) == before

        # learning: editors only; a subject the vocabulary lacks is refused and nothing is written
        docs = [{"text": f"Ocean acidification and coral reefs: progress report {i}",
                 "subjects": [{"uri": "http://www.informea.org/terms/synergy", "label": "synergy"}]} for i in range(3)]
        with pytest.raises(requests.HTTPError) as e:
            client.learn("chm-en", docs)
        assert e.value.response.status_code == 401
        client._headers["Authorization"] = f"Bearer {live.editor}"
        models = tmp_path / "store-hub" / "models" / "tagger"
        with pytest.raises(requests.HTTPError) as e:
            client.learn("chm-en", [{"text": "x y", "subjects": [{"uri": "http://example.org/not-a-concept> } ; DROP ALL"}]}])
        assert e.value.response.status_code == 400 and "not a concept" in e.value.response.json()["detail"]
        assert not (models / "CURRENT").exists()
        assert client.learn("chm-en", docs).status_code == 204
        assert (models / "CURRENT").is_file() and len((models / "learned.jsonl").read_text().splitlines()) == 3
        assert client.get_project("chm-en")["backend"]["backend_id"] == "chm-ensemble"
        learned = client.suggest("chm-en", "Ocean acidification and coral reefs: progress report 9", limit=5)
        assert "http://www.informea.org/terms/synergy" in [r["uri"] for r in learned]  # never in the words: learned
        audit = live.settings.audit_path.read_text()
        assert "tagger trained on 3 more documents" in audit
    finally:
        stop()


def test_the_label_patterns_are_cached_per_vocabulary_state_and_a_broken_cache_is_rebuilt(tmp_path):
    trainer, docs = _world()
    vocab = trainer.tagger.vocab
    cache = tmp_path / "cache"
    first = Tagger(vocab, cache=cache, key="k1")
    want = [(s.concept, s.score) for s in first.suggest("Wetland and migratory species", "en")]
    written = cache / "k1-en.json"
    assert written.is_file() and want
    again = Tagger(vocab, cache=cache, key="k1")
    assert [(s.concept, s.score) for s in again.suggest("Wetland and migratory species", "en")] == want
    assert "wetland" in written.read_text()
    written.write_text("{broken")
    rebuilt = Tagger(vocab, cache=cache, key="k1")
    assert [(s.concept, s.score) for s in rebuilt.suggest("Wetland and migratory species", "en")] == want
    newer = Tagger(vocab, cache=cache, key="k2")  # the vocabularies changed: the old patterns go
    newer.pipeline("en")
    assert sorted(p.name for p in cache.iterdir()) == ["k2-en.json"]


def test_labels_that_are_stop_words_of_their_language_never_match_and_the_model_keeps_to_its_languages():
    vocab = Vocabulary({"fr": [LabelEntry(EX + "sound", "son"), LabelEntry(EX + "noise", "bruit")],
                        "en": [LabelEntry(EX + "noise", "noise")]},
                       {(EX + "sound", "fr"): "son", (EX + "noise", "fr"): "bruit", (EX + "noise", "en"): "noise"}, {})
    found = [s.concept for s in Tagger(vocab).suggest("Son rapport sur le bruit des navires", "fr")]
    assert found == [EX + "noise"]  # "son" (his) is a French stop word: GEMET's "son" (sound) is not suggested
    trainer, docs = _world()
    model = trainer.train(docs)
    assert model.languages == {"en"}
    # a French text: the English-trained model stands aside and the matcher answers alone
    assert model.suggest("Coopération avec les autres conventions: rapport", "fr") == []
    assert EX + "synergy" in [s.concept for s in model.suggest("Cooperation with other conventions: progress report 9", "en")]


def test_hyphens_of_every_kind_and_none_match_a_hyphenated_label():
    vocab = Vocabulary({"en": [LabelEntry(EX + "chm", "clearing-house mechanism")]}, {(EX + "chm", "en"): "clearing-house mechanism"}, {})
    tagger = Tagger(vocab)
    for text in ("the Clearing\u2011House Mechanism", "the clearing\u2010house mechanism", "the clearing-house mechanism",
                 "the clearing house mechanism"):
        assert [s.concept for s in tagger.suggest(text, "en")] == [EX + "chm"], text
    assert tagger.suggest("the clearing of houses", "en") == []


def test_the_start_up_warm_up_loads_the_language_identifier_and_the_shapes_so_the_first_submission_does_not(tmp_path):
    import tagging.documents as documents
    from hub.service import Hub
    from hub.settings import Settings
    from shapes.validate import compiled

    from sparql.store import EmbeddedStore

    documents._identifier = None
    compiled.cache_clear()
    store = EmbeddedStore(tmp_path / "store")
    hub = Hub(Settings(base=BASE, store_path=str(tmp_path / "store")), store)
    try:
        thread = hub.warm_up()
        thread.join(120)  # bounded
        assert not thread.is_alive()
        assert documents._identifier is not None  # py3langid's model: 0.7 s when the first submission read it
        assert compiled.cache_info().currsize == 1
        assert documents.detect_language("La Conférence des Parties prie le Secrétaire exécutif")[0] == "fr"
    finally:
        hub.close()
