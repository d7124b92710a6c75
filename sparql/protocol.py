"""SPARQL 1.1 Protocol pieces that do not depend on HTTP: result formats, negotiation, serialisers.

Result *kinds* are ``solutions`` (SELECT), ``boolean`` (ASK) and ``graph`` (CONSTRUCT, DESCRIBE).
Each kind has its offers; an ``Accept`` header (which may mix results and RDF types, as rdflib's
SPARQLStore sends) is resolved against the offers of the query's kind. The ``format``, ``output``
and ``results`` parameters clients such as SPARQLWrapper add are honoured when they name an offer
and ignored otherwise.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Iterable
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from ontology.errors import ChmError

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class NotAcceptable(ChmError):
    code = "E304"
    http_status = 406


@dataclass(frozen=True)
class Offer:
    media_type: str
    name: str  # short name for format= / output= parameters
    aliases: tuple[str, ...] = ()


JSON_RESULTS = "application/sparql-results+json"
SOLUTION_OFFERS = (
    Offer(JSON_RESULTS, "json", ("srj", "application/json")),
    Offer("application/sparql-results+xml", "xml", ("srx", "application/xml", "text/xml")),
    Offer("text/csv", "csv"),
    Offer("text/tab-separated-values", "tsv"),
)
GRAPH_OFFERS = (
    Offer("text/turtle", "turtle", ("ttl", "n3", "text/n3", "application/x-turtle")),
    Offer("application/n-triples", "ntriples", ("nt", "nt11", "text/plain")),
    Offer("application/ld+json", "json-ld", ("jsonld", "json", "application/json")),
    Offer("application/rdf+xml", "rdfxml", ("rdf", "xml", "rdf+xml", "application/xml", "text/xml")),
    Offer("application/n-quads", "nquads", ("nq",)),
    Offer("application/trig", "trig"),
)
RDF_FORMATS = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/trig": ox.RdfFormat.TRIG,
}


DOCUMENT_OFFERS = GRAPH_OFFERS[:4]  # a resource's description is triples: no quad formats


def offers_for(kind: str) -> tuple[Offer, ...]:
    """The offers for ``graph`` (query results), ``document`` (a resource's triples) or solutions."""
    if kind == "document":
        return DOCUMENT_OFFERS
    return GRAPH_OFFERS if kind == "graph" else SOLUTION_OFFERS


def _parse_accept(accept: str) -> list[tuple[str, float, int]]:
    out = []
    for i, part in enumerate(accept.split(",")):
        bits = [b.strip() for b in part.split(";")]
        media = bits[0].lower()
        if not media:
            continue
        q = 1.0
        for b in bits[1:]:
            if b.lower().startswith("q="):
                try:
                    q = float(b[2:])
                except ValueError:
                    q = 0.0
        out.append((media, q, i))
    return out


def negotiate(kind: str, accept: str | None, override: str | None = None) -> Offer:
    """The offer to answer with, or :class:`NotAcceptable` naming the offers."""
    offers = offers_for(kind)
    if override:
        key = override.strip().lower()
        for o in offers:
            if key in (o.name, o.media_type, *o.aliases):
                return o
        # an override naming nothing we offer for this kind is ignored, never an error
    if not accept or not accept.strip():
        return offers[0]
    best: tuple[float, int, int] | None = None
    chosen: Offer | None = None
    for media, q, pos in _parse_accept(accept):
        if q <= 0:
            continue
        for rank, o in enumerate(offers):
            if media == o.media_type or (media in o.aliases and "/" in media):
                specificity = 2
            elif media in ("*/*", o.media_type.split("/")[0] + "/*"):
                specificity = 0
            else:
                continue
            key = (q, specificity, -rank)
            if best is None or key > best:
                best, chosen = key, o
    if chosen is None:
        listed = ", ".join(o.media_type for o in offers)
        raise NotAcceptable(f"none of the requested types ({accept}) can be served for this result; offered: {listed}")
    return chosen


# -- serialisers -------------------------------------------------------------------------------

Term = ox.NamedNode | ox.BlankNode | ox.Literal


@dataclass
class Solutions:
    variables: list[str]
    rows: list[list[Term | None]]
    truncated_at: int | None = None  # the row cap, when more rows existed


@dataclass
class GraphResult:
    triples: list[ox.Triple] = field(default_factory=list)
    truncated_at: int | None = None


def json_term(t: Term) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": json_term(t.subject), "predicate": json_term(t.predicate), "object": json_term(t.object)}}
    d = {"type": "literal", "value": t.value}
    if t.language:
        d["xml:lang"] = t.language
    elif t.datatype.value != XSD_STRING:
        d["datatype"] = t.datatype.value
    return d


def _xml_term(t: Term) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if t.language:
        return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
    if t.datatype.value != XSD_STRING:
        return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
    return f"<literal>{escape(t.value)}</literal>"


def serialize_solutions(result: Solutions, media_type: str, note: str | None = None) -> bytes:
    names = result.variables
    if media_type == "application/sparql-results+json":
        head: dict = {"vars": names}
        if note:
            head["link"] = [note]
        bindings = [{n: json_term(v) for n, v in zip(names, row) if v is not None} for row in result.rows]
        return json.dumps({"head": head, "results": {"bindings": bindings}}, ensure_ascii=False, separators=(",", ":")).encode()
    if media_type == "application/sparql-results+xml":
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out.extend(f"<variable name={quoteattr(n)}/>" for n in names)
        if note:
            out.append(f"<link href={quoteattr(note)}/>")
        out.append("</head><results>")
        for row in result.rows:
            out.append("<result>")
            out.extend(f"<binding name={quoteattr(n)}>{_xml_term(v)}</binding>" for n, v in zip(names, row) if v is not None)
            out.append("</result>")
        out.append("</results></sparql>\n")
        return "".join(out).encode()
    if media_type == "text/csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(names)
        for row in result.rows:
            w.writerow(["" if v is None else ("_:" + v.value if isinstance(v, ox.BlankNode) else v.value) for v in row])
        return buf.getvalue().encode()
    if media_type == "text/tab-separated-values":
        lines = ["\t".join("?" + n for n in names)]
        lines.extend("\t".join("" if v is None else str(v) for v in row) for row in result.rows)
        return ("\n".join(lines) + "\n").encode()
    raise NotAcceptable(f"cannot write solutions as {media_type}")


def serialize_boolean(value: bool, media_type: str) -> bytes:
    if media_type == "application/sparql-results+json":
        return json.dumps({"head": {}, "boolean": value}).encode()
    if media_type == "application/sparql-results+xml":
        return (
            '<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n"
        ).encode()
    if media_type == "text/csv":
        return f"_askResult\r\n{'true' if value else 'false'}\r\n".encode()
    if media_type == "text/tab-separated-values":
        return f"?_askResult\n{'true' if value else 'false'}\n".encode()
    raise NotAcceptable(f"cannot write a boolean as {media_type}")


def serialize_graph(triples: Iterable[ox.Triple], media_type: str, prefixes: dict[str, str] | None = None) -> bytes:
    fmt = RDF_FORMATS[media_type]
    if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
        triples = (ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph()) for t in triples)
    kwargs = {"prefixes": prefixes} if prefixes and fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else {}
    return ox.serialize(triples, format=fmt, **kwargs) or b""


def content_type(media_type: str) -> str:
    """The Content-Type header value: text types and JSON/XML types say they are UTF-8."""
    if media_type.startswith("text/") or media_type.endswith(("+json", "+xml", "/json", "/trig", "/n-triples", "/n-quads")):
        return media_type + "; charset=utf-8"
    return media_type
