"""The Secretariat's marine EBSA records (``../shared/data/cbd-records/ebsa-chm-records``): 168 real CHM
``marineEbsa`` records (ecologically or biologically significant marine areas), as CHM records.

Their six language slots mostly hold copies of the original text: a text repeated across slots is kept
once, tagged with the language it is written in (py3langid, restricted to the UN languages), not six
times under six tags. The record's IRI comes from its CHM document id (``record/ebsa-200060``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from functools import lru_cache
from pathlib import Path

from loaders.chm_records import cbd_subject
from loaders.rdf import read_bytes
from loaders.triples import TripleSet, iri, lit
from ontology import CHM, DCTERMS, RDF, RDFS, SKOS
from ontology.errors import SourceError
from ontology.iris import Minter
from writes.ingest import ParsedSource

FEATURES = Path("cbd-records") / "ebsa-chm-records" / "ebsa_features_with_chm_records.json"
UN_LANGS = ("en", "fr", "es", "ar", "ru", "zh")
_DOC = re.compile(r"documentID=(\d+)")


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(UN_LANGS))
    return identifier


def language_of(text: str, slots: list[str]) -> str:
    """The UN language ``text`` is written in; the first slot it sits in when the detector is unsure."""
    lang, prob = _identifier().classify(text)
    return lang if lang in slots or prob >= 0.9 else slots[0]


def distinct_texts(value: object, hint: str | None = None) -> list[tuple[str, str]]:
    """``{en: t, fr: t, es: u}`` → [(lang of t, t), (es, u)]: each distinct text once, in its own language
    (``hint``, the language of the record's longer text, decides for a copied short one such as a name)."""
    if not isinstance(value, dict):
        return []
    by_text: dict[str, list[str]] = defaultdict(list)
    for lang, text in value.items():
        if lang in UN_LANGS and isinstance(text, str) and text.strip():
            by_text[" ".join(text.split())].append(lang)
    out = []
    for text, slots in by_text.items():
        if len(slots) == 1:
            out.append((slots[0], text))
        elif hint in slots:
            out.append((hint, text))
        else:
            out.append((language_of(text, sorted(slots, key=UN_LANGS.index)), text))
    return out


def read_ebsa(shared_data: Path, base: str) -> ParsedSource:
    path = shared_data / FEATURES
    data = read_bytes(path)
    try:
        doc = json.loads(data)
    except json.JSONDecodeError as e:
        raise SourceError(f"{path}: not valid JSON ({e})") from None
    m = Minter(base)
    t = TripleSet()
    kind = m.concept("record-type", "marine-ebsa")
    t.add(kind, RDF.type, SKOS.Concept)
    t.add(kind, SKOS.inScheme, m.scheme("record-type"))
    t.add(kind, SKOS.prefLabel, lit("marine EBSA", "en"))
    t.add(m.scheme("record-type"), RDF.type, SKOS.ConceptScheme)
    t.add(m.scheme("record-type"), SKOS.prefLabel, lit("CHM record types", "en"))
    for feature in doc.get("features") or []:
        record = feature.get("chmRecord") if isinstance(feature, dict) else None
        if not isinstance(record, dict):
            continue
        found = _DOC.search(str(record.get("url") or ""))
        if not found:
            continue
        r = m.record(f"ebsa-{found.group(1)}")
        t.add(r, RDF.type, CHM.Record)
        t.add(r, DCTERMS.type, kind)
        t.add(r, CHM.recordSchema, lit("marineEbsa"))
        t.add(r, DCTERMS.identifier, lit(found.group(1)))
        t.add(r, RDFS.seeAlso, iri(f"https://chm.cbd.int/database/record?documentID={found.group(1)}"))
        descriptions = distinct_texts(record.get("description"))
        for lang, text in descriptions:
            t.add(r, DCTERMS.description, lit(text, lang))
            t.add(r, DCTERMS.language, lit(lang))
        hint = descriptions[0][0] if len(descriptions) == 1 else None
        for lang, text in distinct_texts(record.get("title"), hint):
            t.add(r, DCTERMS.title, lit(text, lang))
            t.add(r, SKOS.prefLabel, lit(text, lang))
            t.add(r, DCTERMS.language, lit(lang))
        region = record.get("region")
        if isinstance(region, dict) and isinstance(region.get("title"), dict):
            name = region["title"].get("en")
            if isinstance(name, str) and name.strip():
                t.add(r, CHM.region, lit(name.strip()))
        props = feature.get("shapefileProperties") or {}
        if isinstance(props.get("GLOBAL_ID"), str):
            t.add(r, SKOS.notation, lit(props["GLOBAL_ID"]))
        t.add(r, DCTERMS.subject, cbd_subject(m, t, "CBD-SUBJECT-MCB"))  # marine and coastal biodiversity
    return ParsedSource("ebsa-records", "ebsa", str(path), "sha256:" + hashlib.sha256(data + m.base.encode()).hexdigest(),
                        t.ntriples(), "Marine EBSA records of the CHM (2015)")
