"""Reader for RDF files: Turtle, N-Triples, N-Quads, TriG, RDF/XML and JSON-LD.

Quads of a quad format are all written into the source's one named graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from loaders.ingest import ParsedSource, checksum
from ontology.errors import RdfSyntaxError, SourceError, UnknownFormatError

FORMATS: dict[str, ox.RdfFormat] = {
    "ttl": ox.RdfFormat.TURTLE,
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "rdf": ox.RdfFormat.RDF_XML,
    "xml": ox.RdfFormat.RDF_XML,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "owl": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
    "json-ld": ox.RdfFormat.JSON_LD,
}


def rdf_format(path: Path, fmt: str | None = None) -> ox.RdfFormat:
    key = (fmt or path.suffix.lstrip(".")).lower()
    if key == "gz":
        key = Path(path.stem).suffix.lstrip(".").lower()
    try:
        return FORMATS[key]
    except KeyError:
        known = ", ".join(sorted({k for k in FORMATS if len(k) <= 6}))
        raise UnknownFormatError(f"{path}: unknown RDF format {key!r} (known: {known})") from None


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise SourceError(f"{path}: permission denied") from None
    except OSError as e:
        raise SourceError(f"{path}: cannot be read ({e.strerror})") from None


def to_ntriples(data: bytes, fmt: ox.RdfFormat, location: str, base_iri: str | None = None) -> bytes:
    """Parse any RDF serialisation and return its triples as N-Triples (quads lose their graph).

    Parsing and serialising both happen in oxigraph (an in-memory store), never triple by triple
    in Python.
    """
    staging = ox.Store()
    target = ox.NamedNode("urn:chmkg:parse")
    try:
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            staging.load(data, fmt, base_iri=base_iri)
            # every quad, whatever its graph, becomes a triple of the source's one graph
            staging.update("INSERT { GRAPH <urn:chmkg:parse> { ?s ?p ?o } } WHERE { GRAPH ?g { ?s ?p ?o } }")
            staging.update("ADD DEFAULT TO <urn:chmkg:parse>")
        else:
            staging.load(data, fmt, base_iri=base_iri, to_graph=target)
    except SyntaxError as e:
        raise RdfSyntaxError(f"{location}: malformed {fmt.name}: {e.args[0] if e.args else e}") from None
    return staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=target) or b""


def read_rdf(path: Path, name: str | None = None, fmt: str | None = None, base_iri: str | None = None) -> ParsedSource:
    """Read one RDF file as a source for the graph named ``name`` (default: the file stem)."""
    path = Path(path)
    rdf_fmt = rdf_format(path, fmt)
    data = read_bytes(path)
    nt = to_ntriples(data, rdf_fmt, str(path), base_iri or path.resolve().as_uri())
    return ParsedSource(
        name=name or path.stem,
        reader="rdf",
        location=str(path),
        checksum=checksum(data),
        ntriples=nt,
        title=f"RDF file {path.name}",
    )
