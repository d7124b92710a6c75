"""OAI-PMH 2.0 provider: decisions, meetings, articles, UN documents and CHM records for harvesters
that work that way (InforMEA-like portals, repositories, libraries).

Verbs: Identify, ListMetadataFormats, ListSets, ListIdentifiers, ListRecords, GetRecord. Metadata
formats: ``oai_dc`` (Dublin Core) and ``rdf`` (the item's own triples as RDF/XML). Sets: by class
(``class:decision``), by meeting (``meeting:cop-15``: a meeting and its decisions) and by country
(``country:fr``: records about it). A datestamp is the time the graph holding the item was last
loaded or changed (the meta graph's provenance); deleted records are not kept (``deletedRecord no``).

The item list is an index built once per write generation; every argument is checked against it in
Python — nothing from a request reaches a query but IRIs the index holds, as bound terms. Resumption
tokens carry the request and a cursor (the last datestamp and identifier sent), so a harvest resumed
after a write neither repeats nor skips what it had not reached.
"""

from __future__ import annotations

import base64
import json
import re
import xml.etree.ElementTree as ET
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

import pyoxigraph as ox

from ontology import CHM, DCTERMS, ELI, PROV, SCHEMA, SKOS
from sparql.builder import prefixed
from sparql.store import Store

PAGE = 100
KINDS = {"decision": CHM.Decision, "meeting": CHM.Meeting, "article": CHM.Article, "document": CHM.Document, "record": CHM.Record}
KIND_OF = {v: k for k, v in KINDS.items()}
OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "rdf": ("http://www.openarchives.org/OAI/2.0/rdf.xsd", RDF_NS),
}
ARGS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
}
for _prefix, _uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("xsi", XSI), ("rdf", RDF_NS)):
    ET.register_namespace(_prefix, _uri)

ITEMS = prefixed("""SELECT ?x ?type ?g WHERE { GRAPH ?g { ?x a ?type }
  FILTER (?type IN (chm:Decision, chm:Meeting, chm:Article, chm:Document, chm:Record)) }""")
TIMES = prefixed("SELECT ?meta ?g ?when ?m WHERE { GRAPH $meta { ?g prov:generatedAtTime ?when OPTIONAL { ?g dcterms:modified ?m } } }")
MEETING_OF = prefixed("SELECT ?x ?code WHERE { { ?x prov:wasGeneratedBy ?mt . ?mt chm:meetingCode ?code } UNION { ?x chm:meetingCode ?code } }")
COUNTRY_OF = prefixed("SELECT ?x ?c WHERE { ?x chm:country ?c }")
LABELS = (SKOS.prefLabel, ELI.title, DCTERMS.title)


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class Item:
    iri: str
    kind: str
    datestamp: str
    sets: set[str] = field(default_factory=set)


@dataclass
class OaiIndex:
    items: list[Item]                  # sorted by (datestamp, iri)
    by_iri: dict[str, Item]
    sets: dict[str, str]               # setSpec → setName
    keys: list[tuple[str, str]]        # (datestamp, iri) of items, for the cursor

    @property
    def earliest(self) -> str:
        return self.items[0].datestamp if self.items else "1970-01-01T00:00:00Z"


def _stamp(value: str) -> str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return "1970-01-01T00:00:00Z"


def build_index(store: Store, meta_graph: str) -> OaiIndex:
    times: dict[str, str] = {}
    for r in store.select(TIMES, {"meta": ox.NamedNode(meta_graph)}, union=False):
        times[r["g"].value] = _stamp((r.get("m") or r["when"]).value)
    found: dict[str, Item] = {}
    for r in store.select(ITEMS, union=False):
        x, g = r["x"].value, r["g"].value
        if g == meta_graph or not isinstance(r["x"], ox.NamedNode):
            continue
        stamp = times.get(g, "1970-01-01T00:00:00Z")
        kind = KIND_OF[r["type"].value]
        item = found.get(x)
        if item is None:
            found[x] = Item(x, kind, stamp, {"class:" + kind})
        else:
            item.datestamp = max(item.datestamp, stamp)
            item.sets.add("class:" + kind)
    names = {f"class:{k}": f"{k.capitalize()}s" for k in KINDS}
    for r in store.select(MEETING_OF):
        item = found.get(r["x"].value)
        if item is not None:
            spec = "meeting:" + re.sub(r"[^a-z0-9-]", "-", r["code"].value.lower())
            item.sets.add(spec)
            names[spec] = "Meeting " + r["code"].value + " and its decisions"
    for r in store.select(COUNTRY_OF):
        item = found.get(r["x"].value)
        if item is not None:
            code = r["c"].value.rstrip("/").rsplit("/", 1)[-1].lower()
            if re.fullmatch(r"[a-z]{2,3}", code):
                item.sets.add("country:" + code)
                names["country:" + code] = "Country " + code.upper()
    items = sorted(found.values(), key=lambda i: (i.datestamp, i.iri))
    used = {s for i in items for s in i.sets}
    return OaiIndex(items, found, {k: v for k, v in sorted(names.items()) if k in used}, [(i.datestamp, i.iri) for i in items])


def shared_index(hub) -> OaiIndex:
    """The index of this write generation, one per hub (OAI-PMH and the feeds' dates read it)."""
    return hub.derived("oai", lambda: build_index(hub.store, hub.settings.meta_graph), stale_ok=True)


# -- requests --------------------------------------------------------------------------------------
def _date_arg(value: str, name: str, end: bool) -> tuple[str, str]:
    """(normalised datestamp, granularity) of a from/until argument."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            raise OaiError("badArgument", f"{name} is not a date: {value[:40]!r}") from None
        return value + ("T23:59:59Z" if end else "T00:00:00Z"), "day"
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", value):
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise OaiError("badArgument", f"{name} is not a datestamp: {value[:40]!r}") from None
        return value, "seconds"
    raise OaiError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ, not {value[:40]!r}")


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(state, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode(token: str) -> dict:
    try:
        state = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode())
    except (ValueError, UnicodeDecodeError):
        raise OaiError("badResumptionToken", "the resumption token is not one this repository issued") from None
    if not isinstance(state, dict) or not all(isinstance(state.get(k), str) for k in ("p", "k", "i")) or \
            not all(isinstance(state.get(k, ""), str) for k in ("s", "f", "u")) or not isinstance(state.get("c"), int):
        raise OaiError("badResumptionToken", "the resumption token is not one this repository issued")
    return state


class Provider:
    def __init__(self, store: Store, base: str, meta_graph: str, admin_email: str, name: str = "CHM Knowledge Hub") -> None:
        self.store, self.base, self.meta, self.admin_email, self.name = store, base, meta_graph, admin_email, name
        self.host = urlsplit(base).hostname or "localhost"

    # identifiers: oai:<host>:<path the hub mints>
    def oai_id(self, iri: str) -> str:
        return f"oai:{self.host}:{iri[len(self.base):]}" if iri.startswith(self.base) else f"oai:{self.host}:{iri}"

    def iri_of(self, identifier: str) -> str:
        prefix = f"oai:{self.host}:"
        if not identifier.startswith(prefix):
            raise OaiError("idDoesNotExist", f"{identifier[:200]!r} is not an identifier of this repository ({prefix}…)")
        local = identifier[len(prefix):]
        return local if local.startswith(("http://", "https://")) else self.base + local

    def respond(self, index: OaiIndex, params: list[tuple[str, str]], now: datetime | None = None) -> bytes:
        now = now or datetime.now(UTC)
        root = ET.Element(f"{{{OAI}}}OAI-PMH", {f"{{{XSI}}}schemaLocation": f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
        ET.SubElement(root, f"{{{OAI}}}responseDate").text = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        request = ET.SubElement(root, f"{{{OAI}}}request")
        request.text = self.base + "oai"
        try:
            args = self._check(params)
            verb = args.pop("verb")
            for k, v in [("verb", verb), *sorted(args.items())]:
                request.set(k, v)
            body = ET.SubElement(root, f"{{{OAI}}}{verb}")
            getattr(self, "_" + verb)(index, args, body)
        except OaiError as e:
            if len(root) > 2:
                root.remove(root[2])
            ET.SubElement(root, f"{{{OAI}}}error", {"code": e.code}).text = e.message
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)

    def _check(self, params: list[tuple[str, str]]) -> dict[str, str]:
        seen: dict[str, str] = {}
        for k, v in params:
            if k in seen:
                raise OaiError("badArgument" if k != "verb" else "badVerb", f"the argument {k[:40]!r} is repeated")
            seen[k] = v
        verb = seen.get("verb")
        if verb not in ARGS:
            raise OaiError("badVerb", "no verb" if verb is None else f"{verb[:40]!r} is not an OAI-PMH verb (one of {', '.join(ARGS)})")
        required, optional = ARGS[verb]
        given = set(seen) - {"verb"}
        if "resumptionToken" in given:
            if given != {"resumptionToken"}:
                raise OaiError("badArgument", "resumptionToken is an exclusive argument")
            return seen
        unknown = given - required - optional
        if unknown:
            raise OaiError("badArgument", f"{verb} takes no argument {', '.join(sorted(x[:40] for x in unknown))}")
        missing = required - given
        if missing:
            raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}")
        return seen

    # -- verbs ---------------------------------------------------------------------------------------
    def _Identify(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        for tag, text in (("repositoryName", self.name), ("baseURL", self.base + "oai"), ("protocolVersion", "2.0"),
                          ("adminEmail", self.admin_email), ("earliestDatestamp", index.earliest), ("deletedRecord", "no"),
                          ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
            ET.SubElement(body, f"{{{OAI}}}{tag}").text = text
        desc = ET.SubElement(body, f"{{{OAI}}}description")
        ns = "http://www.openarchives.org/OAI/2.0/oai-identifier"
        ident = ET.SubElement(desc, f"{{{ns}}}oai-identifier",
                              {f"{{{XSI}}}schemaLocation": f"{ns} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"})
        for tag, text in (("scheme", "oai"), ("repositoryIdentifier", self.host), ("delimiter", ":"),
                          ("sampleIdentifier", f"oai:{self.host}:decision/cop/15/16")):
            ET.SubElement(ident, f"{{{ns}}}{tag}").text = text

    def _ListMetadataFormats(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        if "identifier" in args and self.iri_of(args["identifier"]) not in index.by_iri:
            raise OaiError("idDoesNotExist", f"no item {args['identifier'][:200]!r}")
        for prefix, (schema, namespace) in FORMATS.items():
            f = ET.SubElement(body, f"{{{OAI}}}metadataFormat")
            ET.SubElement(f, f"{{{OAI}}}metadataPrefix").text = prefix
            ET.SubElement(f, f"{{{OAI}}}schema").text = schema
            ET.SubElement(f, f"{{{OAI}}}metadataNamespace").text = namespace

    def _ListSets(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets is answered in one response; there is no token to resume")
        for spec, name in index.sets.items():
            s = ET.SubElement(body, f"{{{OAI}}}set")
            ET.SubElement(s, f"{{{OAI}}}setSpec").text = spec
            ET.SubElement(s, f"{{{OAI}}}setName").text = name

    def _ListIdentifiers(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        self._list(index, args, body, records=False)

    def _ListRecords(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        self._list(index, args, body, records=True)

    def _GetRecord(self, index: OaiIndex, args: dict, body: ET.Element) -> None:
        prefix = args["metadataPrefix"]
        if prefix not in FORMATS:
            raise OaiError("cannotDisseminateFormat", f"{prefix[:40]!r} is not offered (oai_dc, rdf)")
        item = index.by_iri.get(self.iri_of(args["identifier"]))
        if item is None:
            raise OaiError("idDoesNotExist", f"no item {args['identifier'][:200]!r}")
        self._records([item], prefix, body, records=True)

    # -- lists with resumption -----------------------------------------------------------------------
    def _list(self, index: OaiIndex, args: dict, body: ET.Element, records: bool) -> None:
        if "resumptionToken" in args:
            state = _decode(args["resumptionToken"])
            prefix, set_spec, frm, until, cursor = state["p"], state.get("s", ""), state.get("f", ""), state.get("u", ""), state["c"]
            after = (state["k"], state["i"])
            if prefix not in FORMATS or (set_spec and set_spec not in index.sets):
                raise OaiError("badResumptionToken", "the resumption token names a format or set this repository does not have")
        else:
            prefix, set_spec, cursor, after = args["metadataPrefix"], args.get("set", ""), 0, None
            if prefix not in FORMATS:
                raise OaiError("cannotDisseminateFormat", f"{prefix[:40]!r} is not offered (oai_dc, rdf)")
            frm = until = ""
            gf = gu = None
            if "from" in args:
                frm, gf = _date_arg(args["from"], "from", end=False)
            if "until" in args:
                until, gu = _date_arg(args["until"], "until", end=True)
            if gf and gu and gf != gu:
                raise OaiError("badArgument", "from and until must have the same granularity")
            if frm and until and frm > until:
                raise OaiError("badArgument", "from is later than until")
            if set_spec and set_spec not in index.sets:
                raise OaiError("badArgument", f"no set {set_spec[:60]!r}; ListSets names them")
        start = bisect_right(index.keys, after) if after else 0
        chosen: list[Item] = []
        total = 0
        more = False
        for item in index.items[start:] if after else index.items:
            if (frm and item.datestamp < frm) or (until and item.datestamp > until) or (set_spec and set_spec not in item.sets):
                continue
            if len(chosen) < PAGE:
                chosen.append(item)
            else:
                more = True
                break
        if not chosen:
            raise OaiError("noRecordsMatch", "no items match the request")
        self._records(chosen, prefix, body, records)
        if more or cursor:
            total = sum(1 for i in index.items if not ((frm and i.datestamp < frm) or (until and i.datestamp > until)
                                                       or (set_spec and set_spec not in i.sets)))
            token = ET.SubElement(body, f"{{{OAI}}}resumptionToken", {"completeListSize": str(total), "cursor": str(cursor)})
            if more:
                last = chosen[-1]
                token.text = _encode({"p": prefix, "s": set_spec, "f": frm, "u": until, "c": cursor + len(chosen),
                                      "k": last.datestamp, "i": last.iri})

    def _header(self, parent: ET.Element, item: Item) -> None:
        h = ET.SubElement(parent, f"{{{OAI}}}header")
        ET.SubElement(h, f"{{{OAI}}}identifier").text = self.oai_id(item.iri)
        ET.SubElement(h, f"{{{OAI}}}datestamp").text = item.datestamp
        for spec in sorted(item.sets):
            ET.SubElement(h, f"{{{OAI}}}setSpec").text = spec

    def _records(self, items: list[Item], prefix: str, body: ET.Element, records: bool) -> None:
        if not records:
            for item in items:
                self._header(body, item)
            return
        triples: dict[str, list[tuple]] = defaultdict(list)
        for s, p, o, _g in self.store.quads_touching([i.iri for i in items], exclude=(self.meta,)):
            triples[s.value].append((p, o))
        labels: dict[str, list[ox.Literal]] = defaultdict(list)
        if prefix == "oai_dc":
            linked = sorted({o.value for ts in triples.values() for p, o in ts
                             if p.value == DCTERMS.subject and isinstance(o, ox.NamedNode)})
            for s, p, o, _g in self.store.quads_touching(linked, predicates=(SKOS.prefLabel,), exclude=(self.meta,)):
                labels[s.value].append(o)
        for item in items:
            rec = ET.SubElement(body, f"{{{OAI}}}record")
            self._header(rec, item)
            meta = ET.SubElement(rec, f"{{{OAI}}}metadata")
            if prefix == "oai_dc":
                self._dc(meta, item, triples.get(item.iri, []), labels)
            else:
                self._rdf(meta, item, triples.get(item.iri, []))

    def _dc(self, meta: ET.Element, item: Item, ts: list[tuple], labels: dict) -> None:
        dc = ET.SubElement(meta, f"{{{OAI_DC}}}dc", {f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

        def add(tag: str, text: str, lang: str | None = None) -> None:
            e = ET.SubElement(dc, f"{{{DC}}}{tag}")
            e.text = text
            if lang:
                e.set("{http://www.w3.org/XML/1998/namespace}lang", lang)

        seen: set[tuple[str, str, str]] = set()
        titles = [o for p, o in ts if p.value in LABELS and isinstance(o, ox.Literal)]
        first = [o for o in titles if o.language in (None, "en")][:1] or titles[:1]
        for o in first + [o for o in titles if o.language not in (None, "en")]:
            key = ("title", o.value, o.language or "")
            if key not in seen:
                seen.add(key)
                add("title", o.value, o.language)
        add("identifier", item.iri)
        add("type", item.kind)
        for p, o in ts:
            v, pv = o.value, p.value
            if pv in (CHM.symbol, DCTERMS.identifier) and isinstance(o, ox.Literal):
                add("identifier", v)
            elif pv in (ELI.date_document, SCHEMA.startDate, DCTERMS.date):
                add("date", v)
            elif pv == DCTERMS.description and isinstance(o, ox.Literal):
                add("description", v, o.language)
            elif pv == DCTERMS.language:
                add("language", v)
            elif pv == DCTERMS.subject and isinstance(o, ox.NamedNode):
                names = labels.get(v, [])
                name = next((x.value for x in names if x.language == "en"), names[0].value if names else v)
                add("subject", name)
            elif pv in (ELI.cites, ELI.amends, DCTERMS.replaces, ELI.repeals, ELI.based_on, PROV.wasGeneratedBy) and isinstance(o, ox.NamedNode):
                add("relation", v)
        add("publisher", "Secretariat of the Convention on Biological Diversity" if item.kind in ("decision", "meeting", "document")
            else "CHM Knowledge Hub")

    def _rdf(self, meta: ET.Element, item: Item, ts: list[tuple]) -> None:
        node = ox.NamedNode(item.iri)
        data = ox.serialize([ox.Triple(node, p, o) for p, o in ts], format=ox.RdfFormat.RDF_XML)
        meta.append(ET.fromstring(data or f'<rdf:RDF xmlns:rdf="{RDF_NS}"/>'.encode()))


