"""Evaluation built in: the tagger against gold subjects, the reference extractor against annotations.

Gold sets for tagging are JSON lists, one item per document, either the hub's own form
``{"id", "text", "language"?, "concepts": [IRI or label, …]}`` or the InforMEA/LEO export
(``{"field_decision_number_value", "title", "name"}``, one row per (decision, term) pair: the
decision's title is the text, the term labels are the gold). Annotated texts for references are
``{"text", "references": [key, …]}`` with keys as :func:`tagging.references.extract_references`
writes them ("X/15", "15/16 para 9 (f)", "Article 18.3", "GBF target 3", "COP-12", "CBD/SBI/4/7").
"""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ontology.errors import SourceError
from tagging.model import label_key
from tagging.references import extract_references
from tagging.tagger import Tagger


@dataclass
class GoldItem:
    id: str
    text: str
    language: str
    concepts: list[str]


def read_gold(path: Path) -> list[GoldItem]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SourceError(f"{path}: not a readable JSON gold set ({e})") from None
    if not isinstance(data, list) or not data:
        raise SourceError(f"{path}: a gold set is a non-empty JSON list")
    if "field_decision_number_value" in data[0]:  # the InforMEA/LEO export: one row per (decision, term)
        grouped: dict[str, GoldItem] = {}
        for row in data:
            key = row["field_decision_number_value"]
            item = grouped.setdefault(key, GoldItem(key, " ".join(row["title"].split()), "en", []))
            if row["name"] not in item.concepts:
                item.concepts.append(row["name"])
        return list(grouped.values())
    items = []
    for i, row in enumerate(data):
        if not isinstance(row, dict) or "text" not in row or "concepts" not in row:
            raise SourceError(f"{path}: item {i} needs 'text' and 'concepts'")
        items.append(GoldItem(str(row.get("id", i)), row["text"], row.get("language", "en"), list(row["concepts"])))
    return items


@dataclass
class Scores:
    """Scores at a cut-off k, named as Annif reports them: micro averages count every
    (suggestion, gold) pair over all documents; document averages score each document, then average."""

    k: int
    documents: int
    micro_precision: float
    micro_recall: float
    micro_f1: float
    doc_precision: float
    doc_recall: float
    doc_f1: float
    ndcg: float
    suggestions: int = 0
    per_document: list[dict] = field(default_factory=list)

    NAMES = {"micro_precision": "P@{k} (micro)", "micro_recall": "R@{k} (micro)", "micro_f1": "F1@{k} (micro)",
             "doc_precision": "P@{k} (doc avg)", "doc_recall": "R@{k} (doc avg)", "doc_f1": "F1@{k} (doc avg)",
             "ndcg": "nDCG@{k}"}

    def metrics(self) -> dict[str, float]:
        """The scores under their reported names ("F1@5 (micro)", "nDCG@5", …)."""
        return {name.format(k=self.k): getattr(self, attr) for attr, name in self.NAMES.items()}

    def to_dict(self, details: bool = False) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "per_document"}
        d["metrics"] = self.metrics()
        if details:
            d["per_document"] = self.per_document
        return d


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def score_rankings(rankings: list[tuple[list[bool], int]], k: int, rows: list[dict] | None = None) -> Scores:
    """Scores of ranked suggestions: each item is (hit or not for each suggestion in rank order, the
    number of gold concepts). Only the first k suggestions count."""
    tp_all = sugg_all = gold_all = 0
    ps, rs, fs, ns = [], [], [], []
    for hits, n_gold in rankings:
        hits = hits[:k]
        tp = sum(hits)
        p = tp / len(hits) if hits else 0.0
        r = tp / n_gold if n_gold else 0.0
        ps.append(p)
        rs.append(r)
        fs.append(_f1(p, r))
        dcg = sum(1.0 / math.log2(i + 2) for i, h in enumerate(hits) if h)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(n_gold, k)))
        ns.append(dcg / ideal if ideal else 0.0)
        tp_all, sugg_all, gold_all = tp_all + tp, sugg_all + len(hits), gold_all + n_gold
    n = max(len(rankings), 1)
    mp = tp_all / sugg_all if sugg_all else 0.0
    mr = tp_all / gold_all if gold_all else 0.0
    return Scores(k, len(rankings), round(mp, 4), round(mr, 4), round(_f1(mp, mr), 4), round(sum(ps) / n, 4),
                  round(sum(rs) / n, 4), round(sum(fs) / n, 4), round(sum(ns) / n, 4), sugg_all, rows or [])


def gold_keys(tagger, concepts: list[str]) -> set[str]:
    """Gold concepts as matching keys: IRIs as they are, labels as :func:`tagging.model.label_key`."""
    return {g if g.startswith(("http://", "https://")) else label_key(g) for g in concepts}


def concept_keys(tagger) -> dict[str, set[str]]:
    """Each concept's matching keys: its IRI and every label's key."""
    keys: dict[str, set[str]] = defaultdict(set)
    for entries in tagger.vocab.labels.values():
        for e in entries:
            keys[e.concept].add(label_key(e.label))
    for c in list(keys):
        keys[c].add(c)
    return keys


def evaluate_tagging(tagger: Tagger, gold: list[GoldItem], k: int = 5) -> Scores:
    """The tagger's top-k suggestions against a gold set.

    Gold concepts given as labels match a suggested concept by any of its labels (case and plural
    "s" aside, :func:`tagging.model.label_key`); gold IRIs match the concept's IRI.
    """
    keys = concept_keys(tagger)
    rankings, rows = [], []
    for item in gold:
        wanted = gold_keys(tagger, item.concepts)
        suggestions = tagger.suggest(item.text, item.language, limit=k)
        hit_keys: set[str] = set()
        hits = []
        for s in suggestions:
            matched = (keys.get(s.concept, set()) | {s.concept}) & wanted - hit_keys
            hits.append(bool(matched))
            hit_keys |= matched
        rankings.append((hits, len(wanted)))
        rows.append({"id": item.id, "gold": sorted(wanted), "suggested": [s.label for s in suggestions],
                     "scores": [s.score for s in suggestions], "hits": sorted(hit_keys)})
    return score_rankings(rankings, k, rows)


def cross_validate(trainer, docs: list, folds: int = 5, repeats: int = 3, ks: tuple[int, ...] = (1, 3, 5),
                   seed: int = 0) -> dict:
    """k-fold cross-validation of the learned tagger: every document is scored by a model trained
    without it, ``repeats`` times with different shuffles; the lexical matcher alone is scored on the
    same documents. Returns {"model": {k: Scores}, "lexical": {k: Scores}} averaged over the repeats."""
    from tagging.model import split

    if len(docs) < folds:
        raise SourceError(f"{len(docs)} documents cannot be split into {folds} folds")
    runs: dict[str, dict[int, list[Scores]]] = {"model": defaultdict(list), "lexical": defaultdict(list)}
    kmax = max(ks)
    for r in range(repeats):
        ranked_model, ranked_lex = [], []
        for train, test in split(docs, folds, seed + r):
            model = trainer.train(train, seed=seed + r)
            for d in test:
                gold = set(d.concepts)
                got = [c for c, _p in model.rank(d.text, d.language, trainer.lexical(d), kmax)]
                ranked_model.append(([c in gold for c in got], len(gold)))
                lex = [s.concept for s in trainer.lexical(d) if s.concept in model.concepts][:kmax]
                ranked_lex.append(([c in gold for c in lex], len(gold)))
        for k in ks:
            runs["model"][k].append(score_rankings(ranked_model, k))
            runs["lexical"][k].append(score_rankings(ranked_lex, k))
    out: dict[str, dict[int, Scores]] = {}
    for name, by_k in runs.items():
        out[name] = {}
        for k, scores in by_k.items():
            avg = {a: round(sum(getattr(s, a) for s in scores) / len(scores), 4) for a in Scores.NAMES}
            out[name][k] = Scores(k, scores[0].documents, suggestions=round(sum(s.suggestions for s in scores) / len(scores)),
                                  **avg)
    return out


@dataclass
class ReferenceScores:
    texts: int
    expected: int
    found: int
    correct: int
    precision: float
    recall: float
    f1: float
    per_kind: dict[str, dict] = field(default_factory=dict)  # per category
    misses: list[dict] = field(default_factory=list)
    per_language: dict[str, dict] = field(default_factory=dict)


def read_annotated(path: Path) -> list[dict]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise SourceError(f"{path}: not a readable JSON file of annotated texts ({e})") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) and "text" in d and "references" in d for d in data):
        raise SourceError(f"{path}: expected a JSON list of {{\"text\", \"references\"}} objects")
    return data


def evaluate_references(items: list[dict]) -> ReferenceScores:
    """Precision and recall of the extractor, overall and per category (:func:`category`)."""
    expected = found = correct = 0
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"expected": 0, "found": 0, "correct": 0})
    langs: dict[str, dict[str, int]] = defaultdict(lambda: {"expected": 0, "found": 0, "correct": 0})
    misses = []
    for item in items:
        got = {r.key for r in extract_references(item["text"])}
        want = set(item["references"])
        lang = langs[str(item.get("language", "en"))]
        lang["expected"], lang["found"], lang["correct"] = lang["expected"] + len(want), lang["found"] + len(got), \
            lang["correct"] + len(want & got)
        expected, found = expected + len(want), found + len(got)
        correct += len(want & got)
        for key in got:
            kinds[category(key)]["found"] += 1
            kinds[category(key)]["correct"] += key in want
        for key in want:
            kinds[category(key)]["expected"] += 1
        if want != got:
            misses.append({"text": item["text"][:120], "missing": sorted(want - got), "extra": sorted(got - want)})
    p = correct / found if found else 0.0
    r = correct / expected if expected else 0.0
    def rates(counts: dict[str, dict[str, int]]) -> dict[str, dict]:
        return {k: {**v, "precision": round(v["correct"] / v["found"], 4) if v["found"] else 0.0,
                    "recall": round(v["correct"] / v["expected"], 4) if v["expected"] else 0.0}
                for k, v in sorted(counts.items())}

    return ReferenceScores(len(items), expected, found, correct, round(p, 4), round(r, 4), round(_f1(p, r), 4),
                           rates(kinds), misses, rates(langs))


_DECISION_KEY = re.compile(r"^(?:(?:BS|CP|NP)-)?(?:[IVX]+|\d{1,2})/\d{1,3}")


def category(key: str) -> str:
    """The category a reference key belongs to: decision, decision paragraph, annex, article, article
    paragraph, target, meeting, document or recommendation."""
    if key.startswith("Article"):
        return "article paragraph" if re.match(r"Article \d+[.(]", key) else "article"
    if "target" in key.lower():
        return "target"
    if key.startswith("recommendation") or "/REC/" in key or re.fullmatch(r"(?:SBSTTA|SBI|WGRI|WG8J)-\d+/\d+", key):
        return "recommendation"
    if key.startswith(("CBD/", "UNEP/")):
        return "document"
    if re.fullmatch(r"[A-Z0-9]+(?:-MOP)?-\d+", key):
        return "meeting"
    if _DECISION_KEY.match(key):
        return "annex" if " annex" in key else "decision paragraph" if " para " in key else "decision"
    return "other"


# -- decision elements: act, actors and deadline of each annotated element ----------------------
@dataclass
class ElementScores:
    elements: int
    per_field: dict[str, dict[str, float]]   # act / actors / deadline → tp, fp, fn, precision, recall, f1
    per_language: dict[str, dict[str, float]]  # language → act F1, actors F1
    misses: list[dict] = field(default_factory=list)


def read_elements(path: Path) -> list[dict]:
    """An annotated set of decision elements: JSON lines of ``{"id", "lang", "kind", "text", "parent"?,
    "acts": [...], "actors": [...], "deadline": "cop-16" | "2030" | null}``."""
    items = []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise SourceError(f"{path}: cannot read the annotated elements ({e})") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as e:
            raise SourceError(f"{path}, line {n}: not JSON ({e})") from None
        missing = [k for k in ("text", "kind", "acts", "actors") if k not in item]
        if missing:
            raise SourceError(f"{path}, line {n}: an annotated element needs {', '.join(missing)}")
        items.append(item)
    if not items:
        raise SourceError(f"{path}: no annotated elements")
    return items


def evaluate_elements(items: list[dict]) -> ElementScores:
    """Micro precision, recall and F1 of the acts and the actors the classifier finds, over (element,
    value) pairs; deadlines are scored the same way (one value or none per element)."""
    from tagging.structure import Element, classify

    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in ("act", "actors", "deadline")}
    by_lang: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: {f: {"tp": 0, "fp": 0, "fn": 0} for f in ("act", "actors")})
    misses = []
    for item in items:
        lang = item.get("lang", "en")
        parent = None
        if item.get("parent"):
            parent = classify(Element("paragraph", "1", item["parent"]), lang)
        el = classify(Element(item["kind"], "1", item["text"]), lang, parent)
        got = {"act": {a.code for a in el.acts}, "actors": set(el.actors),
               "deadline": {_deadline_key(el.deadline)} - {None}}
        want = {"act": set(item["acts"]), "actors": set(item["actors"]), "deadline": {item.get("deadline")} - {None}}
        for f in counts:
            counts[f]["tp"] += len(got[f] & want[f])
            counts[f]["fp"] += len(got[f] - want[f])
            counts[f]["fn"] += len(want[f] - got[f])
            if f in ("act", "actors"):
                by_lang[lang][f]["tp"] += len(got[f] & want[f])
                by_lang[lang][f]["fp"] += len(got[f] - want[f])
                by_lang[lang][f]["fn"] += len(want[f] - got[f])
        if got != want:
            misses.append({"id": item.get("id", ""), "text": item["text"][:100],
                           **{f: {"missing": sorted(want[f] - got[f]), "extra": sorted(got[f] - want[f])}
                              for f in counts if got[f] != want[f]}})

    def prf(c: dict[str, int]) -> dict[str, float]:
        p = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 1.0
        r = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 1.0
        return {**c, "precision": round(p, 4), "recall": round(r, 4), "f1": round(_f1(p, r), 4)}

    return ElementScores(len(items), {f: prf(c) for f, c in counts.items()},
                         {lang: {f"{f}_f1": prf(c)["f1"] for f, c in v.items()} for lang, v in sorted(by_lang.items())}, misses)


def _deadline_key(d) -> str | None:
    if d is None:
        return None
    if d.meeting:
        return f"{d.meeting[0]}-{d.meeting[1]}"
    return str(d.year) if d.year else None
