"""Reader for RDF files: Turtle, N-Triples, N-Quads, TriG, RDF/XML and JSON-LD.

Quads of a quad format are all written into the source's one named graph.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from writes.ingest import NEW, ParsedSource, checksum
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


def parse(data: bytes, fmt: ox.RdfFormat, location: str, base_iri: str | None = None) -> ox.Store:
    """Parse any RDF serialisation into an in-memory store, every triple in the staging graph.

    Quads of a quad format lose their graph: they all become triples of the source's one graph.
    """
    staging = ox.Store()
    target = ox.NamedNode(NEW)
    try:
        if fmt in (ox.RdfFormat.N_QUADS, ox.RdfFormat.TRIG):
            staging.load(data, fmt, base_iri=base_iri)
            staging.update(f"INSERT {{ GRAPH <{NEW}> {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}")
            staging.update(f"ADD DEFAULT TO <{NEW}>")
            staging.update("DROP DEFAULT")
            for g in [g for g in staging.named_graphs() if g != target]:
                staging.remove_graph(g)
        else:
            staging.load(data, fmt, base_iri=base_iri, to_graph=target)
    except SyntaxError as e:
        raise RdfSyntaxError(f"{location}: malformed {fmt.name}: {e.args[0] if e.args else e}") from None
    return staging


def to_ntriples(data: bytes, fmt: ox.RdfFormat, location: str, base_iri: str | None = None) -> bytes:
    """Parse any RDF serialisation and return its triples as N-Triples (quads lose their graph)."""
    return parse(data, fmt, location, base_iri).dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(NEW)) or b""


def read_rdf(path: Path, name: str | None = None, fmt: str | None = None, base_iri: str | None = None) -> ParsedSource:
    """Read one RDF file as a source for the graph named ``name`` (default: the file stem)."""
    path = Path(path)
    rdf_fmt = rdf_format(path, fmt)
    data = read_bytes(path)
    parsed = parse(data, rdf_fmt, str(path), base_iri or path.resolve().as_uri())
    # N-Triples that parsed are already what the write path bulk-loads: no need to serialise again.
    nt = data if rdf_fmt == ox.RdfFormat.N_TRIPLES else parsed.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(NEW)) or b""
    return ParsedSource(
        name=name or path.stem,
        reader="rdf",
        location=str(path),
        checksum=checksum(data),
        ntriples=nt,
        title=f"RDF file {path.name}",
        parsed=parsed,
        canonical=rdf_fmt != ox.RdfFormat.N_TRIPLES,
    )
