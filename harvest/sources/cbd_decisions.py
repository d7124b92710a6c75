"""``cbd-decisions``: the decision-tracking API (``/api/v2021/decisions``) → decisions and their elements.

Lists the decisions of a body (``q={"body":"COP"}``, paged with ``sk``/``l`` until a short page —
the API returns no paging metadata), then reads each decision's tree (``/{code}/tree``, the code's
slashes URL-encoded) with a conditional GET. Each decision becomes the hub's decision (``CBD/COP/15/04``
→ ``decision/cop/15/4``, the node a bundled or harvested 15/4 share) with its titles per language, its
meeting, subjects and targets; each node becomes an element: a section, an annex, a numbered paragraph,
item or sub-item (``A01.02.01`` → section A, paragraph 1 (b) (i)) or a preamble paragraph, with its
type, statuses, actors, subjects, targets, references and text per language (HTML → text).
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from harvest.client import NOT_MODIFIED, Client, HarvestHTTPError
from harvest.sources.base import FetchContext, Item, Mapped, Source, html_text, lstrings, strings, subject_concept
from loaders.triples import lit
from ontology import CHM, DCTERMS, ELI, FOAF, PROV, RDF, SCHEMA, SKOS
from ontology.errors import SourceError, SymbolError
from ontology.iris import slug
from ontology.symbols import Symbol, to_roman
from ontology.documents import add_document
from ontology.tracking import actor_key
from tagging.decision_rdf import add_acts
from tagging.structure import Element, classify

PAGE = 100
STATUSES = {"active", "implemented", "elapsed", "superseded", "retired", "inactive", "require-funding", "stagnant"}
TYPES = {"operational": "operational", "informational": "informational", "information": "informational"}
BODIES = {("CBD", "COP"): "cop", ("CPB", "MOP"): "cp", ("CP", "MOP"): "cp", ("BS", "MOP"): "cp", ("CP", "COP-MOP"): "cp",
          ("NP", "MOP"): "np", ("ABS", "MOP"): "np", ("NP", "COP-MOP"): "np"}
MEETING_BODIES = {"cop": "cop", "cp": "cp-mop", "np": "np-mop"}
_CODE = re.compile(r"^(?P<treaty>[A-Z]+)/(?P<body>[A-Z-]+)/(?P<session>\d{1,2})/(?P<decision>\d{1,3})"
                   r"(?:[/.](?P<element>[A-Z]?(?:\d{1,3})?(?:\.\d{1,3}){0,2}))?$")
_MEETING = re.compile(r"^(?P<body>[A-Za-z-]+?)-?(?P<number>\d{1,2})$")
_NOTIFICATION = re.compile(r"^\d{4}-\d{3}$")
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def decision_symbol(code: str, treaty_body: tuple[str, str] | None = None) -> tuple[Symbol, str | None]:
    """``CBD/COP/15/04`` → (15/4, None); ``CBD/COP/15/04/A01.02`` → (15/4, ``A01.02``)."""
    m = _CODE.match(code.strip())
    if not m:
        raise SymbolError(f"{code!r} is not a decision code (expected TREATY/BODY/SESSION/DECISION, e.g. CBD/COP/15/04)")
    body = BODIES.get((m.group("treaty"), m.group("body")))
    if body is None:
        raise SymbolError(f"{code!r}: no decisions of {m.group('treaty')}/{m.group('body')} in the hub (COP, CP-MOP, NP-MOP)")
    session, number = int(m.group("session")), int(m.group("decision"))
    if session < 1 or number < 1:
        raise SymbolError(f"{code!r}: session and decision numbers start at 1")
    return Symbol(body, session, number), m.group("element") or None


def element_number(section: str | None, paragraph: int | None, item: int | None, subitem: int | None) -> str:
    """``("A", 1, 2, 1)`` → ``"A.1 (b) (i)"``; ``(None, 9, 6, None)`` → ``"9 (f)"`` (as the bundled paragraphs)."""
    text = str(paragraph)
    if section:
        text = f"{section}.{text}"
    if item:
        text += f" ({LETTERS[(item - 1) % 26]})"
    if subitem:
        text += f" ({to_roman(subitem).lower()})"
    return text


_SECTION = re.compile(r"[A-Z]")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


class CbdDecisions(Source):
    name = "cbd-decisions"
    title = "CBD decision-tracking API (decisions and their elements)"
    default_url = "https://api.cbd.int"

    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        body = ctx.options.get("body", "COP")
        skip = int(ctx.cursor.get("sk", 0)) if isinstance(ctx.cursor, dict) else 0
        while True:
            page = client.get_json("/api/v2021/decisions", {"q": json.dumps({"body": body}), "s": json.dumps({"code": 1}),
                                                             "sk": skip, "l": PAGE}).data
            if not isinstance(page, list):
                raise HarvestHTTPError(f"/api/v2021/decisions answered {type(page).__name__}, expected a JSON array of decisions")
            codes = [entry.get("code") if isinstance(entry, dict) else None for entry in page]
            for code in codes:
                if not isinstance(code, str):
                    yield Item(key=f"#{skip}", error="a listed decision has no code", cursor={"sk": skip})
            # the trees of a page, over the client's connections, in the listed order
            with ThreadPoolExecutor(max_workers=client.politeness.connections) as pool:
                yield from pool.map(lambda code: self._fetch(client, code, ctx, {"sk": skip}),
                                    [c for c in codes if isinstance(c, str)])
            if len(page) < PAGE:
                return
            skip += len(page)

    def _fetch(self, client: Client, code: str, ctx: FetchContext, cursor: dict) -> Item:
        known = ctx.known.get(code)
        path = "/api/v2021/decisions/" + quote(code, safe="") + "/tree"
        try:
            r = client.get_json(path, etag=known.etag if known else None, last_modified=known.modified if known else None)
        except HarvestHTTPError as e:
            return Item(key=code, error=str(e), cursor=cursor)
        if r.data is NOT_MODIFIED:
            return Item(key=code, unchanged=True, etag=r.etag, modified=r.last_modified, url=r.url, cursor=cursor)
        if not isinstance(r.data, dict):
            return Item(key=code, error=f"{path} did not answer a decision object", cursor=cursor)
        return Item(key=code, payload=r.data, etag=r.etag, modified=r.last_modified, url=r.url,
                    revision=str(r.data.get("updatedOn") or r.data.get("updated") or "") or None, cursor=cursor)

    # -- mapping ---------------------------------------------------------------------------
    def map(self, item: Item) -> Mapped:
        doc = item.payload
        sym, _ = decision_symbol(str(doc.get("code", item.key)))
        m, out = self.m, Mapped()
        own, shared = out.own, out.shared
        canonical = sym.canonical
        d = m.decision(canonical)
        out.subjects.append(d)
        for cls in (ELI.LegalResource, CHM.Decision, SCHEMA.Legislation):
            own.add(d, RDF.type, cls)
        own.add(d, CHM.symbol, lit(canonical))
        own.add(d, CHM.decisionNumber, lit(sym.number))
        titles = lstrings(doc.get("title"))
        if not titles:
            raise SourceError(f"decision {item.key} has no title")
        for lang, text in titles:
            own.add(d, ELI.title, lit(text, lang))
        own.add(d, SKOS.altLabel, lit(f"decision {canonical}", "en"))
        own.add(d, PROV.wasGeneratedBy, m.meeting(MEETING_BODIES[sym.body], sym.meeting))
        if isinstance(doc.get("symbol"), str) and doc["symbol"].strip():
            own.add(d, ELI.id_local, lit(doc["symbol"].strip()))
        self.provenance(out, d, str(doc.get("code", item.key)), item.url)
        self._tags(out, d, doc)
        nodes = doc.get("nodes") if isinstance(doc.get("nodes"), list) else []
        flat = list(_flatten(nodes, None))
        preamble = 0
        iris: dict[str, str] = {}
        structured: dict[str, Element] = {}
        for node, parent_id in flat:
            parent = iris.get(node.get("parentId") or parent_id or "")
            node_iri, preamble = self._element(out, sym, d, node, preamble, structured, structured.get(parent or ""))
            if isinstance(node.get("_id"), str):
                iris[node["_id"]] = node_iri
            if parent and parent != node_iri:
                own.add(node_iri, DCTERMS.isPartOf, parent)
                own.add(parent, DCTERMS.hasPart, node_iri)
        return out

    def _element(self, out: Mapped, sym: Symbol, d: str, node: dict, preamble: int, structured: dict[str, Element],
                 parent: Element | None) -> tuple[str, int]:
        m, own = self.m, out.own
        canonical = sym.canonical
        section = node.get("section") if isinstance(node.get("section"), str) and _SECTION.fullmatch(node["section"]) else None
        paragraph, item, subitem, annex = (_int(node.get(k)) for k in ("paragraph", "item", "subitem", "annex"))
        code = node.get("code") if isinstance(node.get("code"), str) else None
        if paragraph:
            number = element_number(section, paragraph, item, subitem)
            n = m.decision_annex(canonical, annex, number) if annex else m.decision_paragraph(canonical, number)
            label = f"Decision {canonical}, " + (f"annex {to_roman(annex)}, " if annex else "") + f"paragraph {number}"
            for cls in (ELI.LegalResourceSubdivision, CHM.DecisionParagraph):
                own.add(n, RDF.type, cls)
        elif annex and not section:
            number, n, label = f"Annex {to_roman(annex)}", m.decision_annex(canonical, annex), f"Decision {canonical}, annex {to_roman(annex)}"
            own.add(n, RDF.type, ELI.LegalResourceSubdivision)
        elif section:
            number, n, label = section, m.decision_section(canonical, section), f"Decision {canonical}, section {section}"
            own.add(n, RDF.type, ELI.LegalResourceSubdivision)
        else:
            preamble += 1
            number, n, label = f"PP{preamble}", m.decision_preamble(canonical, preamble), f"Decision {canonical}, preamble {preamble}"
            for cls in (ELI.LegalResourceSubdivision, CHM.DecisionParagraph):
                own.add(n, RDF.type, cls)
        out.subjects.append(n)
        own.add(n, ELI.number, lit(number))
        own.add(n, ELI.is_part_of, d)
        own.add(d, ELI.has_part, n)
        own.add(n, SKOS.prefLabel, lit(label, "en"))
        if code:
            own.add(n, DCTERMS.identifier, lit(code))
        texts: dict[str, str] = {}
        for lang, html in lstrings(node.get("html")):
            text = html_text(html)
            if text:
                own.add(n, CHM.fullText, lit(text, lang))
                texts.setdefault(lang, text)
        kind = TYPES.get(str(node.get("type") or ""))
        if kind:
            own.add(n, CHM.elementType, m.concept("element-type", kind))
        for status in strings(node.get("statuses")):
            if status in STATUSES:
                own.add(n, CHM.trackingStatus, m.concept("decision-status", status))
        if isinstance(node.get("statusInfo"), str) and node["statusInfo"].strip():
            own.add(n, CHM.statusNote, lit(node["statusInfo"].strip(), "en"))
        addressed = []
        for actor in strings(node.get("actors")):
            key = actor_key(actor)  # the tracker's code (SBSTTA, executive-secretary …) → the hub's actor
            a = m.actor(key or actor)
            addressed.append(a)
            own.add(n, CHM.addressedTo, a)
            if key is None and slug(actor) not in _bundled_actors():
                out.shared.add(a, RDF.type, FOAF.Agent)
                out.shared.add(a, SKOS.prefLabel, lit(actor.replace("-", " "), "en"))
                out.shared.add(a, SKOS.notation, lit(actor))
        # the text says what the element does: its acts, whom they address, by when
        lang = "en" if "en" in texts else next((x for x in ("fr", "es") if x in texts), None)
        if lang and (paragraph or not (annex or section)):
            el = Element("preamble" if not paragraph else "item" if subitem else "subparagraph" if item else "paragraph",
                         str(preamble) if not paragraph else number, texts[lang],
                         annex=to_roman(annex) if annex else None)
            classify(el, lang, parent, MEETING_BODIES.get(sym.body, "cop"))
            add_acts(own, m, n, el, canonical, d, addressed, typed=bool(kind))
            structured[n] = el
        self._tags(out, n, node)
        for ref in [*strings(node.get("decisions")), *strings(node.get("documents")), *strings(node.get("meetings")),
                    *strings(node.get("notifications")), *strings(node.get("outcomes"))]:
            target = self._reference(out, ref)
            if target:
                own.add(n, DCTERMS.references, target)
        return n, preamble

    def _tags(self, out: Mapped, node: str, doc: dict) -> None:
        for field in ("subjects", "aichiTargets", "gbfTargets", "gbfGoals"):
            for identifier in strings(doc.get(field)):
                out.own.add(node, DCTERMS.subject, subject_concept(self.m, out.shared, identifier))

    def _reference(self, out: Mapped, ref: str) -> str | None:
        """The rule of the decision-tracking tool (reference-type.js): URL, notification, decision or
        document (has a slash), else a meeting code."""
        m = self.m
        if re.match(r"^(https?:)?//", ref):
            url = ref if ref.startswith("http") else "https:" + ref
            return url if re.fullmatch(r"https?://[^\s<>\"{}|\\^`]+", url) else None
        if _NOTIFICATION.match(ref):
            return m.notification(ref)
        if "/" in ref:
            try:
                sym, element = decision_symbol(ref)
            except SymbolError:
                return add_document(out.shared, m, ref, labelled=False)
            if not element:
                return m.decision(sym.canonical)
            em = re.fullmatch(r"(?P<section>[A-Z]?)(?P<para>\d{1,3})?(?:\.(?P<item>\d{1,3}))?(?:\.(?P<sub>\d{1,3}))?", element)
            if em and em.group("para"):
                number = element_number(em.group("section") or None, int(em.group("para")),
                                        int(em.group("item")) if em.group("item") else None,
                                        int(em.group("sub")) if em.group("sub") else None)
                return m.decision_paragraph(sym.canonical, number)
            if em and em.group("section"):
                return m.decision_section(sym.canonical, em.group("section"))
            return m.decision(sym.canonical)
        mm = _MEETING.match(ref)
        if mm:
            return m.meeting(mm.group("body").lower(), int(mm.group("number")))
        return None


def _flatten(nodes: list, parent: str | None) -> Iterator[tuple[dict, str | None]]:
    for node in nodes:
        if not isinstance(node, dict):
            continue
        yield node, parent
        children = node.get("nodes")
        if isinstance(children, list):
            yield from _flatten(children, node.get("_id") if isinstance(node.get("_id"), str) else parent)


_ACTORS: set[str] | None = None


def _bundled_actors() -> set[str]:
    global _ACTORS
    if _ACTORS is None:
        import csv
        import io
        from importlib.resources import files

        text = files("loaders").joinpath("data", "bundled", "actors.csv").read_text(encoding="utf-8")
        _ACTORS = {row["key"] for row in csv.DictReader(io.StringIO(text))}
    return _ACTORS
