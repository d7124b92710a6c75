"""Reporting forms as RDF: the Cartagena and Nagoya Protocol national report questionnaires and the KMGBF
binary-indicator questions of the 7th national report (``../shared/data/cbd-records``).

A form (``form/cpbNationalReport4``) has sections (``…/section/Article2``, linked to the Protocol article
their title cites), a section has questions (``…/question/Q014``, with number, answer type and text in
the six UN languages, nested sub-questions kept under their parent), a question has answer options
(``…/question/Q014/option/implementation-fullinplace``). The Secretariat's mappings between reporting
cycles become ``skos:closeMatch`` between questions, and between options when the answer values map.
The binary-indicator groups are sections linked to their KMGBF goal or target and to the official
binary indicator (``http://metadata.cbd.int/kmgbf/indicator_5.b``).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from loaders.rdf import read_bytes
from loaders.triples import TripleSet, iri, lit
from ontology import CHM, DCTERMS, RDF, SKOS
from ontology.errors import SourceError
from ontology.iris import Minter

QUESTIONNAIRES = Path("cbd-records") / "national-report-questionnaires"
BINARY = Path("cbd-records") / "ort-binary-indicator-questions" / "kmgbf_binary_indicator_questions.json"
INSTRUMENTS = {"cpb": "cartagena", "abs": "nagoya", "np": "nagoya"}
# mapping file → (the later form, whose keys are the file's keys; the earlier form its values point into)
MAPPINGS = {
    "mapping_cpbNationalReport3-2.json": ("cpbNationalReport3", "cpbNationalReport2"),
    "mapping_cpbNationalReport4-2.json": ("cpbNationalReport4", "cpbNationalReport2"),
    "mapping_cpbNationalReport4-3.json": ("cpbNationalReport4", "cpbNationalReport3"),
    "mapping_cpbNationalReport5-4.json": ("cpbNationalReport5", "cpbNationalReport4"),
    "mapping_npNationalReoprtInterim-1.json": ("absNationalReport1", "npInterimNationalReport1"),
}
UN_LANGS = ("en", "fr", "es", "ar", "ru", "zh")
KMGBF = "http://metadata.cbd.int/kmgbf/"


def _json(path: Path) -> Any:
    try:
        return json.loads(read_bytes(path).decode("utf-8-sig"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SourceError(f"{path}: not valid JSON ({e})") from None


def _texts(t: TripleSet, node: str, prop: str, value: Any) -> None:
    if isinstance(value, dict):
        for lang, text in value.items():
            if lang in UN_LANGS and isinstance(text, str) and text.strip():
                t.add(node, prop, lit(" ".join(text.split()), lang))
    elif isinstance(value, str) and value.strip():
        t.add(node, prop, lit(" ".join(value.split()), "en"))


class _Form:
    def __init__(self, m: Minter, t: TripleSet, key: str) -> None:
        self.m, self.t, self.key = m, t, key
        self.node = m.form(key)
        self.questions: dict[str, str] = {}
        self.options: dict[tuple[str, str], str] = {}

    def question(self, section: str, q: dict, position: int, parent: str | None = None) -> None:
        m, t = self.m, self.t
        key = q.get("key")
        if not isinstance(key, str) or not key:
            return
        node = m.form(self.key, "question", key)
        self.questions[key] = node
        t.add(node, RDF.type, CHM.Question)
        t.add(section if parent is None else parent, CHM.hasQuestion, node)
        t.add(node, CHM.position, lit(position))
        t.add(node, DCTERMS.identifier, lit(key))
        if isinstance(q.get("number"), str) and q["number"].strip():
            t.add(node, SKOS.notation, lit(q["number"].strip()))
        if isinstance(q.get("type"), str):
            t.add(node, CHM.answerType, lit(q["type"]))
        _texts(t, node, SKOS.prefLabel, q.get("title"))
        if not isinstance(q.get("title"), dict) or not any(q["title"].values()):
            t.add(node, SKOS.prefLabel, lit(f"Question {q.get('number') or key}", "en"))
        for i, option in enumerate(q.get("options") or [], start=1):
            if not isinstance(option, dict) or option.get("value") in (None, ""):
                continue
            value = str(option["value"])
            o = m.form(self.key, "question", key, "option", value)
            self.options[(key, value)] = o
            t.add(o, RDF.type, CHM.AnswerOption)
            t.add(node, CHM.hasOption, o)
            t.add(o, CHM.optionValue, lit(value))
            t.add(o, CHM.position, lit(i))
            _texts(t, o, SKOS.prefLabel, option.get("title"))
        for i, sub in enumerate(q.get("questions") or [], start=1):
            if isinstance(sub, dict):
                self.question(section, sub, i, parent=node)


def read_forms(shared_data: Path, base: str) -> Any:
    from writes.ingest import ParsedSource

    m = Minter(base)
    t = TripleSet()
    raw = b""
    forms: dict[str, _Form] = {}
    folder = shared_data / QUESTIONNAIRES
    for path in sorted(folder.glob("*.json")):
        if path.name.startswith("mapping_"):
            continue
        doc = _json(path)
        raw += read_bytes(path)
        report = doc.get("report")
        if not isinstance(report, str) or not isinstance(doc.get("sections"), list):
            raise SourceError(f"{path}: not a questionnaire (no report key and sections)")
        form = forms[report] = _Form(m, t, report)
        t.add(form.node, RDF.type, CHM.Form)
        t.add(form.node, DCTERMS.identifier, lit(report))
        t.add(form.node, SKOS.prefLabel, lit(doc.get("description") or report, "en"))
        t.add(form.node, DCTERMS.source, lit(f"scbd/absch.cbd.int {doc.get('source', {}).get('structure_file', '')}"))
        instrument = INSTRUMENTS.get(re.match(r"[a-z]+", report).group(0), "cbd")  # type: ignore[union-attr]
        t.add(form.node, DCTERMS.references, m.instrument(instrument))
        for i, section in enumerate(doc["sections"], start=1):
            key = section.get("key") if isinstance(section, dict) else None
            if not isinstance(key, str):
                continue
            s = m.form(report, "section", key)
            t.add(s, RDF.type, CHM.FormSection)
            t.add(form.node, CHM.hasSection, s)
            t.add(s, CHM.position, lit(i))
            _texts(t, s, SKOS.prefLabel, section.get("title"))
            title = (section.get("title") or {}).get("en") if isinstance(section.get("title"), dict) else None
            article = re.match(r"Article\s+(\d+)", title or "")
            if article:
                t.add(s, DCTERMS.references, m.article(int(article.group(1)), instrument=instrument))
            for j, q in enumerate(section.get("questions") or [], start=1):
                if isinstance(q, dict):
                    form.question(s, q, j)
    for name, (later, earlier) in MAPPINGS.items():
        path = folder / name
        if not path.is_file() or later not in forms or earlier not in forms:
            continue
        raw += read_bytes(path)
        for key, target in _json(path).items():
            target_key = target if isinstance(target, str) else target.get("question") if isinstance(target, dict) else None
            q_later, q_earlier = forms[later].questions.get(key), forms[earlier].questions.get(str(target_key))
            if not (q_later and q_earlier):
                continue
            t.add(q_later, SKOS.closeMatch, q_earlier)
            # the value mapping goes from the earlier form's answer values to the later one's
            for old, new in ((target.get("valueMapping") or {}).items() if isinstance(target, dict) else []):
                o_later = forms[later].options.get((key, str(new)))
                o_earlier = forms[earlier].options.get((str(target_key), str(old)))
                if o_later and o_earlier:
                    t.add(o_later, SKOS.closeMatch, o_earlier)
    binary = shared_data / BINARY
    if binary.is_file():
        doc = _json(binary)
        raw += read_bytes(binary)
        form = forms["kmgbf-binary-indicators"] = _Form(m, t, "kmgbf-binary-indicators")
        t.add(form.node, RDF.type, CHM.Form)
        t.add(form.node, SKOS.prefLabel, lit("KMGBF binary-indicator questions (7th national report)", "en"))
        t.add(form.node, DCTERMS.source, lit(f"scbd/online-reporting-tool {doc.get('source', {}).get('structure_file', '')}"))
        for i, group in enumerate(doc.get("groups") or [], start=1):
            key = group.get("key") if isinstance(group, dict) else None
            if not isinstance(key, str):
                continue
            s = m.form(form.key, "section", key)
            t.add(s, RDF.type, CHM.FormSection)
            t.add(form.node, CHM.hasSection, s)
            t.add(s, CHM.position, lit(i))
            target = re.fullmatch(r"GBF-(GOAL|TARGET)-0*([A-D]|\d{1,2})", str(group.get("target") or ""))
            label = f"{target.group(1).title()} {target.group(2)}" if target else key
            t.add(s, SKOS.prefLabel, lit(f"Binary indicator questions — {label}", "en"))
            if target:  # upstream writes GBF-TARGET-012 beside GBF-TARGET-01: the number is what counts
                t.add(s, DCTERMS.subject, m.concept("gbf-targets", f"{target.group(1).lower()}-{target.group(2)}"))
            indicator = re.fullmatch(r"KMGBF-INDICATOR-BIN-(?:[A-D]-)?([A-D]|\d{1,2})", str(group.get("binaryIndicator") or ""))
            if indicator:
                t.add(s, DCTERMS.references, iri(f"{KMGBF}indicator_{indicator.group(1)}.b"))
            for j, q in enumerate(group.get("questions") or [], start=1):
                if isinstance(q, dict):
                    form.question(s, q, j)
    return ParsedSource("forms", "forms", str(folder), "sha256:" + hashlib.sha256(raw + m.base.encode()).hexdigest(),
                        t.ntriples(), "Reporting forms: national report questionnaires and KMGBF binary-indicator questions")
