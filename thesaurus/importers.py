"""Import real vocabularies as SKOS concept schemes, each into its own named graph.

- InforMEA (the MEA thesaurus): the 2019 SKOS-XL export turned into JSON, plus the CSV of topics,
  synonyms and definitions → concepts, SKOS-XL and plain prefLabels, synonyms as altLabels,
  definitions, broader links, topics as skos:Collection;
- GEMET: SKOS RDF/XML, English and French merged;
- ECOLEX keywords: en/fr/es labels from the ECOLEX configuration.

Each import is normalised with skosify (its log captured into the import report) after the
quality checks ran on the raw data, so the report shows what the source itself gets wrong.
Nothing from ../shared is copied into the repository: the files are read at import time.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
import skosify
from rdflib.namespace import RDF, SKOS

from writes.ingest import ParsedSource, checksum
from ontology.errors import SourceError
from thesaurus.quality import QualityReport, run_checks

SKOSXL = rdflib.Namespace("http://www.w3.org/2008/05/skos-xl#")
DCT = rdflib.Namespace("http://purl.org/dc/terms/")
INFOREA_SCHEME = "http://www.informea.org/terms"
ECOLEX_BASE = "https://www.ecolex.org/keyword/"
RAW = "urn:chmkg:thesaurus:raw"


@dataclass
class ImportReport:
    name: str
    location: str
    concepts: int
    triples: int
    counts: dict[str, int] = field(default_factory=dict)
    skosify_log: list[str] = field(default_factory=list)
    quality: QualityReport | None = None


def _need(path: Path) -> Path:
    if not path.exists():
        raise SourceError(f"{path}: not found")
    return path


def _res(node: dict | list | None) -> list[str]:
    if node is None:
        return []
    items = node if isinstance(node, list) else [node]
    return [i["@resource"] for i in items if isinstance(i, dict) and "@resource" in i]


def informea_graph(folder: Path) -> rdflib.Graph:
    data = json.loads(_need(folder / "informea_terms_skosxl_2019.json").read_text(encoding="utf-8"))["Description"]
    g = rdflib.Graph()
    scheme = rdflib.URIRef(INFOREA_SCHEME)
    xl_forms = {}
    for node in data:
        if _res(node.get("type")) == [str(SKOSXL.Label)]:
            lf = node["literalForm"]
            xl_forms[node["@about"]] = rdflib.Literal(lf["#text"], lang=lf.get("@lang"))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, SKOS.prefLabel, rdflib.Literal("InforMEA glossary", lang="en")))
    by_tid: dict[str, rdflib.URIRef] = {}
    for node in data:
        about = rdflib.URIRef(node["@about"])
        types = _res(node.get("type"))
        if str(SKOSXL.Label) in types:
            g.add((about, RDF.type, SKOSXL.Label))
            g.add((about, SKOSXL.literalForm, xl_forms[node["@about"]]))
            continue
        if str(SKOS.Concept) not in types:
            continue
        g.add((about, RDF.type, SKOS.Concept))
        for s in _res(node.get("inScheme")):
            g.add((about, SKOS.inScheme, rdflib.URIRef(s)))
        for s in _res(node.get("topConceptOf")):
            g.add((about, SKOS.topConceptOf, rdflib.URIRef(s)))
        for xl in _res(node.get("prefLabel")):
            g.add((about, SKOSXL.prefLabel, rdflib.URIRef(xl)))
            if xl in xl_forms:
                g.add((about, SKOS.prefLabel, xl_forms[xl]))
            m = re.search(r"xl_en_(\d+)$", xl)
            if m:
                by_tid[m.group(1)] = about
        for b in _res(node.get("broader")):
            g.add((about, SKOS.broader, rdflib.URIRef(b)))
        defs = node.get("Description")
        for d in defs if isinstance(defs, list) else ([defs] if defs else []):
            value = d.get("value")
            if value:
                g.add((about, SKOS.definition, rdflib.Literal(value["#text"], lang=value.get("@lang"))))
    # topics (collections) and synonyms (altLabels) from the CSV, joined on the Drupal tid
    rows = csv.DictReader(io.StringIO(_need(folder / "informea_terms_definitions_topics_synonyms.utf8.csv").read_text(encoding="utf-8")))
    for row in rows:
        concept = by_tid.get(row["ID"].strip())
        if concept is None:
            continue
        for i in range(1, 13):
            syn = (row.get(f"Synonym #{i}") or "").strip()
            if syn:
                g.add((concept, SKOS.altLabel, rdflib.Literal(syn, lang="en")))
        for i in range(1, 5):
            topic = (row.get(f"Topic #{i}") or "").strip()
            if topic:
                coll = rdflib.URIRef(INFOREA_SCHEME + "/topic/" + re.sub(r"[^a-z0-9]+", "-", topic.lower()).strip("-"))
                g.add((coll, RDF.type, SKOS.Collection))
                g.add((coll, SKOS.prefLabel, rdflib.Literal(topic, lang="en")))
                g.add((coll, SKOS.member, concept))
    return g


def gemet_graph(folder: Path) -> rdflib.Graph:
    g = rdflib.Graph()
    for lang in ("en", "fr"):
        path = _need(folder / f"gemet-{lang}.skos.rdf")
        try:  # pyoxigraph's RDF/XML parser, then rdflib's N-Triples one: about twice as fast as rdflib's RDF/XML
            nt = ox.serialize(ox.parse(path=str(path), format=ox.RdfFormat.RDF_XML), format=ox.RdfFormat.N_TRIPLES)
        except (SyntaxError, ValueError, OSError) as e:
            raise SourceError(f"{folder}/gemet-{lang}.skos.rdf: malformed RDF/XML: {e}") from None
        g.parse(data=nt or b"", format="nt")
    for scheme in set(g.subjects(RDF.type, SKOS.ConceptScheme)):
        if not any(True for _ in g.objects(scheme, SKOS.prefLabel)):
            # the GeoNetwork export leaves its scheme unlabelled; the hub's shapes want a label
            g.add((scheme, SKOS.prefLabel, rdflib.Literal("GEMET – General Multilingual Environmental Thesaurus", lang="en")))
            g.add((scheme, SKOS.prefLabel, rdflib.Literal("GEMET – Thésaurus multilingue général pour l'environnement", lang="fr")))
    return g


def ecolex_graph(folder: Path) -> rdflib.Graph:
    data = json.loads(_need(folder / "keywords.json").read_text(encoding="utf-8"))
    g = rdflib.Graph()
    scheme = rdflib.URIRef(ECOLEX_BASE.rstrip("/"))
    g.add((scheme, RDF.type, SKOS.ConceptScheme))
    g.add((scheme, SKOS.prefLabel, rdflib.Literal("ECOLEX keywords", lang="en")))
    for key, labels in data.items():
        en = (labels.get("en") or key).strip()
        concept = rdflib.URIRef(ECOLEX_BASE + re.sub(r"[^a-z0-9]+", "-", en.lower()).strip("-"))
        g.add((concept, RDF.type, SKOS.Concept))
        g.add((concept, SKOS.inScheme, scheme))
        for lang in ("en", "fr", "es"):
            if labels.get(lang):
                g.add((concept, SKOS.prefLabel, rdflib.Literal(labels[lang].strip(), lang=lang)))
        if key.strip() != en:  # a variant key pointing to the same entry
            g.add((concept, SKOS.hiddenLabel, rdflib.Literal(key.strip())))
    return g


READERS = {"informea": ("informea-thesaurus", informea_graph, "InforMEA (MEA) thesaurus"),
           "gemet": ("gemet", gemet_graph, "GEMET"),
           "ecolex": ("ecolex-vocabularies", ecolex_graph, "ECOLEX keywords")}


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


def normalise(raw: rdflib.Graph) -> tuple[rdflib.Graph, list[str]]:
    """skosify with the hub's policy: report, never silently drop (all prefLabels kept, cycles kept)."""
    capture = _Capture()
    logger = logging.getLogger()  # skosify logs on the root logger: its lines go to the report only
    saved_handlers, old_level = logger.handlers[:], logger.level
    logger.handlers = [capture]
    logger.setLevel(logging.INFO)
    try:
        out = skosify.skosify(raw, mark_top_concepts=False, narrower=True, enrich_mappings=True, break_cycles=False,
                              preflabel_policy="all", eliminate_redundancy=False, cleanup_unreachable=False,
                              keep_related=True)
    finally:
        logger.handlers = saved_handlers
        logger.setLevel(old_level)
    # skosify 2.3 documents preflabel_policy="all" (keep all, log the problems) but logs it as
    # "Unknown preflabel-policy" and then keeps all anyway; say what really happened.
    lines = [ln if "Unknown preflabel-policy: all" not in ln else
             "INFO: preflabel_policy=all: every prefLabel kept (the quality report lists concepts with several)"
             for ln in capture.lines]
    return out, lines


def canonical_ntriples(g: rdflib.Graph) -> bytes:
    """The graph as sorted N-Triples with canonical blank node labels (RDFC-1.0 as pyoxigraph implements
    it): the same vocabulary gives the same bytes on every run, so its checksum says "unchanged" and a
    rebuild leaves the graph alone (rdflib's output order and blank node labels change from run to run)."""
    triples = ox.parse(g.serialize(format="nt", encoding="utf-8"), format=ox.RdfFormat.N_TRIPLES)
    dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    data = ox.serialize((q.triple for q in dataset), format=ox.RdfFormat.N_TRIPLES) or b""
    return b"".join(sorted(line + b"\n" for line in data.split(b"\n") if line))


def read_vocabulary(name: str, shared_data: Path) -> tuple[ParsedSource, ImportReport]:
    if name not in READERS:
        raise SourceError(f"unknown vocabulary {name!r} (known: {', '.join(READERS)})")
    folder_name, build, title = READERS[name]
    folder = Path(shared_data) / folder_name
    raw = build(folder)
    staging = ox.Store()
    staging.load(raw.serialize(format="nt", encoding="utf-8"), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(RAW))
    quality = run_checks(staging, RAW)
    quality.graph = f"{name} (source as read)"
    clean, log_lines = normalise(raw)
    nt = canonical_ntriples(clean)
    concepts = len(set(clean.subjects(RDF.type, SKOS.Concept)))
    counts = {
        "concepts": concepts,
        "prefLabels": len(list(clean.triples((None, SKOS.prefLabel, None)))),
        "altLabels": len(list(clean.triples((None, SKOS.altLabel, None)))),
        "definitions": len(list(clean.triples((None, SKOS.definition, None)))),
        "broader": len(list(clean.triples((None, SKOS.broader, None)))),
        "related": len(list(clean.triples((None, SKOS.related, None)))),
        "collections": len(set(clean.subjects(RDF.type, SKOS.Collection))),
    }
    for lang in ("en", "fr", "es"):
        counts[f"prefLabels@{lang}"] = sum(1 for _, _, o in clean.triples((None, SKOS.prefLabel, None)) if o.language == lang)
    report = ImportReport(name, str(folder), concepts, len(clean), counts, log_lines, quality)
    source = ParsedSource(name=f"thesaurus-{name}", reader="thesaurus", location=str(folder), checksum=checksum(nt),
                          ntriples=nt, title=title)
    return source, report


# -- mappings ------------------------------------------------------------------------------------

@dataclass
class MappingReport:
    links: int = 0
    exact: int = 0
    close: int = 0
    unresolved: list[str] = field(default_factory=list)
    suggestions: int = 0


def _key(text: str) -> str:
    return re.sub(r"[\s\-_]+", " ", text.strip().lower())


def _label_index(g: rdflib.Graph, lang: str = "en", alt: bool = True) -> dict[str, rdflib.URIRef]:
    index: dict[str, rdflib.URIRef] = {}
    preds = (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel) if alt else (SKOS.prefLabel,)
    for p in preds:
        for s, o in g.subject_objects(p):
            if isinstance(o, rdflib.Literal) and (o.language in (lang, None)):
                index.setdefault(_key(str(o)), s)
    return index


def mapping_graphs(shared_data: Path) -> tuple[rdflib.Graph, rdflib.Graph, MappingReport]:
    """InforMEA → ECOLEX from the two mapping tables (skos:exactMatch when the labels agree,
    skos:closeMatch otherwise), and InforMEA ↔ GEMET *suggestions* where English prefLabels agree —
    kept in their own graph for an editor to review, never mixed with the facts."""
    shared_data = Path(shared_data)
    informea = informea_graph(shared_data / "informea-thesaurus")
    ecolex = ecolex_graph(shared_data / "ecolex-vocabularies")
    inf_index = _label_index(informea)
    eco_index = _label_index(ecolex)
    pairs: list[tuple[str, str]] = []
    table = json.loads(_need(shared_data / "informea-thesaurus" / "informea_to_ecolex_keywords.json").read_text(encoding="utf-8"))
    for term, keywords in table.items():
        pairs.extend((term, k) for k in keywords)
    rows = _need(shared_data / "informea-thesaurus" / "informea_ecolex_geg_mappings.csv").read_text(encoding="utf-8").splitlines()
    for row in csv.reader(rows[1:], delimiter=";"):
        if len(row) >= 2 and row[0].strip() and row[1].strip():
            pairs.append((row[0], row[1]))
    facts, report = rdflib.Graph(), MappingReport()
    for term, keyword in pairs:
        a, b = inf_index.get(_key(term)), eco_index.get(_key(keyword))
        if a is None or b is None:
            report.unresolved.append(f"{term} → {keyword}" + (" (InforMEA term not found)" if a is None else " (ECOLEX keyword not found)"))
            continue
        relation = SKOS.exactMatch if _key(term) == _key(keyword) else SKOS.closeMatch
        if (a, relation, b) not in facts:
            facts.add((a, relation, b))
    report.exact = len(list(facts.triples((None, SKOS.exactMatch, None))))
    report.close = len(list(facts.triples((None, SKOS.closeMatch, None))))
    report.links = report.exact + report.close
    gemet = gemet_graph(shared_data / "gemet")
    gemet_index = _label_index(gemet, alt=False)
    suggestions = rdflib.Graph()
    for s, o in informea.subject_objects(SKOS.prefLabel):
        target = gemet_index.get(_key(str(o)))
        if target is not None:
            suggestions.add((s, SKOS.exactMatch, target))
    report.suggestions = len(suggestions)
    return facts, suggestions, report


def read_mappings(shared_data: Path) -> tuple[ParsedSource, ParsedSource, MappingReport]:
    facts, suggestions, report = mapping_graphs(shared_data)
    out = []
    for name, g, title in (("thesaurus-mappings", facts, "InforMEA → ECOLEX mappings (InforMEA and ECOLEX tables)"),
                           ("thesaurus-suggestions", suggestions, "InforMEA ↔ GEMET mapping suggestions (labels agree; to review)")):
        nt = canonical_ntriples(g)
        out.append(ParsedSource(name=name, reader="thesaurus-mappings", location=str(shared_data), checksum=checksum(nt),
                                ntriples=nt, title=title))
    return out[0], out[1], report
