"""``informea``: InforMEA's OData service (``/informea.svc``): Decisions, Meetings, CountryReports, NationalPlans.

OData v1/v2 JSON (``{"d": [...]}`` or ``{"d": {"results": [...]}}``), ``/Date(ms)/`` dates, localised
strings as ``[{language, value}]``. Paging is client-driven (``$top``/``$skip``): the server caps ``$top``
at 100 without saying so and produces no ``__next``, and the page past the last may be a 404. The
harvester stops at a short page, a 404, a page that repeats the previous one, or — when the server did
give ``__next`` — where ``__next`` ends.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from harvest.client import Client
from harvest.sources.base import FetchContext, Item, Mapped, Source, date_literal, digest, record_type, subject_concept
from loaders.triples import lit
from ontology import CHM, DCTERMS, ELI, PROV, RDF, SCHEMA, SKOS
from ontology.errors import SourceError, SymbolError
from ontology.symbols import parse_symbol

ENTITY_SETS = ("Decisions", "Meetings", "CountryReports", "NationalPlans")
EXPAND = {"Decisions": "title,keywords,files,content,summary", "Meetings": "title,description",
          "CountryReports": "title,files", "NationalPlans": "title,files"}
TOP = 100
TREATY_BODY = {"cbd": "cop", "cartagena": "cp", "nagoya": "np"}
_ROMAN_NUMBER = re.compile(r"^(?P<meeting>[IVXLC]+|\d{1,2})/(?P<number>\d{1,3})$")


def localized(value: Any) -> list[tuple[str, str]]:
    """``[{language, value}]`` → [(lang, text)], skipping the stub objects unset fields hold."""
    out = []
    for entry in value if isinstance(value, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("language"), str) and isinstance(entry.get("value"), str):
            if entry["value"].strip() and re.fullmatch(r"[a-z]{2,3}", entry["language"].lower()):
                out.append((entry["language"].lower(), " ".join(entry["value"].split())))
    return out


def page_entities(data: Any) -> tuple[list[dict], str | None]:
    """The entities of an OData JSON page in either envelope, and ``__next`` when there is one."""
    d = data.get("d") if isinstance(data, dict) else None
    if isinstance(d, list):
        return [e for e in d if isinstance(e, dict)], None
    if isinstance(d, dict) and isinstance(d.get("results"), list):
        nxt = d.get("__next")
        return [e for e in d["results"] if isinstance(e, dict)], nxt if isinstance(nxt, str) else None
    raise SourceError("the OData answer has neither d.results nor a d array")


class Informea(Source):
    name = "informea"
    title = "InforMEA OData service of the CBD"
    default_url = "https://api.cbd.int/informea.svc"

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        sets = [s for s in (ctx.options.get("sets") or ",".join(ENTITY_SETS)).split(",") if s]
        resume = ctx.cursor if isinstance(ctx.cursor, dict) else {}
        for entity_set in sets:
            if resume and sets.index(entity_set) < sets.index(resume.get("set", sets[0])):
                continue
            skip = int(resume.get("skip", 0)) if resume.get("set") == entity_set else 0
            previous: list[str] | None = None
            next_url: str | None = None
            while True:
                if next_url:
                    r = client.get_json(next_url, allow=(404,))
                else:
                    r = client.get_json(f"/{entity_set}", {"$top": TOP, "$skip": skip, "$format": "json",
                                                           "$expand": EXPAND[entity_set], "$orderby": "updated desc,id"},
                                        allow=(404,))
                if r.data is None:  # 404: past the last page ("No record found")
                    break
                entities, nxt = page_entities(r.data)
                ids = [str(e.get("id")) for e in entities]
                if not entities or ids == previous:
                    break
                for e in entities:
                    if e.get("id") in (None, ""):
                        continue
                    yield Item(key=f"{entity_set}:{e['id']}", payload={"set": entity_set, "entity": e},
                               revision=str(e.get("updated") or digest(e)), cursor={"set": entity_set, "skip": skip},
                               url=str(e.get("link") or e.get("url") or ""))
                previous = ids
                skip += len(entities)
                if nxt:
                    next_url = nxt
                    continue
                if next_url and not nxt:  # it gave __next before and no longer does: that was the last page
                    break
                if len(entities) < TOP:
                    break

    def map(self, item: Item) -> Mapped:
        entity_set, e = item.payload["set"], item.payload["entity"]
        if entity_set == "Decisions":
            return self._decision(item, e)
        return self._record(item, entity_set, e)

    def _decision(self, item: Item, e: dict) -> Mapped:
        m, out = self.m, Mapped()
        treaty = str(e.get("treaty") or "").lower()
        body = TREATY_BODY.get(treaty)
        number = str(e.get("number") or "").strip()
        if body is None:
            raise SourceError(f"decision {e.get('id')}: treaty {treaty!r} is not one the hub holds")
        prefix = {"cop": "", "cp": "CP-", "np": "NP-"}[body]
        sym = None
        for candidate in dict.fromkeys([number, prefix + number]):  # "BS-VI/3", or "VI/3" for a Cartagena decision
            try:
                parsed = parse_symbol(candidate)
            except SymbolError:
                continue
            if parsed.body == body:
                sym = parsed
                break
        if sym is None:
            raise SourceError(f"decision {e.get('id')}: number {number!r} is not a {treaty} decision symbol")
        d = m.decision(sym.canonical)
        out.subjects.append(d)
        titles = localized(e.get("title"))
        if not titles:
            raise SourceError(f"decision {e.get('id')} has no title")
        for cls in (ELI.LegalResource, CHM.Decision, SCHEMA.Legislation):
            out.own.add(d, RDF.type, cls)
        out.own.add(d, CHM.symbol, lit(sym.canonical))
        out.own.add(d, CHM.decisionNumber, lit(sym.number))
        meeting_body = {"cop": "cop", "cp": "cp-mop", "np": "np-mop"}[body]
        out.own.add(d, PROV.wasGeneratedBy, m.meeting(meeting_body, sym.meeting))
        for lang, text in titles:
            out.own.add(d, ELI.title, lit(text, lang))
        self.provenance(out, d, f"informea:{e['id']}", item.url or None)
        for keyword in e.get("keywords") or []:
            if isinstance(keyword, dict) and isinstance(keyword.get("term"), str):
                out.own.add(d, DCTERMS.subject, subject_concept(m, out.shared, keyword["term"]))
        return out

    def _record(self, item: Item, entity_set: str, e: dict) -> Mapped:
        m, out = self.m, Mapped()
        node = m.record(f"informea-{entity_set}-{e['id']}")
        out.subjects.append(node)
        titles = localized(e.get("title"))
        if not titles:
            raise SourceError(f"{entity_set} {e['id']} has no title")
        code, label = {"Meetings": ("meeting", "meeting"), "CountryReports": ("national-report", "national report"),
                       "NationalPlans": ("national-plan", "national plan (NBSAP)")}[entity_set]
        out.own.add(node, RDF.type, CHM.Record)
        if entity_set == "Meetings":
            out.own.add(node, RDF.type, SCHEMA.Event)
        out.own.add(node, DCTERMS.type, record_type(m, out.shared, code, label))
        for lang, text in titles:
            out.own.add(node, DCTERMS.title, lit(text, lang))
            out.own.add(node, SKOS.prefLabel, lit(text, lang))
            out.own.add(node, DCTERMS.language, lit(lang))
        for lang, text in localized(e.get("description")):
            out.own.add(node, DCTERMS.description, lit(text, lang))
        self.provenance(out, node, f"informea:{e['id']}", str(e.get("url") or e.get("link") or "") or None)
        country = e.get("country")
        if isinstance(country, str) and re.fullmatch(r"[A-Za-z]{2,3}", country):
            out.own.add(node, CHM.country, lit(country.upper()))
        for field, prop in (("submission", DCTERMS.issued), ("start", SCHEMA.startDate), ("end", SCHEMA.endDate),
                            ("updated", DCTERMS.modified)):
            value = date_literal(e.get(field))
            if value is not None:
                out.own.add(node, prop, value)
        return out
