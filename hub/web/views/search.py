"""Search over labels in every language, with decision symbols understood in any form.

The index (token → entries) is built from the store's labels, titles, symbols and meeting codes
and rebuilt once per write generation, so it is always in step with the data. Ranking: an exact
symbol match first, then entries matching every query token, weighted by where the token matched
(symbol > pref label > title > alt/hidden label) and by how much of the label the query covers,
plus a prior for how much the rest of the graph points at the thing (its paragraphs, the
decisions recalling it, the records about it: log-scaled, at most ``PRIOR_WEIGHT``), so the
Convention's and the COP's central nodes come before a questionnaire's question that happens to
name the same words.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
import unicodedata
from collections import OrderedDict, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

import pyoxigraph as ox

from ontology import CHM, DCTERMS, ELI, PROV, SKOS
from ontology.errors import SymbolError
from ontology.symbols import parse_symbol
from sparql.store import Store

TYPES = "SELECT ?s ?c ?meta WHERE { GRAPH ?g { ?s a ?c } FILTER (isIRI(?s) && isIRI(?c) && ?g != ?meta) }"
# how many statements point at a thing, for the ranking's prior (meta graph and typing left out)
IN_DEGREE = ("SELECT ?o (COUNT(?s) AS ?n) ?meta WHERE { GRAPH ?g { ?s ?p ?o } "
             "FILTER (isIRI(?o) && ?g != ?meta && ?p != <http://www.w3.org/1999/02/22-rdf-syntax-ns#type>) } GROUP BY ?o ?meta")
PRIOR_WEIGHT = 1.0  # a thing pointed at 100 times or more gains this much over an unreferenced one
PRIOR_SATURATION = 100
# what the hub is about comes before the vocabularies and questionnaires it also holds (Solr-style type boosts)
TYPE_BOOST = {CHM.Decision: 1.0, CHM.Article: 0.8, CHM.Meeting: 0.6, CHM.Network: 0.6, CHM.WorkProgramme: 0.6,
              CHM.Goal: 0.3, CHM.Outcome: 0.3, CHM.StrategicAction: 0.3, CHM.Record: 0.3}
FACET_VALUES = "SELECT ?s ?v ?p ?meta WHERE { GRAPH ?g { ?s ?p ?v } FILTER (isIRI(?s) && isIRI(?v) && ?g != ?meta) }"
TARGET_CONCEPTS = ("SELECT DISTINCT ?c WHERE { GRAPH ?g { ?c <http://www.w3.org/2004/02/skos/core#inScheme> ?scheme } "
                   "FILTER (STRENDS(STR(?scheme), \"-targets\")) }")
# the search's facets beside the type: name → predicate (targets are the subjects in a targets scheme)
FACETS = {"meeting": PROV.wasGeneratedBy, "status": CHM.currentStatus, "subject": DCTERMS.subject}
FACET_NAMES = ("meeting", "status", "subject", "target", "language")  # language: of the label that matched
MAX_HITS = 1000  # hits counted and paged for one query
RESULTS_KEPT = 512  # answers to recent queries an index keeps (it is rebuilt, and they dropped, on every write)

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
FIELDS = {CHM.symbol: 5.0, CHM.meetingCode: 4.0, SKOS.prefLabel: 3.0, ELI.title: 2.0, DCTERMS.title: 2.0,
          SKOS.altLabel: 1.5, SKOS.hiddenLabel: 1.2, "http://www.w3.org/2000/01/rdf-schema#label": 2.0}
T = TypeVar("T")
_WORD = re.compile(r"[\w+]+")


_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"})  # letters NFKD does not take apart


def normalise(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _WORD.findall(text)


@dataclass(slots=True)
class Hit:
    iri: str
    label: str
    score: float
    matched: str
    lang: str = ""  # the language of the label that matched ("" for none)
    snippet: list[tuple[str, bool]] = field(default_factory=list)  # the matched label in parts, True where a query word matched


def mark(text: str, tokens: list[str]) -> list[tuple[str, bool]]:
    """``text`` in parts, each marked when its word is one of the query's ``tokens`` (accents and case
    aside; the last token also as a prefix, as it is searched): what a results page highlights."""
    if not tokens:
        return [(text, False)] if text else []
    whole, last = set(tokens), tokens[-1]
    parts: list[tuple[str, bool]] = []
    at = 0
    for m in _WORD.finditer(text):
        word = normalise(m.group())
        hit = bool(word) and (word[0] in whole or (len(last) >= 2 and word[0].startswith(last)))
        if hit:
            if m.start() > at:
                parts.append((text[at:m.start()], False))
            parts.append((m.group(), True))
            at = m.end()
    if at < len(text):
        parts.append((text[at:], False))
    return parts


class SearchIndex:
    def __init__(self, store: Store, meta_graph: str) -> None:
        preds = " ".join(f"<{p}>" for p in FIELDS)
        self._results: OrderedDict[tuple, Any] = OrderedDict()
        self._results_lock = threading.Lock()
        self.labels: dict[str, dict[str, str]] = defaultdict(dict)  # iri → lang → pref label
        self.entries: list[tuple[str, str, float, int, str]] = []  # (iri, text, weight, token count, language)
        self.postings: dict[str, set[int]] = defaultdict(set)
        self.symbols: dict[str, str] = {}
        rows = store.select(f"SELECT ?s ?p ?l WHERE {{ VALUES ?p {{ {preds} }} GRAPH ?g {{ ?s ?p ?l }} "
                            f"FILTER (isIRI(?s) && isLiteral(?l) && ?g != <{meta_graph}>) }}", union=False)
        for r in rows:
            iri, pred, lit = r["s"].value, r["p"].value, r["l"]
            if pred == SKOS.prefLabel or (pred in (ELI.title, DCTERMS.title, RDFS_LABEL) and (lit.language or "") not in self.labels[iri]):
                self.labels[iri].setdefault(lit.language or "", lit.value)
            if pred == CHM.symbol:
                self.symbols[lit.value] = iri
            tokens = normalise(lit.value)
            if not tokens:
                continue
            i = len(self.entries)
            self.entries.append((iri, lit.value, FIELDS[pred], len(tokens), lit.language or ""))
            for t in set(tokens):
                self.postings[t].add(i)
        self.vocabulary = sorted(self.postings)
        # the label shown for each thing on an English page (the default), worked out once per index
        self.shown_en: dict[str, str] = {iri: self._label(iri, "en") for iri in self.labels}
        counts = {r["o"].value: int(r["n"].value) for r in store.select(IN_DEGREE, {"meta": ox.NamedNode(meta_graph)}, union=False)
                  if r["o"].value in self.labels}
        top = math.log1p(PRIOR_SATURATION)
        self.prior: dict[str, float] = {iri: PRIOR_WEIGHT * min(1.0, math.log1p(n) / top) for iri, n in counts.items()}
        self.types: dict[str, set[str]] = defaultdict(set)  # iri → classes (the type facet)
        typed = store.select(TYPES, {"meta": ox.NamedNode(meta_graph)}, union=False)
        for r in typed:
            if r["s"].value in self.labels:
                self.types[r["s"].value].add(r["c"].value)
        for iri, classes in self.types.items():
            boost = max((TYPE_BOOST.get(c, 0.0) for c in classes), default=0.0)
            if boost:
                self.prior[iri] = self.prior.get(iri, 0.0) + boost
        # facet values of the things that can be found: iri → facet → values
        self.facets: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        targets = {r["c"].value for r in store.select(TARGET_CONCEPTS, union=False)}
        for name, pred in FACETS.items():
            for r in store.select(FACET_VALUES, {"p": ox.NamedNode(pred), "meta": ox.NamedNode(meta_graph)}, union=False):
                iri, value = r["s"].value, r["v"].value
                if iri in self.labels:
                    self.facets[iri]["target" if name == "subject" and value in targets else name].add(value)

    def remembered(self, key: tuple, compute: Callable[[], T]) -> T:
        """``compute()``, kept for the ``RESULTS_KEPT`` most recent keys (a query result cache, as Solr's:
        it lives with the index, so a write, which builds a new index, drops it)."""
        with self._results_lock:
            if key in self._results:
                self._results.move_to_end(key)
                return self._results[key]
        value = compute()
        with self._results_lock:
            self._results[key] = value
            while len(self._results) > RESULTS_KEPT:
                self._results.popitem(last=False)
        return value

    def label(self, iri: str, lang: str) -> str:
        return self.shown_en.get(iri, iri) if lang == "en" else self._label(iri, lang)

    def _label(self, iri: str, lang: str) -> str:
        labels = self.labels.get(iri, {})
        return labels.get(lang) or labels.get("en") or labels.get("") or next(iter(labels.values()), iri)

    def _candidates(self, token: str, last: bool) -> set[int]:
        exact = self.postings.get(token, set())
        if not last or len(token) < 2:
            return exact
        # the token being typed: prefix matches too (bounded)
        out = set(exact)
        i = bisect.bisect_left(self.vocabulary, token)
        for word in self.vocabulary[i : i + 50]:
            if not word.startswith(token):
                break
            out |= self.postings[word]
        return out

    def search(self, query: str, lang: str, limit: int = 20) -> list[Hit]:
        """The best ``limit`` hits, best first (ties by label)."""
        scores: dict[str, float] = defaultdict(float)
        matched: dict[str, str] = {}
        matched_lang: dict[str, str] = {}
        try:
            symbol = parse_symbol(query).canonical
        except SymbolError:
            symbol = None
        if symbol and symbol in self.symbols:
            scores[self.symbols[symbol]] += 100.0
            matched[self.symbols[symbol]] = symbol
        tokens = normalise(query)
        if tokens:
            sets = [self._candidates(t, i == len(tokens) - 1) for i, t in enumerate(tokens)]
            sets.sort(key=len)
            common = set(sets[0])
            for s in sets[1:]:
                common &= s
                if not common:
                    break
            nt, entries = len(tokens), self.entries
            half = 0.5 * nt
            by_entity: dict[str, float] = {}
            seen = by_entity.get
            for i in common:
                iri, text, weight, n, text_lang = entries[i]
                # half for matching the whole query, half for how much of the label the query covers
                score = weight * (0.5 + half / (n if n > nt else nt))
                if n == nt and normalise(text) == tokens:  # the label is the query: "Article 18" before 18.1
                    score += 1.0
                # the best-scoring label is the one shown (ties: the page's language first)
                prev = seen(iri)
                if prev is None:
                    if score <= 0:
                        continue
                elif not (score > prev or (score == prev and text_lang == lang and matched_lang.get(iri) != lang)):
                    continue
                by_entity[iri] = score
                if iri not in matched or matched_lang.get(iri) is not None:
                    matched[iri] = text
                    matched_lang[iri] = text_lang
            prior = self.prior
            for iri, sc in by_entity.items():
                scores[iri] += sc + prior.get(iri, 0.0)
        # the best ``limit`` without ordering every match by label (a broad query matches tens of thousands at
        # 1M triples): the limit-th best score, then only what reaches it is ordered (ties by label)
        if len(scores) > limit:
            floor = sorted(scores.values(), reverse=True)[limit - 1]
            candidates = [kv for kv in scores.items() if kv[1] >= floor]
        else:
            candidates = list(scores.items())
        if lang == "en":
            shown = self.shown_en
            labels = {iri: shown.get(iri, iri) for iri, _ in candidates}
        else:  # once each: the sort's key and the hit's label
            labels = {iri: self._label(iri, lang) for iri, _ in candidates}
        ranked = sorted(candidates, key=lambda kv: (-kv[1], labels[kv[0]]))[:limit]
        return [Hit(iri, labels[iri], round(sc, 3), matched.get(iri, ""), matched_lang.get(iri, ""))
                for iri, sc in ranked]

    @staticmethod
    def marked(hits: list[Hit], query: str) -> list[Hit]:
        """The hits with their snippets marked (only for the page shown: marking is per word)."""
        tokens = normalise(query)
        for h in hits:
            h.snippet = mark(h.matched, tokens)
        return hits

