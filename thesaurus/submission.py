"""A submitted document, tagged and linked, into the graph — and the editors' review of its suggestions.

:func:`analyse` runs parse → tag → extract references → resolve. :func:`submission_update` turns
the result into one SPARQL ``INSERT DATA`` over two graphs of their own:

- ``submission-<id>``: the record (title, language, format, file name, date, submitter, word count),
  its resolved references as ``dcterms:references`` and the unresolved ones as literals;
- ``suggestions-<id>``: one ``chm:Suggestion`` per suggested concept (score, rank, review status)
  with the tagging activity as provenance (tagger version, time).

The hub commits it through :func:`loaders.update.apply_update`, so the record passes the shapes
before anything is written and a failing submission leaves the store as it was. Review
(:func:`review_update`) accepts a suggestion (it becomes ``dcterms:subject`` of the record),
rejects it, or adds a subject the tagger missed.
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
from sparql.store import Store
from thesaurus.documents import Document
from thesaurus.references import Reference, Resolver, extract_references
from thesaurus.tagger import TAGGER_VERSION, LabelEntry, Suggestion, Tagger, Vocabulary

LABELS = {SKOS.prefLabel: "pref", SKOS.altLabel: "alt", SKOS.hiddenLabel: "hidden"}
KNOWN_TYPES = (CHM.Decision, CHM.DecisionParagraph, CHM.Article, CHM.ArticleParagraph, CHM.Meeting, SKOS.Concept)
NOT_VOCABULARIES = ("thesaurus-mappings", "thesaurus-suggestions")


class AlreadySubmitted(ChmError):
    code = "E606"
    http_status = 409


class ReviewError(ChmError):
    code = "E607"
    http_status = 404


class StaleReview(ChmError):
    code = "E608"
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


def load_vocabulary(store: Store, graphs: list[str]) -> Vocabulary:
    """Labels per language and the broader hierarchy of the concepts in ``graphs``."""
    labels: dict[str, list[LabelEntry]] = {}
    pref: dict[tuple[str, str], str] = {}
    broader: dict[str, set[str]] = {}
    for g in graphs:
        for predicate, kind in LABELS.items():
            rows = store.select(f"SELECT ?c ?l WHERE {{ GRAPH <{g}> {{ ?c <{predicate}> ?l . ?c a <{SKOS.Concept}> }} }}", union=False)
            for r in rows:
                lit = r["l"]
                lang = (getattr(lit, "language", None) or "").split("-")[0]
                if not lang:
                    continue
                labels.setdefault(lang, []).append(LabelEntry(r["c"].value, lit.value, kind))
                if kind == "pref":
                    pref.setdefault((r["c"].value, lang), lit.value)
        for r in store.select(f"SELECT ?c ?b WHERE {{ GRAPH <{g}> {{ ?c <{SKOS.broader}> ?b }} }}", union=False):
            if r["c"].value != r["b"].value:
                broader.setdefault(r["c"].value, set()).add(r["b"].value)
    return Vocabulary(labels, pref, broader)


def known_iris(store: Store) -> set[str]:
    """Every decision, paragraph, article, meeting and concept the store describes."""
    out: set[str] = set()
    for t in KNOWN_TYPES:
        out.update(r["s"].value for r in store.select(f"SELECT DISTINCT ?s WHERE {{ ?s a <{t}> }}"))
    return out


@dataclass
class Analysis:
    document: Document
    suggestions: list[Suggestion]
    references: list[Reference]
    words: int
    seconds: float
    id: str = ""

    def to_dict(self) -> dict:
        d = self.document
        return {
            "id": self.id, "title": d.title, "language": d.language, "language_detected": d.language_detected,
            "format": d.format, "filename": d.filename, "bytes": d.size, "words": self.words, "seconds": round(self.seconds, 4),
            "tagger_version": TAGGER_VERSION,
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
                    document_id(data if data is not None else doc.text.encode()))


def _lit(value: str, lang: str | None = None, datatype: str | None = None) -> str:
    if lang:
        return str(ox.Literal(value, language=lang))
    if datatype:
        return str(ox.Literal(value, datatype=ox.NamedNode(datatype)))
    return str(ox.Literal(value))


@dataclass
class SubmissionGraphs:
    record: str
    record_graph: str
    suggestions_graph: str
    update: str
    links: list[str] = field(default_factory=list)


def submission_update(a: Analysis, minter: Minter, submitter: str, now: datetime | None = None) -> SubmissionGraphs:
    """The one INSERT DATA that puts a submission into the graph (record + suggestions)."""
    now = now or datetime.now(UTC)
    stamp = _lit(now.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    d = a.document
    record = minter.record(f"submission-{a.id}")
    rg, sg = minter.graph(f"submission-{a.id}"), minter.graph(f"suggestions-{a.id}")
    links = sorted({r.iri for r in a.references if r.iri})
    unresolved = sorted({r.key for r in a.references if not r.iri})
    rec = [f"<{record}> <{RDF.type}> <{CHM.Record}>",
           f"<{record}> <{DCTERMS.title}> {_lit(d.title, d.language)}",
           f"<{record}> <{SKOS.prefLabel}> {_lit(d.title, d.language)}",
           f"<{record}> <{DCTERMS.language}> {_lit(d.language)}",
           f"<{record}> <{DCTERMS.format}> {_lit(d.format)}",
           f"<{record}> <{CHM.fileName}> {_lit(d.filename)}",
           f"<{record}> <{DCTERMS.identifier}> {_lit('submission-' + a.id)}",
           f"<{record}> <{DCTERMS.issued}> {stamp}",
           f"<{record}> <{DCTERMS.contributor}> {_lit(submitter)}",
           f"<{record}> <{CHM.recordSchema}> {_lit('submission')}",
           f"<{record}> <{CHM.wordCount}> {_lit(str(a.words), datatype=XSD.integer)}"]
    rec += [f"<{record}> <{DCTERMS.references}> <{iri}>" for iri in links]
    rec += [f"<{record}> <{CHM.unresolvedReference}> {_lit(key)}" for key in unresolved]
    activity = record + "/tagging"
    tool = minter.tool("chmkg-tagger")
    sug = [f"<{activity}> <{RDF.type}> <{PROV.Activity}>",
           f"<{activity}> <{PROV.used}> <{record}>",
           f"<{activity}> <{PROV.wasAssociatedWith}> <{tool}>",
           f"<{activity}> <{CHM.taggerVersion}> {_lit(TAGGER_VERSION)}",
           f"<{activity}> <{PROV.endedAtTime}> {stamp}",
           f"<{tool}> <{RDF.type}> <{PROV.SoftwareAgent}>",
           f"<{tool}> <{SKOS.prefLabel}> {_lit('CHM KG concept tagger', 'en')}"]
    for i, s in enumerate(a.suggestions, start=1):
        node = f"{record}/suggestion/{i}"
        sug += [f"<{node}> <{RDF.type}> <{CHM.Suggestion}>",
                f"<{node}> <{CHM.suggestedFor}> <{record}>",
                f"<{node}> <{CHM.suggestedConcept}> <{s.concept}>",
                f"<{node}> <{CHM.score}> {_lit(f'{s.score:.4f}', datatype=XSD.decimal)}",
                f"<{node}> <{CHM.rank}> {_lit(str(i), datatype=XSD.integer)}",
                f"<{node}> <{CHM.reviewStatus}> {_lit('pending')}",
                f"<{node}> <{PROV.wasGeneratedBy}> <{activity}>"]
    body = f"INSERT DATA {{ GRAPH <{rg}> {{ " + " .\n".join(rec) + " . } }"
    if a.suggestions:
        body += f" ;\nINSERT DATA {{ GRAPH <{sg}> {{ " + " .\n".join(sug) + " . } }"
    return SubmissionGraphs(record, rg, sg, body, links)


def review_update(store: Store, suggestion: str, action: str, reviewer: str, now: datetime | None = None) -> str:
    """accept → the concept becomes dcterms:subject of the record; reject → marked rejected."""
    if action not in ("accept", "reject"):
        raise ReviewError(f"unknown review action {action!r} (accept or reject)")
    rows = store.select(
        f"SELECT ?g ?r ?c ?st WHERE {{ GRAPH ?g {{ <{suggestion}> <{CHM.suggestedFor}> ?r ; "
        f"<{CHM.suggestedConcept}> ?c ; <{CHM.reviewStatus}> ?st }} }}", union=False)
    if not rows:
        raise ReviewError(f"no suggestion <{suggestion}>")
    g, record, concept, status = rows[0]["g"].value, rows[0]["r"].value, rows[0]["c"].value, rows[0]["st"].value
    if status != "pending":
        raise StaleReview(f"the suggestion was already {status} by another editor; reload the queue")
    stamp = _lit((now or datetime.now(UTC)).isoformat(timespec="seconds"), datatype=XSD.dateTime)
    new = "accepted" if action == "accept" else "rejected"
    parts = [f"DELETE DATA {{ GRAPH <{g}> {{ <{suggestion}> <{CHM.reviewStatus}> {_lit('pending')} }} }}",
             f"INSERT DATA {{ GRAPH <{g}> {{ <{suggestion}> <{CHM.reviewStatus}> {_lit(new)} ; "
             f"<{DCTERMS.contributor}> {_lit(reviewer)} ; <{DCTERMS.modified}> {stamp} }} }}"]
    if action == "accept":
        parts.append(f"INSERT DATA {{ GRAPH <{record_graph(store, record)}> {{ <{record}> <{DCTERMS.subject}> <{concept}> }} }}")
    return " ;\n".join(parts)


def record_graph(store: Store, record: str) -> str:
    rows = store.select(f"SELECT ?g WHERE {{ GRAPH ?g {{ <{record}> a <{CHM.Record}> }} }}", union=False)
    if not rows:
        raise ReviewError(f"no record <{record}>")
    return rows[0]["g"].value


def add_subject_update(store: Store, record: str, concept: str) -> str:
    """An editor adds a subject the tagger did not suggest (validated: it must be a skos:Concept)."""
    return f"INSERT DATA {{ GRAPH <{record_graph(store, record)}> {{ <{record}> <{DCTERMS.subject}> <{concept}> }} }}"


def review_queue(store: Store, status: str = "pending", limit: int = 200) -> list[dict]:
    if status not in ("pending", "accepted", "rejected"):
        raise ReviewError(f"unknown review status {status!r}")
    rows = store.select(
        f"""SELECT ?s ?r ?title ?c ?label ?score ?rank ?status WHERE {{
              ?s a <{CHM.Suggestion}> ; <{CHM.reviewStatus}> ?status ; <{CHM.suggestedFor}> ?r ;
                 <{CHM.suggestedConcept}> ?c ; <{CHM.score}> ?score ; <{CHM.rank}> ?rank .
              FILTER (?status = {_lit(status)})
              ?r <{DCTERMS.title}> ?title .
              OPTIONAL {{ ?c <{SKOS.prefLabel}> ?label FILTER (langMatches(lang(?label), "en")) }}
            }} ORDER BY ?r ?rank LIMIT {int(limit)}""")
    out: dict[str, dict] = {}
    for r in rows:
        key = r["s"].value
        if key in out:
            continue
        out[key] = {"suggestion": key, "record": r["r"].value, "title": r["title"].value, "concept": r["c"].value,
                    "label": r["label"].value if r.get("label") else r["c"].value, "score": float(r["score"].value),
                    "rank": int(r["rank"].value), "status": r["status"].value}
    return list(out.values())
