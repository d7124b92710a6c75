"""Descriptions of the service and its data: SPARQL service description, VoID and a DCAT catalogue.

All three are computed from the store (per named graph: triples, entities, classes, properties,
last modified) and written as Turtle; the HTTP layer caches them until the next write.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pyoxigraph as ox

from ontology import DCTERMS, PROV
from sparql.protocol import GRAPH_OFFERS, SOLUTION_OFFERS
from sparql.store import Store

PREFIXES = {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "spdx": "http://spdx.org/rdf/terms#",
    "formats": "http://www.w3.org/ns/formats/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
}
_HEAD = "".join(f"@prefix {k}: <{v}> .\n" for k, v in PREFIXES.items())
_FORMAT_IRIS = {
    "application/sparql-results+json": "SPARQL_Results_JSON",
    "application/sparql-results+xml": "SPARQL_Results_XML",
    "text/csv": "SPARQL_Results_CSV",
    "text/tab-separated-values": "SPARQL_Results_TSV",
    "text/turtle": "Turtle",
    "application/n-triples": "N-Triples",
    "application/ld+json": "JSON-LD",
    "application/rdf+xml": "RDF_XML",
    "application/n-quads": "N-Quads",
    "application/trig": "TriG",
}


@dataclass
class GraphStats:
    iri: str
    triples: int = 0
    entities: int = 0
    classes: int = 0
    properties: int = 0
    modified: str = ""
    title: str = ""


@dataclass
class DumpInfo:
    url: str
    media_type: str
    graph: str | None  # None: the whole dataset
    size: int
    sha256: str


def graph_stats(store: Store, meta_graph: str) -> list[GraphStats]:
    stats: dict[str, GraphStats] = {}
    for r in store.select(
        "SELECT ?g (COUNT(*) AS ?t) (COUNT(DISTINCT ?s) AS ?e) (COUNT(DISTINCT ?p) AS ?n) "
        "WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g", union=False
    ):
        g = r["g"].value
        stats[g] = GraphStats(g, int(r["t"].value), int(r["e"].value), properties=int(r["n"].value))
    for r in store.select(
        "SELECT ?g (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } GROUP BY ?g", union=False
    ):
        if r["g"].value in stats:
            stats[r["g"].value].classes = int(r["n"].value)
    for r in store.select(
        f"SELECT ?g ?t ?m ?l WHERE {{ GRAPH <{meta_graph}> {{ ?g a ?type "
        f"OPTIONAL {{ ?g <{DCTERMS.title}> ?t }} OPTIONAL {{ ?g <{DCTERMS.modified}> ?m }} "
        f"OPTIONAL {{ ?g <{PROV.generatedAtTime}> ?l }} }} }}", union=False
    ):
        s = stats.get(r["g"].value)
        if s is not None:
            s.title = r["t"].value if "t" in r else ""
            s.modified = (r.get("m") or r.get("l") or ox.Literal("")).value
    return [stats[g] for g in sorted(stats)]


def _lit(v: object, dt: str | None = None) -> str:
    return str(ox.Literal(str(v), datatype=ox.NamedNode(PREFIXES["xsd"] + dt)) if dt else ox.Literal(str(v)))


def _void_graph(base: str, s: GraphStats) -> str:
    node = f"<{base}.well-known/void#{_slug(s.iri)}>"
    out = [
        f"{node} a void:Dataset ; sd:name <{s.iri}> ;",
        f"  void:triples {_lit(s.triples, 'integer')} ; void:entities {_lit(s.entities, 'integer')} ;",
        f"  void:classes {_lit(s.classes, 'integer')} ; void:properties {_lit(s.properties, 'integer')}",
    ]
    if s.title:
        out.append(f"  ; dcterms:title {_lit(s.title)}")
    if s.modified:
        out.append(f"  ; dcterms:modified {_lit(s.modified, 'dateTime')}")
    return "\n".join(out) + " .\n"


def _slug(iri: str) -> str:
    tail = iri.rstrip("/").rsplit("/", 1)[-1]
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in tail)[:60] or "graph"
    return f"{safe}-{hashlib.sha1(iri.encode()).hexdigest()[:8]}"


def graph_slug(iri: str) -> str:
    """A file-name-safe, stable name for a graph (its last path segment plus a short hash)."""
    return _slug(iri)


def void_turtle(base: str, endpoint: str, stats: list[GraphStats], dumps: list[DumpInfo] = ()) -> str:
    total = sum(s.triples for s in stats)
    out = [_HEAD, f"<{base}.well-known/void> a void:DatasetDescription ; dcterms:title {_lit('VoID description of the CHM Knowledge Hub')} ;\n"
                  f"  foaf:primaryTopic <{base}.well-known/void#dataset> .\n",
           f"<{base}.well-known/void#dataset> a void:Dataset ; dcterms:title {_lit('CHM Knowledge Hub')} ;\n"
           f"  void:sparqlEndpoint <{endpoint}> ; void:uriSpace {_lit(base)} ; void:triples {_lit(total, 'integer')}"]
    for s in stats:
        out.append(f" ;\n  void:subset <{base}.well-known/void#{_slug(s.iri)}>")
    for d in dumps:
        if d.graph is None:
            out.append(f" ;\n  void:dataDump <{d.url}>")
    out.append(" .\n")
    out.extend(_void_graph(base, s) for s in stats)
    return "".join(out)


def service_description(base: str, endpoint: str, stats: list[GraphStats], *, updates: bool, timeout: float, row_cap: int) -> str:
    formats = sorted({o.media_type for o in SOLUTION_OFFERS + GRAPH_OFFERS})
    out = [_HEAD, f"<{endpoint}#service> a sd:Service ;\n  sd:endpoint <{endpoint}> ;\n  sd:supportedLanguage sd:SPARQL11Query"]
    if updates:
        out.append(" , sd:SPARQL11Update")
    out.append(" ;\n  sd:feature sd:UnionDefaultGraph , sd:BasicFederatedQuery ;\n")
    out.append("  sd:resultFormat " + " , ".join(f"formats:{_FORMAT_IRIS[f]}" for f in formats) + " ;\n")
    out.append(f"  rdfs:comment {_lit(f'Default graph: the union of the named graphs (switch off with union-default-graph=false or name graphs with default-graph-uri). Query timeout {timeout:g} s; anonymous results capped at {row_cap} rows.')} ;\n")
    out.append(f"  sd:defaultDataset <{endpoint}#dataset> .\n")
    out.append(f"<{endpoint}#dataset> a sd:Dataset ;\n  sd:defaultGraph <{endpoint}#default-graph> ")
    for s in stats:
        out.append(f";\n  sd:namedGraph [ a sd:NamedGraph ; sd:name <{s.iri}> ; sd:graph [ a sd:Graph ; void:triples {_lit(s.triples, 'integer')} ] ] ")
    out.append(".\n")
    out.append(f"<{endpoint}#default-graph> a sd:Graph ; void:triples {_lit(sum(s.triples for s in stats), 'integer')} .\n")
    return "".join(out)


def dcat_turtle(base: str, endpoint: str, stats: list[GraphStats], dumps: list[DumpInfo]) -> str:
    out = [_HEAD, f"<{base}catalog> a dcat:Catalog ; dcterms:title {_lit('CHM Knowledge Hub data catalogue')} ;\n"
                  f"  dcterms:description {_lit('The knowledge graph of the Clearing-House Mechanism of the Convention on Biological Diversity, as a whole and per named graph.')} ;\n"
                  f"  dcat:service <{endpoint}#service> ;\n  dcat:dataset <{base}catalog#dataset>"]
    for s in stats:
        out.append(f" , <{base}catalog#{_slug(s.iri)}>")
    out.append(" .\n")
    out.append(f"<{endpoint}#service> a dcat:DataService ; dcterms:title {_lit('SPARQL endpoint')} ;\n"
               f"  dcat:endpointURL <{endpoint}> ; dcat:endpointDescription <{endpoint}> ;\n"
               f"  dcat:servesDataset <{base}catalog#dataset> .\n")

    def dists(graph: str | None) -> str:
        parts = []
        for d in dumps:
            if d.graph == graph:
                parts.append(
                    f"[ a dcat:Distribution ; dcat:downloadURL <{d.url}> ; dcat:accessURL <{d.url}> ;\n"
                    f"    dcat:mediaType <https://www.iana.org/assignments/media-types/{d.media_type}> ; dcat:compressFormat <https://www.iana.org/assignments/media-types/application/gzip> ;\n"
                    f"    dcat:byteSize {_lit(d.size, 'nonNegativeInteger')} ;\n"
                    f"    spdx:checksum [ a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue {_lit(d.sha256, 'hexBinary')} ] ]"
                )
        return (" ;\n  dcat:distribution " + " ,\n  ".join(parts)) if parts else ""

    total = sum(s.triples for s in stats)
    out.append(f"<{base}catalog#dataset> a dcat:Dataset ; dcterms:title {_lit('CHM Knowledge Hub (all graphs)')} ;\n"
               f"  void:triples {_lit(total, 'integer')}{dists(None)} .\n")
    for s in stats:
        out.append(f"<{base}catalog#{_slug(s.iri)}> a dcat:Dataset ; dcterms:title {_lit(s.title or s.iri)} ; dcterms:identifier {_lit(s.iri)} ;\n"
                   f"  void:triples {_lit(s.triples, 'integer')}"
                   + (f" ; dcterms:modified {_lit(s.modified, 'dateTime')}" if s.modified else "")
                   + f"{dists(s.iri)} .\n")
    return "".join(out)


__all__ = ["GraphStats", "DumpInfo", "graph_stats", "void_turtle", "service_description", "dcat_turtle", "graph_slug", "PREFIXES"]
