"""Reader for CHM records in the CBD CHM API's JSON shape (``/api/v2013/documents``).

Supported schemas: event, organization, resource and nationalTarget (nationalTarget7). A record
becomes a ``chm:Record`` with its title, languages, description, country, dates, and its target
and subject links (``dcterms:subject``); thesaurus term identifiers are resolved to the hub's
concepts (AICHI-TARGET-01 → the Aichi target 1 concept; a component such as -C2 to its target).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from writes.ingest import ParsedSource, checksum
from loaders.rdf import read_bytes
from loaders.triples import TripleSet, lit
from ontology import CHM, DCTERMS, RDF, SCHEMA, SKOS, XSD
from ontology.errors import SourceError, UnknownSchemaError
from ontology.iris import Minter

SCHEMAS = {"event": "event", "organization": "organization", "resource": "resource",
           "nationalTarget": "national-target", "nationalTarget7": "national-target",
           "capacityBuildingInitiative": "capacity-building-initiative"}
TARGET_FIELDS = ("aichiTargets", "otherAichiTargets", "gbfTargets", "globalTargetAlignment", "globalGoalAlignment")
SUBJECT_FIELDS = ("thematicAreas", "cbdSubjects")
_TARGET = re.compile(r"^(AICHI|GBF)-(TARGET|GOAL)-([0-9]+|[A-E])(?:-C\d+)?$")


def term_concept(m: Minter, identifier: str) -> str | None:
    """The hub concept for an SCBD target or goal term identifier, or None."""
    match = _TARGET.match(identifier)
    if not match:
        return None
    family, kind, code = match.groups()
    scheme = "aichi-targets" if family == "AICHI" else "gbf-targets"
    code = str(int(code)) if code.isdigit() else code
    return m.concept(scheme, f"{kind.lower()}-{code}")


def cbd_subject(m: Minter, t: TripleSet, identifier: str) -> str:
    """The concept of an SCBD thesaurus term (CBD-SUBJECTS and other domains' identifiers), declared with its
    identifier as notation and provisional label until ``chmkg harvest cbd-thesaurus`` brings the real ones."""
    c = m.concept("cbd-subjects", identifier)
    t.add(c, RDF.type, SKOS.Concept)
    t.add(c, SKOS.inScheme, m.scheme("cbd-subjects"))
    t.add(c, SKOS.notation, lit(identifier))
    t.add(c, SKOS.prefLabel, lit(identifier, "en"))
    t.add(m.scheme("cbd-subjects"), RDF.type, SKOS.ConceptScheme)
    t.add(m.scheme("cbd-subjects"), SKOS.prefLabel, lit("CBD subjects (SCBD thesaurus CBD-SUBJECTS)", "en"))
    return c


def _lstrings(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(lang, text) for lang, text in value.items() if isinstance(text, str) and text.strip()]
    return []


def _terms(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return [i["identifier"] for i in items if isinstance(i, dict) and isinstance(i.get("identifier"), str)]


def map_record(doc: dict[str, Any], m: Minter, t: TripleSet, location: str) -> str:
    header = doc.get("header")
    if not isinstance(header, dict) or "schema" not in header or "identifier" not in header:
        raise SourceError(f"{location}: not a CHM record (no header with schema and identifier)")
    schema = header["schema"]
    if schema not in SCHEMAS:
        raise UnknownSchemaError(
            f"{location}: CHM record schema {schema!r} has no mapping (known: {', '.join(sorted(SCHEMAS))})"
        )
    ident = header["identifier"]
    r = m.record(ident)
    t.add(r, RDF.type, CHM.Record)
    if schema == "event":
        t.add(r, RDF.type, SCHEMA.Event)
    t.add(r, DCTERMS.identifier, lit(ident))
    t.add(r, CHM.recordSchema, lit(schema))
    t.add(r, DCTERMS.type, m.concept("record-type", SCHEMAS[schema]))
    t.add(m.concept("record-type", SCHEMAS[schema]), RDF.type, SKOS.Concept)
    t.add(m.concept("record-type", SCHEMAS[schema]), SKOS.inScheme, m.scheme("record-type"))
    t.add(m.concept("record-type", SCHEMAS[schema]), SKOS.prefLabel, lit(SCHEMAS[schema].replace("-", " "), "en"))
    t.add(m.scheme("record-type"), RDF.type, SKOS.ConceptScheme)
    t.add(m.scheme("record-type"), SKOS.prefLabel, lit("CHM record types", "en"))
    for lang in header.get("languages") or []:
        t.add(r, DCTERMS.language, lit(lang))
    titles = _lstrings(doc.get("title")) or _lstrings(doc.get("name"))
    for lang, text in titles:
        t.add(r, DCTERMS.title, lit(text.strip(), lang))
        t.add(r, SKOS.prefLabel, lit(text.strip(), lang))
    for field in ("description", "summary", "profile"):
        for lang, text in _lstrings(doc.get(field)):
            t.add(r, DCTERMS.description, lit(text.strip(), lang))
    for field in ("government", "governments", "country"):
        for code in _terms(doc.get(field)):
            t.add(r, CHM.country, lit(code.upper()))
    address = doc.get("address")
    if isinstance(address, dict):
        for code in _terms(address.get("country")):
            t.add(r, CHM.country, lit(code.upper()))
    for field, prop in (("startDate", SCHEMA.startDate), ("endDate", SCHEMA.endDate)):
        value = doc.get(field)
        if isinstance(value, str) and re.match(r"^\d{4}-\d{2}-\d{2}", value):
            text = value.strip().replace(" ", "T")
            if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", text):
                text += ":00"
            t.add(r, prop, lit(text, datatype=XSD.dateTime if "T" in text else XSD.date))
    date = doc.get("publicationDate")
    if isinstance(date, str) and date.strip():
        t.add(r, DCTERMS.issued, lit(date.strip()))
    for field in TARGET_FIELDS:
        for identifier in _terms(doc.get(field)):
            concept = term_concept(m, identifier)
            if concept:
                t.add(r, DCTERMS.subject, concept)
    for field in SUBJECT_FIELDS:
        for identifier in _terms(doc.get(field)):
            t.add(r, DCTERMS.subject, cbd_subject(m, t, identifier))
    return r


def read_chm_records(paths: list[Path], base: str, name: str = "chm-records") -> ParsedSource:
    """Read CHM JSON records (one record or a list of records per file) into one graph."""
    m = Minter(base)
    t = TripleSet()
    raw = b""
    for path in sorted(Path(p) for p in paths):
        data = read_bytes(path)
        raw += data
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise SourceError(f"{path}: not valid JSON ({e})") from None
        docs = doc if isinstance(doc, list) else [doc]
        for d in docs:
            if not isinstance(d, dict):
                raise SourceError(f"{path}: expected a JSON object for each record")
            map_record(d, m, t, str(path))
    return ParsedSource(name, "chm-record", ", ".join(str(p) for p in paths), checksum(raw + m.base.encode()),
                        t.ntriples(), "CHM records")
