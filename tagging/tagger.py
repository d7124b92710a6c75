"""Suggest thesaurus concepts for a text: spaCy blank pipelines, lookup lemmas, a PhraseMatcher.

Per language: ``spacy.blank(lang)`` → ``chmkg_lookup_lemmas`` (case-folded lemmas from
spacy-lookups-data, assigned in one array operation per document) → ``chmkg_concept_tagger`` (a
PhraseMatcher on ``LEMMA`` over the pref, alt and hidden labels of the chosen schemes, longest
match wins). Both are registered spaCy factories, so any pipeline can reuse them::

    nlp = spacy.blank("en")
    nlp.add_pipe("chmkg_lookup_lemmas")
    tagger = nlp.add_pipe("chmkg_concept_tagger")
    tagger.add_labels(nlp, [LabelEntry("urn:c:1", "protected area", "pref")])
    nlp("Marine Protected Areas")._.chmkg_concepts   # → [(concept, start, end), …]

Ranking (:func:`rank`) weighs, per concept: how often it occurs (1 + ln n), where it first occurs
(the title and the opening count more), how specific the matched label is (longer labels, preferred
labels, labels shared by fewer concepts) and the hierarchy (deeper concepts score a little more, and
a concept gains part of the score of its matched narrower concepts). Scores are squashed into 0…1.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import spacy
from spacy.attrs import LEMMA, ORTH
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

log = logging.getLogger(__name__)

TAGGER_VERSION = "1.2.1"
KIND_WEIGHT = {"pref": 1.0, "alt": 0.85, "hidden": 0.7}
# Spellings the Convention's texts use for a word thesaurus labels spell the other way: a label with
# one is also matched with the other ("forest biodiversity" in "forest biological diversity").
SPELLINGS = {
    "en": (("biodiversity", "biological diversity"),),
    "fr": (("biodiversité", "diversité biologique"),),
    "es": (("biodiversidad", "diversidad biológica"),),
}

if not Doc.has_extension("chmkg_concepts"):
    Doc.set_extension("chmkg_concepts", default=None)


@dataclass(frozen=True)
class LabelEntry:
    concept: str
    label: str
    kind: str = "pref"  # pref | alt | hidden


@dataclass
class Suggestion:
    concept: str
    label: str  # the concept's preferred label in the document's language (or the matched label)
    score: float
    count: int
    first: int  # character offset of the first occurrence
    matched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


_STOPS: dict[str, frozenset[str]] = {}


def stop_words(lang: str) -> frozenset[str]:
    """spaCy's stop words for ``lang``, read from its ``stop_words.py`` alone (importing the language
    package would load its tokenizer exceptions too: seconds for French); empty when there is none."""
    if lang not in _STOPS:
        import importlib.util

        import spacy as _spacy

        path = Path(_spacy.__file__).parent / "lang" / lang / "stop_words.py"
        words: frozenset[str] = frozenset()
        if path.is_file():
            spec = importlib.util.spec_from_file_location(f"_chmkg_stop_words_{lang}", path)
            if spec and spec.loader:
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                words = frozenset(w.casefold() for w in getattr(module, "STOP_WORDS", ()))
        _STOPS[lang] = words
    return _STOPS[lang]


HYPHENS = frozenset({"-", "\u2010", "\u2011"})
_TABLES: dict[tuple[str, str], dict] = {}
_TABLES_LOCK = threading.Lock()


def lookup_table(lang: str, table: str) -> dict:
    """A table of spacy-lookups-data as a plain dict, read once per process (spaCy's own Table hashes
    every key again on load: seconds for the lemma tables of three languages)."""
    with _TABLES_LOCK:
        if (lang, table) not in _TABLES:
            from spacy.util import load_language_data, registry

            files = registry.lookups.get(lang) if lang in registry.lookups else {}
            if table not in files:
                raise ValueError(f"spacy-lookups-data has no {table} table for {lang!r}")
            _TABLES[(lang, table)] = dict(load_language_data(files[table]))
        return _TABLES[(lang, table)]


@Language.factory("chmkg_lookup_lemmas", default_config={"table": "lemma_lookup"})
def make_lookup_lemmas(nlp: Language, name: str, table: str) -> LookupLemmas:
    return LookupLemmas(nlp, table)


class LookupLemmas:
    """Case-folded lookup lemmas; each distinct token form is looked up once per process."""

    def __init__(self, nlp: Language, table: str) -> None:
        self.vocab = nlp.vocab
        self.table = lookup_table(nlp.lang, table)
        self._cache: dict[int, int] = {}
        self._lock = threading.Lock()

    def _lemma(self, orth: int) -> int:
        text = self.vocab.strings[orth].lower()
        if text in HYPHENS:  # "clearing‑house" (a non-breaking hyphen, as Word writes it) is "clearing-house"
            return self.vocab.strings.add("-")
        lemma = self.table.get(text, text)
        if isinstance(lemma, list):  # some tables list several lemmas for a form: take the first
            lemma = lemma[0] if lemma else text
        return self.vocab.strings.add(str(lemma))

    def __call__(self, doc: Doc) -> Doc:
        if not len(doc):
            return doc
        orths = doc.to_array([ORTH]).astype(np.uint64, copy=False).ravel()
        unique, inverse = np.unique(orths, return_inverse=True)
        cache = self._cache
        missing = [int(o) for o in unique if int(o) not in cache]
        if missing:
            with self._lock:
                for o in missing:
                    cache[o] = self._lemma(o)
        lemmas = np.fromiter((cache[int(o)] for o in unique), dtype=np.uint64, count=len(unique))[inverse]
        doc.from_array([LEMMA], lemmas.reshape(-1, 1))
        return doc


@Language.factory("chmkg_concept_tagger", default_config={"version": TAGGER_VERSION, "min_label_chars": 3})
def make_concept_tagger(nlp: Language, name: str, version: str, min_label_chars: int) -> ConceptTagger:
    return ConceptTagger(nlp, version, min_label_chars)


class ConceptTagger:
    """PhraseMatcher over lemmatised labels; sets ``doc._.chmkg_concepts`` to (concept, start, end)."""

    def __init__(self, nlp: Language, version: str = TAGGER_VERSION, min_label_chars: int = 3) -> None:
        if version.split(".")[0] != TAGGER_VERSION.split(".")[0]:
            raise ValueError(f"chmkg_concept_tagger {version} is not compatible with {TAGGER_VERSION}")
        self.vocab = nlp.vocab
        self.version = version
        self.min_label_chars = min_label_chars
        self.matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        self.entries: list[LabelEntry] = []
        self.lemmas: list[list[str]] = []
        self.weights: list[float] = []  # label specificity from word rarity (see rarity_weight)
        self.keys: dict[int, list[int]] = {}  # match id (the lemmas) → entry indexes

    def add_labels(self, nlp: Language, entries: Iterable[LabelEntry]) -> None:
        """Lemmatise each label with the pipeline's components before this one, then add it."""
        before = []
        for _name, proc in nlp.pipeline:
            if proc is self:
                break
            before.append(proc)
        stops = stop_words(nlp.lang)
        for entry in entries:
            if len(entry.label.strip()) < self.min_label_chars:
                continue
            if entry.label.strip().casefold() in stops:  # French GEMET "son" (sound) is also "his": never a subject
                continue
            forms = [entry.label]
            words = entry.label.split()
            if 1 < len(words) <= 3:  # "capacity building" is also written "capacity-building"
                forms.append("-".join(words))
            if re.search(r"\w-\w", entry.label):  # and "clearing-house" "clearing house"
                forms.append(re.sub(r"(?<=\w)-(?=\w)", " ", entry.label))
            low = entry.label.casefold()
            for a, b in SPELLINGS.get(nlp.lang, ()):
                for x, y in ((a, b), (b, a)):
                    if x in low and (x != b or a not in low):
                        forms.append(low.replace(x, y))
            for form in forms:
                doc = nlp.make_doc(form)
                for proc in before:
                    doc = proc(doc)
                self._add(entry, [t.lemma_ for t in doc], rarity_weight(nlp.lang, [t.lower_ for t in doc if not t.is_punct]))

    def _add(self, entry: LabelEntry, lemmas: list[str], weight: float = 1.0) -> None:
        if not lemmas:
            return
        index = len(self.entries)
        self.entries.append(entry)
        self.lemmas.append(lemmas)
        self.weights.append(weight)
        key = " ".join(lemmas)  # labels with the same lemmas share one pattern
        match_id = self.vocab.strings.add(key)
        if match_id in self.keys:
            self.keys[match_id].append(index)
            return
        self.keys[match_id] = [index]
        self.matcher.add(key, [Doc(self.vocab, words=lemmas, lemmas=lemmas)])

    def __call__(self, doc: Doc) -> Doc:
        spans = sorted(self.matcher(doc), key=lambda m: (m[1], -(m[2] - m[1])))
        out, end = [], -1
        for match_id, start, stop in spans:  # longest leftmost: "marine protected area" over "protected area"
            if start < end:
                continue
            end = stop
            for i in self.keys[match_id]:
                out.append((self.entries[i].concept, start, stop, i))
        doc._.chmkg_concepts = out
        return doc

    # serialisation: the labels and their lemmas travel with the component
    def to_bytes(self, *, exclude: Iterable[str] = ()) -> bytes:
        return json.dumps({"version": self.version, "entries": [asdict(e) for e in self.entries],
                           "lemmas": self.lemmas, "weights": self.weights}).encode()

    def from_bytes(self, data: bytes, *, exclude: Iterable[str] = ()) -> ConceptTagger:
        payload = json.loads(data)
        if payload["version"].split(".")[0] != TAGGER_VERSION.split(".")[0]:
            raise ValueError(f"saved tagger {payload['version']} is not compatible with {TAGGER_VERSION}")
        self.matcher = PhraseMatcher(self.vocab, attr="LEMMA")
        self.entries, self.lemmas, self.weights, self.keys = [], [], [], {}
        for entry, lemmas, weight in zip(payload["entries"], payload["lemmas"], payload["weights"]):
            self._add(LabelEntry(**entry), lemmas, weight)
        return self

    def to_disk(self, path, *, exclude: Iterable[str] = ()) -> None:
        Path(path).mkdir(parents=True, exist_ok=True)
        (Path(path) / "labels.json").write_bytes(self.to_bytes())

    def from_disk(self, path, *, exclude: Iterable[str] = ()) -> ConceptTagger:
        return self.from_bytes((Path(path) / "labels.json").read_bytes())


_PROBS: dict[str, Any] = {}


def rarity_weight(lang: str, words: list[str]) -> float:
    """How specific a label is by the rarity of its words (spacy-lookups-data ``lexeme_prob``).

    The summed log-probability of the words: a common single word ("lead", "party", -9) weighs
    0.15–0.3, a rare word or a phrase ("biodiversity", "information exchange") 1. Languages without
    a probability table weigh every label 1.
    """
    if lang not in _PROBS:
        try:
            _PROBS[lang] = lookup_table(lang, "lexeme_prob")
        except (ValueError, KeyError):
            _PROBS[lang] = None
    probs = _PROBS[lang]
    if not probs or not words:
        return 1.0
    rarity = -sum(probs.get(w, -20.0) for w in words)
    return round(min(1.0, max(0.15, (rarity - 8.0) / 8.0)), 3)


_PREFIX = re.compile(r"""^[\(\[\{"'“‘«¿¡*•§#]""")
_SUFFIX = re.compile(r"""(?:[\)\]\}"'”’».,;:!?%*]|['’]s)$""")
_INFIX = re.compile(r"""(?<=\w)[-‐‑–—/](?=\w)|(?<=\w)[,;:](?=\w)|(?<=\b[cdjlmnstCDJLMNST])['’](?=\w)|(?<=\b[Qq]u)['’](?=\w)""")


@spacy.registry.tokenizers("chmkg.simple_tokenizer.v1")
def create_simple_tokenizer():
    """A tokenizer for matching labels, not for parsing: punctuation off the ends of words, hyphens,
    slashes and French elisions (l', d', qu') split inside them. The same rules cut the labels and the
    texts, so "capacity-building" still meets "capacity building"; about ten times faster on long
    documents than the language defaults, whose extra rules matter for parsers, not for phrase lookup."""
    def make(nlp: Language) -> Tokenizer:
        return Tokenizer(nlp.vocab, prefix_search=_PREFIX.search, suffix_search=_SUFFIX.search,
                         infix_finditer=_INFIX.finditer, url_match=None)
    return make


_LANGUAGES: dict[str, type[Language]] = {}


def _language(lang: str) -> type[Language]:
    """A bare Language class for ``lang``: the tagger brings its own tokenizer and lemma tables, so
    spaCy's language modules (French tokenizer exceptions alone take seconds to import) are not needed."""
    from spacy.language import BaseDefaults

    if lang not in _LANGUAGES:
        _LANGUAGES[lang] = type(f"Chmkg{lang.capitalize()}", (Language,), {"lang": lang, "Defaults": BaseDefaults})
    return _LANGUAGES[lang]


def build_pipeline(lang: str, entries: Iterable[LabelEntry]) -> Language:
    nlp = _language(lang).from_config({"nlp": {"lang": lang, "tokenizer": {"@tokenizers": "chmkg.simple_tokenizer.v1"}}})
    nlp.max_length = 50_000_000
    nlp.add_pipe("chmkg_lookup_lemmas")
    tagger = nlp.add_pipe("chmkg_concept_tagger")
    tagger.add_labels(nlp, entries)
    return nlp


@dataclass
class Vocabulary:
    """What ranking needs to know about the concepts: labels per language and the hierarchy."""

    labels: dict[str, list[LabelEntry]]  # lang → entries
    pref: dict[tuple[str, str], str]  # (concept, lang) → preferred label
    broader: dict[str, set[str]]
    depth: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.depth:
            self.depth = _depths(self.broader)


def _depths(broader: dict[str, set[str]]) -> dict[str, int]:
    depth: dict[str, int] = {}

    def walk(c: str, seen: frozenset[str]) -> int:
        if c in depth:
            return depth[c]
        parents = [b for b in broader.get(c, ()) if b not in seen]
        d = 0 if not parents else 1 + max(walk(b, seen | {c}) for b in parents)
        depth[c] = min(d, 10)
        return depth[c]

    for c in list(broader):
        walk(c, frozenset())
    return depth


def rank(doc: Doc, vocab: Vocabulary, lang: str, title_chars: int = 0, limit: int = 20,
         entries: list[LabelEntry] | None = None, weights: list[float] | None = None,
         only: set[str] | None = None) -> list[Suggestion]:
    """Ranked suggestions from a tagged document (see the module docstring for the weights);
    ``only``: rank these concepts alone, as a tagger over their vocabulary would."""
    matches = doc._.chmkg_concepts or []
    if only is not None:
        matches = [m for m in matches if m[0] in only]
    if not matches:
        return []
    entries = entries if entries is not None else []
    weights = weights if weights is not None else [1.0] * len(entries)
    seen_labels: dict[str, set[str]] = defaultdict(set)
    for concept, _s, _e, i in matches:
        seen_labels[entries[i].label.casefold()].add(concept)
    n_tokens = max(len(doc), 1)
    per: dict[str, dict] = {}
    ambiguity = {label: len(concepts) for label, concepts in seen_labels.items()}
    for concept, start, stop, i in matches:  # in text order: the first match of a concept is its first occurrence
        slot = per.get(concept)
        if slot is None:
            offset = doc[start].idx
            slot = per[concept] = {"count": 0, "first": offset, "first_tok": start, "spec": 0.0, "entries": set(),
                                   "spans": [], "title": offset < title_chars}
        slot["count"] += 1
        if i not in slot["entries"]:
            e = entries[i]
            slot["entries"].add(i)
            spec = (1.0 + 0.35 * (stop - start - 1)) * KIND_WEIGHT.get(e.kind, 0.7) * weights[i] / ambiguity[e.label.casefold()]
            slot["spec"] = max(slot["spec"], spec)
        if len(slot["spans"]) < 3:
            slot["spans"].append((start, stop))
    for slot in per.values():
        slot["matched"] = {doc[a:b].text for a, b in slot["spans"]}
    base: dict[str, float] = {}
    for concept, s in per.items():
        position = 1.0 + 0.5 * (1.0 - s["first_tok"] / n_tokens) + (0.75 if s["title"] else 0.0)
        depth = 1.0 + 0.1 * min(vocab.depth.get(concept, 0), 3)
        base[concept] = (1.0 + math.log(s["count"])) * position * s["spec"] * depth
    scores = dict(base)
    for concept, value in base.items():  # a concept is supported by its matched narrower concepts
        for parent in vocab.broader.get(concept, ()):
            if parent in scores:
                scores[parent] += 0.3 * value
    out = [Suggestion(c, vocab.pref.get((c, lang)) or vocab.pref.get((c, "en")) or min(per[c]["matched"]),
                      round(v / (v + 2.0), 4), per[c]["count"], per[c]["first"], sorted(per[c]["matched"]))
           for c, v in scores.items()]
    out.sort(key=lambda s: (-s.score, s.first, s.concept))
    # the same label in several schemes (InforMEA, ECOLEX, GEMET) is one suggestion: the best-scored
    # concept stands for it, so alternatives from other schemes do not crowd the top k
    seen: set[str] = set()
    unique = []
    for s in out:
        key = s.label.casefold()
        if key not in seen:
            seen.add(key)
            unique.append(s)
    return unique[:limit]


class Tagger:
    """Pipelines per language over one :class:`Vocabulary`, built on first use (thread-safe)."""

    def __init__(self, vocab: Vocabulary, cache: Path | None = None, key: str = "") -> None:
        """``cache``: a folder where the built label patterns are kept under ``key`` (which names the
        vocabularies' state), so a restarted hub loads them instead of lemmatising every label again."""
        self.vocab = vocab
        self._nlp: dict[str, Language] = {}
        self._lock = threading.Lock()
        self._locks: dict[str, threading.Lock] = {}
        self.cache, self.key = (Path(cache), key) if cache is not None and key else (None, "")

    def pipeline(self, lang: str) -> Language:
        nlp = self._nlp.get(lang)
        if nlp is not None:
            return nlp
        with self._lock:  # one lock per language: English is not kept waiting while French is built
            lock = self._locks.setdefault(lang, threading.Lock())
        with lock:
            nlp = self._nlp.get(lang)
            if nlp is None:
                nlp = self._nlp[lang] = self._cached(lang) or self._build(lang)
            return nlp

    def _cached(self, lang: str) -> Language | None:
        if self.cache is None:
            return None
        path = self.cache / f"{self.key}-{lang}.json"
        if not path.is_file():
            return None
        try:
            nlp = build_pipeline(lang, [])
            nlp.get_pipe("chmkg_concept_tagger").from_bytes(path.read_bytes())
            return nlp
        except (OSError, ValueError, KeyError, TypeError) as e:
            log.info("tagger cache %s not used: %s", path, e)
            return None

    def _build(self, lang: str) -> Language:
        nlp = build_pipeline(lang, self.vocab.labels.get(lang, []))
        if self.cache is not None:
            try:
                self.cache.mkdir(parents=True, exist_ok=True)
                for old in self.cache.glob(f"*-{lang}.json"):  # patterns of vocabularies as they were
                    if not old.name.startswith(self.key + "-"):
                        old.unlink(missing_ok=True)
                tmp = self.cache / f"{self.key}-{lang}.json.tmp"
                tmp.write_bytes(nlp.get_pipe("chmkg_concept_tagger").to_bytes())
                tmp.replace(self.cache / f"{self.key}-{lang}.json")
            except OSError as e:
                log.info("tagger cache not written: %s", e)
        return nlp

    def analyse(self, text: str, lang: str, title: str = "") -> tuple[Doc, int]:
        """The text (after its title, when the text does not start with it) through the pipeline, and
        the length of the title part."""
        head = f"{title}\n\n" if title and not text.startswith(title) else ""
        return self.pipeline(lang)(head + text), len(head) or len(title)

    def rank_doc(self, doc: Doc, lang: str, title_chars: int, limit: int = 20, only: set[str] | None = None) -> list[Suggestion]:
        tagger = self.pipeline(lang).get_pipe("chmkg_concept_tagger")
        return rank(doc, self.vocab, lang, title_chars=title_chars, limit=limit, entries=tagger.entries,
                    weights=tagger.weights, only=only)

    def suggest(self, text: str, lang: str, title: str = "", limit: int = 20) -> list[Suggestion]:
        doc, title_chars = self.analyse(text, lang, title)
        return self.rank_doc(doc, lang, title_chars, limit)
