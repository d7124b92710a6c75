"""``cbd-index``: meetings, notifications, statements, national reports, national targets (7th cycle) and
decision texts from the CBD search index (``/api/v2013/index/select``), public current versions only.

Incremental by ``updatedDate_dt`` (the index has no change feed); a full run sweeps what left the index.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from functools import lru_cache
from importlib.resources import files
from urllib.parse import urljoin

from harvest.client import Client
from harvest.sources.base import FetchContext, Item, Mapped, Source, date_literal, record_type, strings, subject_concept
from harvest.sources.cbd_decisions import STATUSES, TYPES, decision_symbol
from harvest.sources.solr import per_language, select
from loaders.triples import lit
from ontology import CHM, DCTERMS, ELI, FOAF, PROV, RDF, SCHEMA, SKOS, XSD
from ontology.errors import SourceError
from ontology.iris import slug

SCHEMAS = ("meeting", "notification", "statement", "nationalReport", "nationalReport6", "nationalTarget7", "decision-text")
RECORD_TYPES = {"notification": ("notification", "notification"), "statement": ("statement", "statement"),
                "nationalReport": ("national-report", "national report"), "nationalReport6": ("national-report", "national report"),
                "nationalTarget7": ("national-target", "national target")}
_MEETING = re.compile(r"^(?P<body>[A-Za-z][A-Za-z0-9-]*?)-?(?P<number>\d{1,2})$")
WEB = "https://www.cbd.int"


@lru_cache(maxsize=1)
def bundled_meetings() -> frozenset[tuple[str, int]]:
    text = files("loaders").joinpath("data", "bundled", "meetings.csv").read_text(encoding="utf-8")
    return frozenset((row["body"], int(row["number"])) for row in csv.DictReader(io.StringIO(text)))


@lru_cache(maxsize=1)
def bundled_actors() -> frozenset[str]:
    text = files("loaders").joinpath("data", "bundled", "actors.csv").read_text(encoding="utf-8")
    return frozenset(row["key"] for row in csv.DictReader(io.StringIO(text)))


def meeting_key(symbol: str) -> tuple[str, int] | None:
    """``COP-15`` → (cop, 15); ``CP-MOP-10`` / ``MOP-10`` → (cp-mop, 10); ``NP-MOP-4`` → (np-mop, 4)."""
    m = _MEETING.match(symbol.strip())
    if not m:
        return None
    body = m.group("body").lower().rstrip("-")
    body = {"mop": "cp-mop", "bs-cop-mop": "cp-mop", "cp-cop-mop": "cp-mop", "np-cop-mop": "np-mop"}.get(body, body)
    return body, int(m.group("number"))


def urls(doc: dict, base: str = WEB) -> list[str]:
    out = []
    for u in strings(doc.get("url_ss")):
        full = urljoin(base + "/", u)
        if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", full):
            out.append(full)
    return out


class CbdIndex(Source):
    name = "cbd-index"
    title = "CBD search index (meetings, notifications, statements, national reports and targets, decision texts)"
    default_url = "https://api.cbd.int"

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        schemas = [s for s in (ctx.options.get("schemas") or ",".join(SCHEMAS)).split(",") if s]
        q = "schema_s:(" + " OR ".join(s.replace("-", "\\-") for s in schemas) + ")"
        start = int(ctx.cursor.get("start", 0)) if isinstance(ctx.cursor, dict) else 0
        for doc, page_start in select(client, q, [], start=start, since=None if ctx.full else ctx.since):
            key = doc.get("id")
            if not isinstance(key, str) or not key:
                yield Item(key=f"#{page_start}", error="an index document without an id", cursor={"start": page_start})
                continue
            revision = doc.get("_revision_i") or doc.get("updatedDate_dt")
            yield Item(key=key, payload=doc, revision=str(revision) if revision is not None else None,
                       url=(urls(doc) or [""])[0], cursor={"start": page_start})

    def map(self, item: Item) -> Mapped:
        doc = item.payload
        schema = doc.get("schema_s")
        if schema == "meeting":
            return self._meeting(item, doc)
        if schema == "decision-text":
            return self._decision_text(item, doc)
        if schema in RECORD_TYPES:
            return self._record(item, doc, schema)
        raise SourceError(f"index document {item.key}: schema {schema!r} is not harvested (known: {', '.join(SCHEMAS)})")

    def _meeting(self, item: Item, doc: dict) -> Mapped:
        m, out = self.m, Mapped()
        symbol = doc.get("symbol_s") or doc.get("EVT_CD") or ""
        key = meeting_key(str(symbol))
        if key is None:
            raise SourceError(f"meeting {item.key}: symbol {symbol!r} is not a meeting code like COP-15")
        body, number = key
        node = m.meeting(body, number)
        out.subjects.append(node)
        titles = per_language(doc, "title")
        self.provenance(out, node, item.key, item.url)
        if key in bundled_meetings():  # the hub's own facts stand; the index adds its names and address
            for lang, text in titles:
                out.own.add(node, SKOS.altLabel, lit(text, lang))
            return out
        start = date_literal(doc.get("startDate_dt"))
        if start is None:
            raise SourceError(f"meeting {symbol}: no start date (startDate_dt)")
        for cls in (CHM.Meeting, SCHEMA.Event, PROV.Activity):
            out.own.add(node, RDF.type, cls)
        out.own.add(node, SCHEMA.startDate, lit(start.value[:10], datatype=XSD.date))
        end = date_literal(doc.get("endDate_dt"))
        if end is not None:
            out.own.add(node, SCHEMA.endDate, lit(end.value[:10], datatype=XSD.date))
        out.own.add(node, CHM.meetingNumber, lit(number))
        out.own.add(node, CHM.meetingCode, lit(str(symbol)))
        for lang, text in titles or [("en", str(symbol))]:
            out.own.add(node, SKOS.prefLabel, lit(text, lang))
        country = doc.get("eventCountry_s")
        if isinstance(country, str) and re.fullmatch(r"[A-Za-z]{2}", country):
            out.own.add(node, CHM.country, lit(country.upper()))
        city = doc.get("eventCity_EN_t") or doc.get("eventCity_t")
        if isinstance(city, str) and city.strip():
            out.own.add(node, CHM.city, lit(city.strip()))
        actor = m.actor(body)
        out.own.add(node, PROV.wasAssociatedWith, actor)
        if slug(body) not in bundled_actors():
            out.shared.add(actor, RDF.type, FOAF.Agent)
            out.shared.add(actor, SKOS.prefLabel, lit(body.upper(), "en"))
        for identifier in strings(doc.get("themes_ss")):
            out.own.add(node, DCTERMS.subject, subject_concept(m, out.shared, identifier))
        return out

    def _record(self, item: Item, doc: dict, schema: str) -> Mapped:
        m, out = self.m, Mapped()
        if schema == "notification" and isinstance(doc.get("symbol_s"), str) and re.fullmatch(r"\d{4}-\d{3}", doc["symbol_s"]):
            node = m.notification(doc["symbol_s"])  # the node decision elements refer to
        else:
            node = m.record(str(doc.get("identifier_s") or item.key))
        out.subjects.append(node)
        titles = per_language(doc, "title")
        if not titles:
            raise SourceError(f"{schema} {item.key} has no title")
        out.own.add(node, RDF.type, CHM.Record)
        code, label = RECORD_TYPES[schema]
        out.own.add(node, DCTERMS.type, record_type(m, out.shared, code, label))
        out.own.add(node, CHM.recordSchema, lit(schema))
        for lang, text in titles:
            out.own.add(node, DCTERMS.title, lit(text, lang))
            out.own.add(node, SKOS.prefLabel, lit(text, lang))
            out.own.add(node, DCTERMS.language, lit(lang))
        self.provenance(out, node, str(doc.get("identifier_s") or doc.get("symbol_s") or item.key), item.url, item.revision)
        for lang, text in per_language(doc, "summary") + per_language(doc, "description"):
            out.own.add(node, DCTERMS.description, lit(text, lang))
        government = doc.get("government_s")
        if isinstance(government, str) and re.fullmatch(r"[A-Za-z]{2,3}", government):
            out.own.add(node, CHM.country, lit(government.upper()))
        issued = date_literal(doc.get("date_dt") or doc.get("createdDate_dt"))
        if issued is not None:
            out.own.add(node, DCTERMS.issued, issued)
        modified = date_literal(doc.get("updatedDate_dt"))
        if modified is not None:
            out.own.add(node, DCTERMS.modified, modified)
        for field in ("themes_ss", "globalTargetAlignment_ss", "globalGoalAlignment_ss", "aichiTargets_ss", "gbfTargets_ss"):
            for identifier in strings(doc.get(field)):
                out.own.add(node, DCTERMS.subject, subject_concept(m, out.shared, identifier))
        for code_ in strings(doc.get("meeting_ss")):
            key = meeting_key(code_)
            if key:
                out.own.add(node, DCTERMS.references, m.meeting(*key))
        return out

    def _decision_text(self, item: Item, doc: dict) -> Mapped:
        from harvest.sources.cbd_decisions import element_number

        m, out = self.m, Mapped()
        code = doc.get("dttParagraphCode_s") or doc.get("dttCode_s")
        if not isinstance(code, str):
            raise SourceError(f"decision text {item.key} has no dttCode_s")
        sym, element = decision_symbol(code)
        decision = m.decision(sym.canonical)
        em = re.fullmatch(r"(?P<section>[A-Z]?)(?P<para>\d{1,3})(?:\.(?P<item>\d{1,3}))?(?:\.(?P<sub>\d{1,3}))?", element or "")
        if not em:
            raise SourceError(f"decision text {item.key}: {code!r} does not name a paragraph")
        number = element_number(em.group("section") or None, int(em.group("para")),
                                int(em.group("item")) if em.group("item") else None, int(em.group("sub")) if em.group("sub") else None)
        node = m.decision_paragraph(sym.canonical, number)
        out.subjects.append(node)
        for cls in (ELI.LegalResourceSubdivision, CHM.DecisionParagraph):
            out.own.add(node, RDF.type, cls)
        out.own.add(node, ELI.is_part_of, decision)
        out.own.add(node, ELI.number, lit(number))
        out.own.add(node, SKOS.prefLabel, lit(f"Decision {sym.canonical}, paragraph {number}", "en"))
        self.provenance(out, node, code, item.url)
        for lang, text in per_language(doc, "title"):
            out.own.add(node, CHM.fullText, lit(text, lang))
        for t in strings(doc.get("dttType_ss")):
            if t in TYPES:
                out.own.add(node, CHM.elementType, m.concept("element-type", TYPES[t]))
        for s in strings(doc.get("dttStatus_ss")):
            if s in STATUSES:
                out.own.add(node, CHM.trackingStatus, m.concept("decision-status", s))
        for a in strings(doc.get("dttActor_ss")):
            out.own.add(node, CHM.addressedTo, m.actor(a))
            if slug(a) not in bundled_actors():
                out.shared.add(m.actor(a), RDF.type, FOAF.Agent)
                out.shared.add(m.actor(a), SKOS.prefLabel, lit(a.replace("-", " "), "en"))
        for field in ("dttSubject_ss", "dttAichiTarget_ss", "dttGbfTarget_ss", "dttGbfGoal_ss"):
            for identifier in strings(doc.get(field)):
                out.own.add(node, DCTERMS.subject, subject_concept(m, out.shared, identifier))
        return out
