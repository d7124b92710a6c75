"""A tagger that learns from the indexers: the lexical matcher's candidates re-scored by a model
trained on human-tagged documents.

The lexical matcher (:mod:`tagging.tagger`) finds the concepts whose labels occur in a text. It
cannot know which of them indexers choose, nor the concepts they give without the words being
there. The model adds, for every (document, candidate concept) pair, signals learned from data:

``lexical``
    the matcher's score (0 when it did not match);
``nearest``
    the TF-IDF cosine of the most similar of the nearest training documents that indexers gave
    this concept;
``description``
    TF-IDF cosine between the document and the concept's pseudo-document (its labels, definition,
    and the labels of its broader and narrower concepts);
``prior``
    how often indexers chose the concept in the training documents (log-scaled);
``lexical_precision``
    how often a lexical suggestion of this concept was right in the training documents (smoothed):
    concepts the matcher finds everywhere and indexers rarely choose are demoted by data, not by a list;
``depth``
    the concept's depth in the hierarchy.

Other signals were tried and left out because they lowered the cross-validated F1@5 on the
development data (5 folds × 6 shuffles): the matcher's reciprocal rank, the similarity-weighted
share of the neighbours, ECOLEX's treaty and court-decision tag frequencies as priors and their
co-occurrences as P(concept | a strong candidate).

A logistic regression (scikit-learn) weighs them; a probability threshold chosen by inner
cross-validation on the training documents decides how many of the top k to keep (at least one).
Features that come from the training documents are computed leave-one-out for the training
documents themselves, so the weights are not learned on a document's own tags.

The model is a JSON file (no pickle): weights, threshold, priors, the concepts' pseudo-documents
and the training documents (the neighbours). The TF-IDF vectorisers are fitted again on load.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyoxigraph as ox

from ontology.errors import ChmError, SourceError
from sparql.builder import iri, prefixed
from sparql.store import Store
from tagging.tagger import TAGGER_VERSION, Suggestion, Tagger

MODEL_FORMAT = 1
FEATURES = ("lexical", "nearest", "description", "prior", "lexical_precision", "depth")
NEIGHBOURS = 5  # training documents consulted per document
LEXICAL_POOL = 20  # lexical candidates per document

CONCEPT_TEXT = prefixed("""SELECT ?c ?p ?v ?g ?lang WHERE { GRAPH ?g {
  ?c a skos:Concept .
  { ?c ?p ?v . VALUES ?p { skos:prefLabel skos:altLabel skos:definition } }
  UNION { ?c skos:broader ?b . ?b skos:prefLabel ?v . BIND(skos:broader AS ?p) }
  UNION { ?b skos:broader ?c . ?b skos:prefLabel ?v . BIND(skos:narrower AS ?p) }
  FILTER(LANG(?v) = ?lang)
} }""")


class ModelError(ChmError):
    code = "E640"
    http_status = 400


@dataclass
class TrainingDoc:
    id: str
    text: str
    language: str
    concepts: list[str]  # concept IRIs


def concept_texts(store: Store, graph: str, lang: str = "en") -> dict[str, str]:
    """Each concept's pseudo-document: its labels, definition, broader and narrower labels."""
    parts: dict[str, list[str]] = defaultdict(list)
    for r in store.select(CONCEPT_TEXT, {"g": iri(graph, "vocabulary graph"), "lang": ox.Literal(lang)}, union=False):
        parts[r["c"].value].append(r["v"].value)
    return {c: " ".join(sorted(set(v))) for c, v in parts.items()}


def label_key(label: str) -> str:
    """A label as gold sets and thesaurus versions spell it alike: case-folded, each word without a
    plural "s" ("indigenous people" of the 2017 export is "indigenous peoples" of the 2019 thesaurus)."""
    words = label.casefold().replace("-", " ").split()
    return " ".join(w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words)


def label_index(tagger: Tagger, concepts: set[str] | None = None) -> dict[str, str]:
    """Label key (:func:`label_key`) → concept, preferred labels first, for the concepts in ``concepts``."""
    out: dict[str, str] = {}
    for kind in ("pref", "alt", "hidden"):
        for entries in tagger.vocab.labels.values():
            for e in entries:
                if e.kind == kind and (concepts is None or e.concept in concepts):
                    out.setdefault(label_key(e.label), e.concept)
    return out


def _log1(n: float) -> float:
    return math.log1p(max(n, 0.0))


@dataclass
class Statistics:
    """What the features count over a set of training documents (subtractable, for leave-one-out)."""

    prior: Counter = field(default_factory=Counter)  # concept → documents tagged with it
    suggested: Counter = field(default_factory=Counter)  # concept → documents where the matcher suggested it
    right: Counter = field(default_factory=Counter)  # concept → of those, documents tagged with it

    def add(self, gold: set[str], lexical: list[str], sign: int = 1) -> None:
        for c in gold:
            self.prior[c] += sign
        for c in set(lexical):
            self.suggested[c] += sign
            if c in gold:
                self.right[c] += sign


class LearnedTagger:
    """The lexical tagger's candidates re-scored by the learned model (same ``suggest`` as :class:`Tagger`)."""

    def __init__(self, tagger: Tagger, data: dict, others: Tagger | None = None) -> None:
        """``tagger`` matches the model's vocabulary; ``others`` (optional) the other vocabularies,
        whose suggestions keep the matcher's scores."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        if data.get("format") != MODEL_FORMAT:
            raise ModelError(f"tagger model format {data.get('format')!r} is not {MODEL_FORMAT}; train it again")
        self.tagger = tagger
        self.others = others
        self.vocab = (others or tagger).vocab
        self.data = data
        self.version: str = data["version"]
        self.concepts: set[str] = set(data["concept_texts"])
        self.coef = np.array(data["weights"], dtype=float)
        self.intercept = float(data["intercept"])
        self.mean = np.array(data["scaler_mean"], dtype=float)
        self.scale = np.array(data["scaler_scale"], dtype=float)
        self.threshold = float(data["threshold"])
        self.docs = [TrainingDoc(**d) for d in data["documents"]]
        self.languages = set(data.get("languages") or {d.language for d in self.docs} or {"en"})
        self.stats = Statistics(Counter(data["prior"]), Counter(data["suggested"]), Counter(data["right"]))
        names = sorted(self.concepts)
        self._names = names
        self._vec = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=1, stop_words="english")
        corpus = [data["concept_texts"][c] for c in names] + [d.text for d in self.docs]
        self._vec.fit(corpus)
        self._concept_m = self._vec.transform([data["concept_texts"][c] for c in names])
        self._doc_m = self._vec.transform([d.text for d in self.docs]) if self.docs else None

    # -- features ------------------------------------------------------------------------------
    def candidates(self, text: str, lang: str, lexical: list[Suggestion], exclude: int | None = None,
                   stats: Statistics | None = None) -> tuple[list[str], np.ndarray]:
        """Candidate concepts and their feature rows. ``exclude`` leaves a training document out of the
        neighbours; ``stats`` are the counts to use (already without that document)."""
        stats = stats or self.stats
        q = self._vec.transform([text])
        lex = [s for s in lexical if s.concept in self.concepts][:LEXICAL_POOL]
        lex_score = {s.concept: s.score for s in lex}
        nearest: dict[str, float] = defaultdict(float)
        if self._doc_m is not None:
            sims = (self._doc_m @ q.T).toarray().ravel()
            if exclude is not None:
                sims[exclude] = -1.0
            for i in np.argsort(-sims)[:NEIGHBOURS]:
                if sims[i] > 0:
                    for c in self.docs[i].concepts:
                        nearest[c] = max(nearest[c], float(sims[i]))
        desc = (self._concept_m @ q.T).toarray().ravel()
        desc_of = {self._names[i]: float(desc[i]) for i in np.argsort(-desc)[:10] if desc[i] > 0}
        pool = [c for c in dict.fromkeys([*lex_score, *nearest, *desc_of]) if c in self.concepts]
        total_prior = max(sum(stats.prior.values()), 1)
        rows = []
        for c in pool:
            suggested, right = stats.suggested.get(c, 0), stats.right.get(c, 0)
            rows.append([
                lex_score.get(c, 0.0), nearest.get(c, 0.0), desc_of.get(c, 0.0),
                _log1(1000.0 * stats.prior.get(c, 0) / total_prior),
                (right + 0.5) / (suggested + 1.0) if c in lex_score else 0.0,
                min(self.vocab.depth.get(c, 0), 4) / 4.0,
            ])
        return pool, np.array(rows, dtype=float).reshape(len(rows), len(FEATURES))

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        if not len(x):
            return np.zeros(0)
        z = ((x - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def rank(self, text: str, lang: str, lexical: list[Suggestion], limit: int, threshold: float | None = None,
             exclude: int | None = None, stats: Statistics | None = None) -> list[tuple[str, float]]:
        pool, x = self.candidates(text, lang, lexical, exclude, stats)
        p = self.probabilities(x)
        order = sorted(range(len(pool)), key=lambda i: (-p[i], pool[i]))
        t = self.threshold if threshold is None else threshold
        kept = [(pool[i], float(p[i])) for i in order[:limit] if p[i] >= t]
        if not kept and order:
            kept = [(pool[order[0]], float(p[order[0]]))]
        return kept

    # -- the Tagger interface ----------------------------------------------------------------
    @property
    def version_label(self) -> str:
        """What submissions record as the tagger's version: the matcher's and the model's."""
        return f"{TAGGER_VERSION}+model.{self.version}"

    def pipeline(self, lang: str):
        return (self.others or self.tagger).pipeline(lang)

    def suggest(self, text: str, lang: str, title: str = "", limit: int = 20) -> list[Suggestion]:
        if lang not in self.languages:  # trained on texts of other languages: the matcher alone
            return (self.others or self.tagger).suggest(text, lang, title=title, limit=limit)
        if self.others is not None:  # one pass of the pipeline serves both: the model's vocabulary ranked alone, and all
            doc, title_chars = self.others.analyse(text, lang, title)
            lexical = self.others.rank_doc(doc, lang, title_chars, LEXICAL_POOL * 3, only=self.concepts)
            rest = self.others.rank_doc(doc, lang, title_chars, limit * 2)
        else:
            lexical, rest = self.tagger.suggest(text, lang, title=title, limit=LEXICAL_POOL * 3), []
        basis = f"{title}\n{text}" if title and not text.startswith(title) else text
        by_concept = {s.concept: s for s in lexical}
        out: list[Suggestion] = []
        for c, p in self.rank(basis, lang, lexical, limit):
            s = by_concept.get(c)
            label = self.tagger.vocab.pref.get((c, lang)) or self.tagger.vocab.pref.get((c, "en")) or c
            out.append(Suggestion(c, label, round(p, 4), s.count if s else 0, s.first if s else -1,
                                  s.matched if s else []))
        if rest:  # other vocabularies keep the matcher's scores, after the model's choices
            seen = {s.label.casefold() for s in out}
            for s in rest:
                if len(out) >= limit:
                    break
                if s.concept not in self.concepts and s.label.casefold() not in seen:
                    seen.add(s.label.casefold())
                    out.append(s)
        return out[:limit]


# -- training ------------------------------------------------------------------------------------
def _fit(rows: np.ndarray, labels: np.ndarray, c: float) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    mean = rows.mean(axis=0)
    scale = rows.std(axis=0)
    scale[scale == 0] = 1.0
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
    lr.fit((rows - mean) / scale, labels)
    return lr.coef_[0], float(lr.intercept_[0]), mean, scale


@dataclass
class Trainer:
    """Everything training needs that does not depend on which documents are in the training set."""

    tagger: Tagger  # the lexical tagger over the model's vocabulary
    concept_texts: dict[str, str]
    graph: str = ""  # the vocabulary's named graph
    c: float = 1.0
    k: int = 5
    _lexical: dict[str, list[Suggestion]] = field(default_factory=dict)

    def lexical(self, d: TrainingDoc) -> list[Suggestion]:
        key = d.language + "\0" + d.text
        if key not in self._lexical:
            self._lexical[key] = self.tagger.suggest(d.text, d.language, limit=LEXICAL_POOL * 3)
        return self._lexical[key]

    def _model(self, docs: list[TrainingDoc], stats: Statistics, weights, intercept, mean, scale, threshold) -> dict:
        return {
            "format": MODEL_FORMAT, "version": "", "graph": self.graph, "c": self.c, "k": self.k, "documents": [d.__dict__ for d in docs],
            "concept_texts": self.concept_texts,
            "prior": dict(stats.prior), "suggested": dict(stats.suggested), "right": dict(stats.right),
            "weights": [float(w) for w in weights], "intercept": intercept,
            "scaler_mean": [float(v) for v in mean], "scaler_scale": [float(v) for v in scale], "threshold": threshold,
            "features": list(FEATURES),
        }

    def _rows(self, model: LearnedTagger, docs: list[TrainingDoc]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        xs, ys, groups = [], [], []
        for i, d in enumerate(docs):
            gold = set(d.concepts)
            lex = [s.concept for s in self.lexical(d) if s.concept in model.concepts]
            loo = Statistics(model.stats.prior.copy(), model.stats.suggested.copy(), model.stats.right.copy())
            loo.add(gold, lex, -1)
            pool, x = model.candidates(d.text, d.language, self.lexical(d), exclude=i, stats=loo)
            xs.append(x)
            ys.extend(1 if c in gold else 0 for c in pool)
            groups.extend([i] * len(pool))
        return (np.vstack(xs) if xs else np.zeros((0, len(FEATURES)))), np.array(ys), groups

    def train(self, docs: list[TrainingDoc], inner_folds: int = 4, seed: int = 0) -> LearnedTagger:
        """Fit the weights on ``docs`` and choose the threshold by inner cross-validation."""
        if len(docs) < 4:
            raise ModelError(f"{len(docs)} training documents; the tagger needs at least 4")
        model = self._fit_weights(docs, strict=True)
        model.threshold = model.data["threshold"] = self._choose_threshold(docs, inner_folds, seed)
        return model

    def _fit_weights(self, docs: list[TrainingDoc], strict: bool = False) -> LearnedTagger:
        """A model with weights fitted on ``docs`` and no threshold (0)."""
        zeros, ones = np.zeros(len(FEATURES)), np.ones(len(FEATURES))
        stats = Statistics()
        concepts = set(self.concept_texts)
        for d in docs:
            stats.add(set(d.concepts), [s.concept for s in self.lexical(d) if s.concept in concepts])
        model = LearnedTagger(self.tagger, self._model(docs, stats, zeros, 0.0, zeros, ones, 0.0))
        x, y, _groups = self._rows(model, docs)
        if y.sum() == 0 or y.sum() == len(y):
            if strict:
                raise ModelError("the training documents give no positive or no negative candidates; check the gold concepts")
            return model
        weights, intercept, mean, scale = _fit(x, y, self.c)
        return LearnedTagger(self.tagger, self._model(docs, stats, weights, intercept, mean, scale, 0.0))

    def _choose_threshold(self, docs: list[TrainingDoc], folds: int, seed: int) -> float:
        """The probability cut that maximises micro F1@k over inner folds of the training documents."""
        if len(docs) < 2 * folds:
            return 0.5
        ranked: list[tuple[list[tuple[str, float]], set[str]]] = []
        for train, test in split(docs, folds, seed + 1):
            inner = self._fit_weights(train)
            for d in test:
                ranked.append((inner.rank(d.text, d.language, self.lexical(d), self.k, threshold=0.0), set(d.concepts)))
        best, best_f1 = 0.5, -1.0
        for t in np.arange(0.05, 0.96, 0.025):
            tp = n_sugg = n_gold = 0
            for r, gold in ranked:
                kept = [c for c, p in r if p >= t] or [c for c, _p in r[:1]]
                tp += len(set(kept) & gold)
                n_sugg += len(kept)
                n_gold += len(gold)
            p = tp / n_sugg if n_sugg else 0.0
            rec = tp / n_gold if n_gold else 0.0
            f1 = 0.0 if p + rec == 0 else 2 * p * rec / (p + rec)
            if f1 > best_f1 + 1e-9:
                best, best_f1 = float(round(t, 3)), f1
        return best


def trainer_for(store: Store, graph: str, c: float = 1.0, k: int = 5, lang: str = "en") -> Trainer:
    """A trainer over one vocabulary graph of the store (its lexical tagger and pseudo-documents)."""
    from tagging.submission import load_vocabulary

    texts = concept_texts(store, graph, lang)
    if not texts:
        raise ModelError(f"no concepts with {lang} labels in {graph}; import the vocabulary first")
    return Trainer(Tagger(load_vocabulary(store, [graph])), texts, graph, c=c, k=k)


def learn(store: Store, folder: Path, graph: str, documents: list[dict], lang: str, base: list | None = None,
          base_name: str = "") -> str:
    """Train the model again with ``documents`` (Annif's learn shape: ``{"text", "subjects": [{"uri",
    "label"}]}``) added to what it learned before and to ``base`` (gold items, :func:`tagging.evaluation.read_gold`);
    make it current; its version. Every subject must be a concept of ``graph`` (by IRI, or by label);
    nothing changes otherwise."""
    trainer = trainer_for(store, graph)
    concepts = set(trainer.concept_texts)
    labels = label_index(trainer.tagger, concepts)
    new: list[TrainingDoc] = []
    for i, d in enumerate(documents):
        text = " ".join(str(d.get("text", "")).split())
        if not text:
            raise ModelError(f"document {i}: the text is empty")
        cs: list[str] = []
        for sub in d.get("subjects") or []:
            uri = sub.get("uri") if isinstance(sub, dict) else None
            label = sub.get("label") if isinstance(sub, dict) else None
            c = uri if uri in concepts else labels.get(label_key(label)) if isinstance(label, str) else None
            if c is None:
                raise ModelError(f"document {i}: subject {str(uri or label)[:80]!r} is not a concept of {graph}")
            if c not in cs:
                cs.append(c)
        if not cs:
            raise ModelError(f"document {i} has no subjects")
        new.append(TrainingDoc("", text[:20_000], lang, cs))
    learned_path = folder / "learned.jsonl"
    previous = [TrainingDoc(**json.loads(line)) for line in learned_path.read_text(encoding="utf-8").splitlines()
                if line.strip()] if learned_path.is_file() else []
    for n, d in enumerate(new, start=len(previous) + 1):
        d.id = f"learned-{n}"
    base_docs = training_docs(base, labels)[0] if base else []
    docs = base_docs + previous + new
    model = trainer.train(docs)
    card = {"trained": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": {"gold set": base_name or "none", "documents": len(docs),
                     "learned through the API": len(previous) + len(new), "vocabulary": graph},
            "parameters": {"model": "logistic regression (scikit-learn), balanced classes, standardised features",
                           "C": trainer.c, "threshold (inner 4-fold CV)": model.threshold, "features": ", ".join(FEATURES)},
            "weights": {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef, strict=True)}}
    folder.mkdir(parents=True, exist_ok=True)
    tmp = learned_path.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(d.__dict__, ensure_ascii=False) + "\n" for d in previous + new), encoding="utf-8")
    save_model(model, folder, card)
    tmp.replace(learned_path)
    return model.version


def split(docs: list, folds: int, seed: int = 0):
    """``folds`` (train, test) splits of ``docs``, shuffled with ``seed``, every document tested once."""
    order = list(range(len(docs)))
    random.Random(seed).shuffle(order)
    for f in range(folds):
        test = set(order[f::folds])
        yield [docs[i] for i in order if i not in test], [docs[i] for i in sorted(test)]


def model_version(data: dict) -> str:
    digest = hashlib.sha256(json.dumps({k: v for k, v in data.items() if k not in ("version", "card")},
                                       sort_keys=True).encode()).hexdigest()[:10]
    return f"{datetime.now(UTC).strftime('%Y%m%d')}-{digest}"


# -- on disk -------------------------------------------------------------------------------------
def models_dir(state_dir: Path) -> Path:
    return Path(state_dir) / "models" / "tagger"


def save_model(model: LearnedTagger, folder: Path, card: dict) -> Path:
    """Write the model as ``<folder>/<version>/model.json`` with ``MODEL_CARD.md``, and make it current."""
    data = dict(model.data)
    data["version"] = model_version(data)
    data["card"] = card
    target = folder / data["version"]
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.json.tmp"
    tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    tmp.replace(target / "model.json")
    (target / "MODEL_CARD.md").write_text(render_card(data["version"], card), encoding="utf-8")
    current = folder / "CURRENT.tmp"
    current.write_text(data["version"] + "\n", encoding="utf-8")
    current.replace(folder / "CURRENT")
    model.data, model.version = data, data["version"]
    return target


def current_model_path(folder: Path) -> Path | None:
    pointer = folder / "CURRENT"
    if not pointer.is_file():
        return None
    path = folder / pointer.read_text(encoding="utf-8").strip() / "model.json"
    return path if path.is_file() else None


def load_model(path: Path, store: Store, others: Tagger | None = None) -> LearnedTagger:
    """The model at ``path`` over the store's copy of its vocabulary (``others``: the tagger for the rest)."""
    from tagging.submission import load_vocabulary

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SourceError(f"{path}: not a readable tagger model ({e})") from None
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: not a tagger model of format {MODEL_FORMAT}; train it again with `chmkg train-tagger`")
    graph = data.get("graph", "")
    if graph not in store.named_graphs():
        raise ModelError(f"{path}: its vocabulary {graph} is not in the store; import it or train the model again")
    return LearnedTagger(Tagger(load_vocabulary(store, [graph])), data, others)


def render_card(version: str, card: dict) -> str:
    lines = [f"# Tagger model {version}", "", f"Trained {card.get('trained', '')} by `chmkg train-tagger`.", "",
             "## Data", ""]
    for k, v in card.get("data", {}).items():
        lines.append(f"- {k}: {v}")
    lines += ["", "## Parameters", ""]
    for k, v in card.get("parameters", {}).items():
        lines.append(f"- {k}: {v}")
    lines += ["", "## Learned weights (standardised features)", "", "| feature | weight |", "| --- | --- |"]
    for k, v in card.get("weights", {}).items():
        lines.append(f"| {k} | {v:+.3f} |")
    cv = card.get("cross_validation")
    if cv:
        lines += ["", f"## Cross-validated scores ({cv['folds']} folds, seed {cv['seed']}, "
                      "every document scored by a model that never saw it)", "",
                  "| metric | model | lexical matcher alone |", "| --- | --- | --- |"]
        for k, v in cv["model"].items():
            lines.append(f"| {k} | {v:.3f} | {cv['lexical'].get(k, float('nan')):.3f} |")
    lines += ["", "How: `chmkg train-tagger` (see the README, \"Tagging\").", ""]
    return "\n".join(lines)


def training_docs(items, labels: dict[str, str]) -> tuple[list[TrainingDoc], list[str]]:
    """Gold items (labels or IRIs) → training documents with concept IRIs, and the labels not found."""
    docs, unknown = [], []
    for it in items:
        cs = []
        for g in it.concepts:
            c = g if g.startswith(("http://", "https://")) else labels.get(label_key(g))
            if c is None:
                unknown.append(g)
            elif c not in cs:
                cs.append(c)
        if cs:
            docs.append(TrainingDoc(it.id, it.text, it.language, cs))
    return docs, sorted(set(unknown))


__all__ = ["FEATURES", "LearnedTagger", "ModelError", "Trainer", "TrainingDoc", "concept_texts", "current_model_path",
           "label_index", "load_model", "models_dir", "save_model", "learn", "split", "trainer_for", "training_docs"]
