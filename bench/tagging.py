"""Tagging bench: words per second end to end (read → tag → extract references) for English with
lookup lemmas, on at least 1 MB of text, beside the bare PhraseMatcher rate in the same run.

    python bench/tagging.py [SHARED_DATA] [--mb 2]

Text: the CBD documents in ../shared/seeds, repeated to the size asked for, split into documents of
about 20 kB (submissions are documents, not one huge string). Vocabulary: the InforMEA thesaurus.
Target: at least 200k words/s end to end on one core; peak memory (max RSS) printed.
"""

from __future__ import annotations

import argparse
import re
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the hub's packages before this folder (whose tagging.py shadows the package)


def main(shared: Path, mb: float) -> None:
    from loaders.bundled import read_bundled
    from writes.ingest import ingest
    from ontology.iris import Minter
    from sparql.store import open_store
    from tagging.documents import extract
    from thesaurus.importers import read_vocabulary
    from tagging.references import Resolver, extract_references
    from tagging.submission import known_iris, load_vocabulary, tagging_graphs
    from tagging.tagger import Tagger

    base = "http://127.0.0.1:8000/"
    m = Minter(base)
    store = open_store(None)
    for src in (read_bundled(base), read_vocabulary("informea", shared)[0]):
        ingest(store, src, m.graph(src.name), base + "graph/meta")
    tagger = Tagger(load_vocabulary(store, tagging_graphs(store, m)))
    resolver = Resolver(m, known_iris(store))
    nlp = tagger.pipeline("en")
    matcher = nlp.get_pipe("chmkg_concept_tagger").matcher

    seeds = "\n".join(p.read_text(encoding="utf-8") for p in sorted((shared.parent / "seeds").glob("*.txt")))
    paragraphs = [p for p in seeds.split("\n") if p.strip()]
    docs: list[bytes] = []
    size, current = 0, []
    i = 0
    while size < mb * 1_000_000:
        current.append(paragraphs[i % len(paragraphs)])
        i += 1
        if sum(len(c) for c in current) > 20_000:
            data = "\n".join(current).encode()
            docs.append(data)
            size += len(data)
            current = []
    words = sum(len(re.findall(r"\w+", d.decode())) for d in docs)
    tagger.suggest("warm up the pipeline and its caches", "en")

    t0 = time.perf_counter()
    refs = suggestions = 0
    for n, data in enumerate(docs):
        doc = extract(data, f"doc{n}.txt", language="en")
        suggestions += len(tagger.suggest(doc.text, "en", title=doc.title))
        refs += len(resolver.resolve(extract_references(doc.text)))
    end_to_end = time.perf_counter() - t0

    # the same with the learned model (chmkg train-tagger) re-scoring the InforMEA concepts
    from tagging.evaluation import read_gold
    from tagging.model import LearnedTagger, label_index, trainer_for, training_docs

    trainer = trainer_for(store, m.graph("thesaurus-informea"))
    gold = shared / "gold-tagging" / "informea-leo" / "cbd_decisions_informea_tags.dev.json"
    train_docs, _unknown = training_docs(read_gold(gold), label_index(trainer.tagger, set(trainer.concept_texts)))
    learned = LearnedTagger(trainer.tagger, trainer.train(train_docs).data, tagger)
    learned.suggest("warm up the model", "en")
    t0 = time.perf_counter()
    for n, data in enumerate(docs):
        doc = extract(data, f"doc{n}.txt", language="en")
        learned.suggest(doc.text, "en", title=doc.title)
        resolver.resolve(extract_references(doc.text))
    with_model = time.perf_counter() - t0

    texts = [d.decode() for d in docs]
    spacy_docs = [nlp.make_doc(t) for t in texts]
    lemmatiser = nlp.get_pipe("chmkg_lookup_lemmas")
    t0 = time.perf_counter()
    for d in spacy_docs:
        lemmatiser(d)
    lemma_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matches = sum(len(matcher(d)) for d in spacy_docs)
    matcher_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        nlp.make_doc(t)
    tokenise_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    for t in texts:
        extract_references(t)
    refs_s = time.perf_counter() - t0

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"text: {size / 1e6:.2f} MB in {len(docs)} documents, {words:,} words; vocabulary: "
          f"{len(nlp.get_pipe('chmkg_concept_tagger').entries):,} label patterns (InforMEA, en)\n")
    print("| step | seconds | words/s |")
    print("|---|---|---|")
    for name, secs in (("end to end (read → tag → extract → resolve)", end_to_end),
                       ("end to end with the learned model", with_model), ("tokenise (spaCy blank en)", tokenise_s),
                       ("lookup lemmas", lemma_s), ("PhraseMatcher alone", matcher_s), ("reference extractor alone", refs_s)):
        print(f"| {name} | {secs:.3f} | {words / secs:,.0f} |")
    print(f"\nsuggestions {suggestions:,}, references {refs:,}, matches {matches:,}; peak memory (max RSS) {peak:,.0f} MB")
    for name, secs in (("matcher", end_to_end), ("learned model", with_model)):
        print(f"target ≥ 200,000 words/s end to end ({name}): {'met' if words / secs >= 200_000 else 'NOT met'}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("shared", nargs="?", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--mb", type=float, default=2.0)
    a = ap.parse_args()
    main(Path(a.shared), a.mb)
