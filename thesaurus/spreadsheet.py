"""A vocabulary as a spreadsheet (CSV or XLSX) and back, with a validation report before anything applies.

One row per concept; columns ``concept``, ``prefLabel@<lang>``, ``altLabel@<lang>`` and
``hiddenLabel@<lang>`` (several values joined by `` | ``), ``definition@<lang>``, ``broader``,
``related``, ``exactMatch``, ``closeMatch`` (IRIs joined by `` | ``; a ``|`` inside a value is ``\\|``), ``deprecated`` (true/false)
and ``isReplacedBy``. Re-importing an edited sheet turns every changed row into a checked
:class:`~thesaurus.editing.ConceptEdit`; unknown columns and broken rows are reported by row and
column, and nothing is applied unless every row passes.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

import pyoxigraph as ox

from ontology import DCTERMS, OWL, RDF, SKOS
from ontology.errors import ChmError
from sparql.store import Store
from thesaurus.editing import (
    ConceptEdit,
    EditError,
    StaleVersion,
    _lines,
    _same_text,
    _stored_labels,
    check_delta,
    concept_graph,
    current_version,
    plan,
)

SEP = " | "
LINKS = {"broader": SKOS.broader, "related": SKOS.related, "exactMatch": SKOS.exactMatch, "closeMatch": SKOS.closeMatch}
LABELS = {"prefLabel": SKOS.prefLabel, "altLabel": SKOS.altLabel, "hiddenLabel": SKOS.hiddenLabel, "definition": SKOS.definition,
          "scopeNote": SKOS.scopeNote}
MAX_ROWS = 20_000


class SheetError(ChmError):
    code = "E704"
    http_status = 422


def export_table(store: Store, graph: str) -> tuple[list[str], list[dict[str, str]]]:
    data = store.dump(graph, ox.RdfFormat.N_TRIPLES)
    concepts: dict[str, dict[str, list[str]]] = {}
    langs: set[str] = set()
    triples = list(ox.parse(data, ox.RdfFormat.N_TRIPLES)) if data else []
    typed = {t.subject.value for t in triples if t.predicate.value == RDF.type and t.object.value == SKOS.Concept}
    by_pred = {v: k for k, v in LABELS.items()} | {v: k for k, v in LINKS.items()}
    for t in triples:
        s = t.subject.value
        if s not in typed:
            continue
        row = concepts.setdefault(s, {})
        p = t.predicate.value
        if p in by_pred and by_pred[p] in LABELS:
            lang = getattr(t.object, "language", None) or ""
            langs.add(lang)
            row.setdefault(f"{by_pred[p]}@{lang}", []).append(t.object.value)
        elif p in by_pred:
            row.setdefault(by_pred[p], []).append(t.object.value)
        elif p == OWL.deprecated:
            row["deprecated"] = [t.object.value]
        elif p == DCTERMS.isReplacedBy:
            row["isReplacedBy"] = [t.object.value]
    ordered = sorted(lang for lang in langs if lang)
    columns = ["concept"] + [f"{k}@{lang}" for k in LABELS for lang in ordered] + list(LINKS) + ["deprecated", "isReplacedBy"]
    rows = [{"concept": c, **{k: SEP.join(_escape(x) for x in sorted(v)) for k, v in cols.items()}} for c, cols in sorted(concepts.items())]
    for r in rows:
        r.setdefault("deprecated", "false")
    return columns, rows


def to_csv(columns: list[str], rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def to_xlsx(columns: list[str], rows: list[dict[str, str]], title: str = "concepts") -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(columns)
    for r in rows:
        ws.append([r.get(c, "") for c in columns])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def read_sheet(data: bytes, filename: str) -> tuple[list[str], list[dict[str, str]]]:
    """Columns and rows of a CSV or XLSX upload; raises :class:`SheetError` naming what is wrong."""
    if data.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as e:  # openpyxl raises many kinds (zip, XML, key errors) for a broken file
            raise SheetError(f"{filename}: not a readable XLSX workbook ({type(e).__name__})") from None
        values = [[("" if v is None else str(v)) for v in row] for row in wb.worksheets[0].iter_rows(values_only=True)]
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise SheetError(f"{filename}: the CSV is not UTF-8 (byte {e.start})") from None
        try:
            values = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as e:
            raise SheetError(f"{filename}: not a readable CSV ({e})") from None
    if not values or not values[0]:
        raise SheetError(f"{filename}: the sheet is empty")
    if len(values) > MAX_ROWS + 1:
        raise SheetError(f"{filename}: {len(values) - 1:,} rows; import at most {MAX_ROWS:,} at a time")
    header = [h.strip() for h in values[0]]
    allowed = re.compile(r"^(concept|broader|related|exactMatch|closeMatch|deprecated|isReplacedBy|"
                         r"(prefLabel|altLabel|hiddenLabel|definition|scopeNote)@[a-z]{2,3}(-[A-Za-z0-9]+)*)$")
    unknown = [h for h in header if not allowed.match(h)]
    if unknown or "concept" not in header or len(set(header)) != len(header):
        problems = [f"unknown column {h!r}" for h in unknown]
        if "concept" not in header:
            problems.append("no 'concept' column")
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise SheetError(f"{filename}: " + "; ".join(problems) + " (columns are concept, prefLabel@xx, altLabel@xx, "
                         "hiddenLabel@xx, definition@xx, scopeNote@xx, broader, related, exactMatch, closeMatch, deprecated, isReplacedBy)")
    rows = []
    for i, raw in enumerate(values[1:], start=2):
        if not any(v.strip() for v in raw):
            continue
        if len(raw) > len(header):
            raise SheetError(f"{filename}: row {i} has {len(raw)} cells for {len(header)} columns")
        rows.append({"_row": str(i), **{h: (raw[j] if j < len(raw) else "") for j, h in enumerate(header)}})
    return header, rows


@dataclass
class ImportReport:
    rows: int = 0
    unchanged: int = 0
    changes: list[dict] = field(default_factory=list)  # per changed concept: row, added, removed
    errors: list[dict] = field(default_factory=list)  # per refused row: row, concept, problems
    edits: list[ConceptEdit] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict:
        return {"rows": self.rows, "unchanged": self.unchanged, "changed": len(self.changes), "refused": len(self.errors),
                "changes": self.changes, "errors": self.errors}


def _escape(value: str) -> str:
    """A value in a cell: ``|`` separates values, so one inside a value is written ``\\|``."""
    return value.replace("\\", "\\\\").replace("|", "\\|")


def _split(value: str) -> list[str]:
    """The values of a cell: split at unescaped ``|``, then ``\\|`` and ``\\\\`` read back."""
    parts = re.split(r"(?<!\\)((?:\\\\)*)\|", value)
    # re.split keeps the captured backslash pairs; glue them back to the value before the bar
    values, current = [], ""
    for i, part in enumerate(parts):
        if i % 2 == 1:
            current += part
            values.append(current)
            current = ""
        else:
            current += part
    values.append(current)
    out = []
    for v in values:
        v = re.sub(r"\\(.)", r"\1", v).strip()
        if v:
            out.append(v)
    return out


def _stored_texts(store: Store, concept: str, vocab_prefix: str, predicate: str, lang: str) -> list[str]:
    graph = concept_graph(store, concept, vocab_prefix)
    if graph is None:
        return []
    return sorted(text for (p, lg, text) in _stored_labels(_lines(store, graph, concept)) if p == predicate and lg == lang)


def import_report(store: Store, header: list[str], rows: list[dict[str, str]], history: str, vocab_prefix: str,
                  scheme: str | None) -> ImportReport:
    """What applying the sheet would change, row by row, each change checked like an editor's edit."""
    report = ImportReport(rows=len(rows))
    for row in rows:
        concept = row.get("concept", "").strip()
        try:
            edit = ConceptEdit(concept, current_version(store, concept, history) if concept else 0, scheme=scheme)
            for col in header:
                if "@" in col:
                    kind, lang = col.split("@", 1)
                    values = _split(row[col])
                    if kind in ("prefLabel", "definition", "scopeNote"):
                        if len(values) > 1:
                            if sorted(_same_text(v) for v in values) == _stored_texts(store, concept, vocab_prefix, LABELS[kind], lang):
                                continue  # several values already in the store (a source's quirk): left as they are
                            raise EditError(f"{col}: one value per language", [])
                        attr = {"prefLabel": "pref", "definition": "definition", "scopeNote": "scope_note"}[kind]
                        target = getattr(edit, attr) or {}
                        if values:
                            target[lang] = values[0]
                        setattr(edit, attr, target)
                    else:
                        attr = "alt" if kind == "altLabel" else "hidden"
                        target = getattr(edit, attr) or {}
                        target[lang] = values
                        setattr(edit, attr, target)
            for col, attr in (("broader", "broader"), ("related", "related"), ("exactMatch", "exact"), ("closeMatch", "close")):
                if col in header:
                    setattr(edit, attr, _split(row[col]))
            if "deprecated" in header:
                flag = row["deprecated"].strip().lower()
                if flag not in ("", "true", "false"):
                    raise EditError(f"deprecated: {row['deprecated']!r} is not true or false", [])
                edit.deprecated = flag == "true"
            if "isReplacedBy" in header:
                edit.replaced_by = row["isReplacedBy"]
            graph, added, removed = plan(store, edit, history, vocab_prefix)
            if not added and not removed:
                report.unchanged += 1
                continue
            check_delta(store, graph, added, removed, concept)
        except (EditError, StaleVersion) as e:
            report.errors.append({"row": int(row["_row"]), "concept": concept, "problems": getattr(e, "problems", None) or [e.message]})
            continue
        report.edits.append(edit)
        report.changes.append({"row": int(row["_row"]), "concept": concept, "added": added, "removed": removed})
    return report
