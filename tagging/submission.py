"""A submitted document, tagged and linked, into the graph.

:func:`analyse` runs parse → tag → extract references → resolve. :func:`submission_update` turns
the result into one SPARQL ``INSERT DATA`` over two graphs of their own:

- ``submission-<id>``: the record (title, language, format, file name, date, submitter, word count),
  its resolved references as ``dcterms:references`` and the unresolved ones as literals;
- ``suggestions-<id>``: one ``chm:Suggestion`` per suggested concept (score, rank, review status)
  with the tagging activity as provenance (tagger version, time).

The hub commits it through :func:`writes.update.apply_update`, so the record passes the shapes
before anything is written and a failing submission leaves the store as it was. The editors'
review of the suggestions is :mod:`tagging.review`.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox

from ontology import CHM, DCTERMS, PROV, RDF, SKOS, XSD
from ontology.errors import ChmError
from ontology.iris import Minter
from sparql.builder import Update, iri, literal, prefixed
from sparql.store import Store
from tagging.documents import Document
from tagging.references import Reference, Resolver, extract_references
from tagging.tagger import TAGGER_VERSION, LabelEntry, Suggestion, Tagger, Vocabulary

LABELS = {SKOS.prefLabel: "pref", SKOS.altLabel: "alt", SKOS.hiddenLabel: "hidden"}
KNOWN_TYPES = (CHM.Decision, CHM.DecisionParagraph, CHM.Article, CHM.ArticleParagraph, CHM.Meeting, SKOS.Concept)
NOT_VOCABULARIES = ("thesaurus-mappings", "thesaurus-suggestions")


class AlreadySubmitted(ChmError):
    code = "E606"
    http_status = 409


def tagging_graphs(store: Store, minter: Minter, schemes: list[str] | None = None) -> list[str]:
    """The graphs whose concepts the tagger uses: the named ``thesaurus-*`` graphs, or all of them."""
    prefix = minter.graph("thesaurus-")
    present = [g for g in store.named_graphs() if g.startswith(prefix)]
    if schemes:
        wanted = [minter.graph(s if s.startswith("thesaurus-") else f"thesaurus-{s}") for s in schemes]
        missing = [w for w in wanted if w not in present]
        if missing:
            raise ChmError(f"no vocabulary graph {', '.join(missing)}; import it with `chmkg thesaurus import`")
        return wanted
    return [g for g in present if not g.endswith(NOT_VOCABULARIES)]


VOCAB_LABELS = prefixed("SELECT ?c ?l ?g ?label WHERE { GRAPH ?g { ?c ?label ?l . ?c a skos:Concept } }")
VOCAB_BROADER = prefixed("SELECT ?c ?b ?g WHERE { GRAPH ?g { ?c skos:broader ?b } }")
INSTANCES = "SELECT DISTINCT ?s ?type WHERE { ?s a ?type }"


def load_vocabulary(store: Store, graphs: list[str]) -> Vocabulary:
    """Labels per language and the broader hierarchy of the concepts in ``graphs``."""
    labels: dict[str, list[LabelEntry]] = {}
    pref: dict[tuple[str, str], str] = {}
    broader: dict[str, set[str]] = {}
    for g in graphs:
        graph = iri(g, "vocabulary graph")
        for predicate, kind in LABELS.items():
            rows = store.select(VOCAB_LABELS, {"g": graph, "label": ox.NamedNode(predicate)}, union=False)
            for r in rows:
                lit = r["l"]
                lang = (getattr(lit, "language", None) or "").split("-")[0]
                if not lang:
                    continue
                labels.setdefault(lang, []).append(LabelEntry(r["c"].value, lit.value, kind))
                if kind == "pref":
                    pref.setdefault((r["c"].value, lang), lit.value)
        for r in store.select(VOCAB_BROADER, {"g": graph}, union=False):
            if r["c"].value != r["b"].value:
                broader.setdefault(r["c"].value, set()).add(r["b"].value)
    return Vocabulary(labels, pref, broader)


def known_iris(store: Store) -> set[str]:
    """Every decision, paragraph, article, meeting and concept the store describes."""
    out: set[str] = set()
    for t in KNOWN_TYPES:
        out.update(r["s"].value for r in store.select(INSTANCES, {"type": ox.NamedNode(t)}))
    return out


@dataclass
class Analysis:
    document: Document
    suggestions: list[Suggestion]
    references: list[Reference]
    words: int
    seconds: float
    id: str = ""
    tagger_version: str = TAGGER_VERSION

    def to_dict(self) -> dict:
        d = self.document
        return {
            "id": self.id, "title": d.title, "language": d.language, "language_detected": d.language_detected,
            "format": d.format, "filename": d.filename, "bytes": d.size, "words": self.words, "seconds": round(self.seconds, 4),
            "tagger_version": self.tagger_version,
            "suggestions": [s.to_dict() for s in self.suggestions],
            "references": [{k: v for k, v in asdict(r).items() if k != "parts"} for r in self.references],
        }


def document_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def analyse(doc: Document, tagger: Tagger, resolver: Resolver, limit: int = 15, data: bytes | None = None) -> Analysis:
    t0 = time.perf_counter()
    suggestions = tagger.suggest(doc.text, doc.language, title=doc.title, limit=limit)
    references = resolver.resolve(extract_references(doc.text))
    words = len(re.findall(r"\w+", doc.text))
    return Analysis(doc, suggestions, references, words, time.perf_counter() - t0,
                    document_id(data if data is not None else doc.text.encode()),
                    getattr(tagger, "version_label", TAGGER_VERSION))


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    return literal(value, lang=lang, datatype=datatype)


def _n(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


@dataclass
class SubmissionGraphs:
    record: str
    record_graph: str
    suggestions_graph: str
    update: Update  # ground INSERT DATA: applied without a staged copy of the store
    links: list[str] = field(default_factory=list)


def submission_update(a: Analysis, minter: Minter, submitter: str, now: datetime | None = None) -> SubmissionGraphs:
    """The one INSERT DATA that puts a submission into the graph (record + suggestions)."""
    now = now or datetime.now(UTC)
    stamp = _lit(now.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    d = a.document
    record_iri = minter.record(f"submission-{a.id}")
    record = iri(record_iri, "record")
    rg, sg = minter.graph(f"submission-{a.id}"), minter.graph(f"suggestions-{a.id}")
    links = sorted({r.iri for r in a.references if r.iri})
    unresolved = sorted({r.key for r in a.references if not r.iri})
    rec = [(record, _n(RDF.type), _n(CHM.Record)),
           (record, _n(DCTERMS.title), _lit(d.title, d.language)),
           (record, _n(SKOS.prefLabel), _lit(d.title, d.language)),
           (record, _n(DCTERMS.language), _lit(d.language)),
           (record, _n(DCTERMS.format), _lit(d.format)),
           (record, _n(CHM.fileName), _lit(d.filename)),
           (record, _n(DCTERMS.identifier), _lit("submission-" + a.id)),
           (record, _n(DCTERMS.issued), stamp),
           (record, _n(DCTERMS.contributor), _lit(submitter)),
           (record, _n(CHM.recordSchema), _lit("submission")),
           (record, _n(CHM.wordCount), _lit(str(a.words), datatype=XSD.integer))]
    rec += [(record, _n(DCTERMS.references), iri(link, "reference")) for link in links]
    rec += [(record, _n(CHM.unresolvedReference), _lit(key)) for key in unresolved]
    activity = iri(record_iri + "/tagging")
    tool = iri(minter.tool("chmkg-tagger"))
    sug = [(activity, _n(RDF.type), _n(PROV.Activity)),
           (activity, _n(PROV.used), record),
           (activity, _n(PROV.wasAssociatedWith), tool),
           (activity, _n(CHM.taggerVersion), _lit(a.tagger_version)),
           (activity, _n(PROV.endedAtTime), stamp),
           (tool, _n(RDF.type), _n(PROV.SoftwareAgent)),
           (tool, _n(SKOS.prefLabel), _lit("CHM KG concept tagger", "en"))]
    for i, s in enumerate(a.suggestions, start=1):
        node = iri(f"{record_iri}/suggestion/{i}")
        sug += [(node, _n(RDF.type), _n(CHM.Suggestion)),
                (node, _n(CHM.suggestedFor), record),
                (node, _n(CHM.suggestedConcept), iri(s.concept, "suggested concept")),
                (node, _n(CHM.score), _lit(f"{s.score:.4f}", datatype=XSD.decimal)),
                (node, _n(CHM.rank), _lit(str(i), datatype=XSD.integer)),
                (node, _n(CHM.reviewStatus), _lit("pending")),
                (node, _n(PROV.wasGeneratedBy), activity)]
    update = Update().insert_data(iri(rg), rec)
    if a.suggestions:
        update.insert_data(iri(sg), sug)
    return SubmissionGraphs(record_iri, rg, sg, update, links)
