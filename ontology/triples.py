"""A small builder of triples for the readers that map tables and JSON to RDF."""

from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from ontology import RDF, XSD


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def lit(value: object, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(str(value), language=lang)
    if datatype:
        return ox.Literal(str(value), datatype=ox.NamedNode(datatype))
    if isinstance(value, bool):
        return ox.Literal(str(value).lower(), datatype=ox.NamedNode(XSD.boolean))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD.integer))
    return ox.Literal(str(value))


# the IRIs a change touches: subjects, IRI objects, classes (see TripleSet.nodes)
Nodes = tuple[set[str], set[str], set[str]]


@lru_cache(maxsize=16384)
def _term(value: str) -> str:
    """An IRI as N-Triples writes it, checked once by pyoxigraph: predicates, classes and shared concepts
    recur thousands of times in a mapping."""
    return str(ox.NamedNode(value))


_TERMS = (ox.NamedNode, ox.Literal, ox.BlankNode)


class TripleSet:
    """Collects triples; ``ntriples()`` gives a sorted, deterministic N-Triples document.

    Each triple is kept as its three terms in N-Triples (pyoxigraph writes them: IRIs are checked,
    literals escaped): a tuple of strings hashes several times faster than a pyoxigraph triple, and
    the document is those terms joined.
    """

    def __init__(self) -> None:
        self._lines: set[tuple[str, str, str]] = set()

    def add(self, s: str | ox.NamedNode | ox.BlankNode, p: str, o: str | ox.NamedNode | ox.Literal | ox.BlankNode) -> None:
        self._lines.add((str(s) if isinstance(s, _TERMS) else _term(s), _term(p),
                         str(o) if isinstance(o, _TERMS) else _term(o)))

    def triples(self) -> list[ox.Triple]:
        return list(ox.parse(self.ntriples(), format=ox.RdfFormat.N_TRIPLES))

    def __len__(self) -> int:
        return len(self._lines)

    def nodes(self, into: Nodes | None = None) -> Nodes:
        """The IRIs a change adding these triples touches, for :func:`writes.delta.validate_changes`:
        subjects, objects, and the classes of ``rdf:type`` triples (blank nodes left out). Read from the
        terms already made, instead of scanning the N-Triples text again."""
        subjects, objects, classes = into if into is not None else (set(), set(), set())
        type_ = _term(RDF.type)
        for s, p, o in self._lines:
            if s[0] == "<":
                subjects.add(s[1:-1])
            if o[0] == "<":
                objects.add(o[1:-1])
                if p == type_:
                    classes.add(o[1:-1])
        return subjects, objects, classes

    def ntriples(self) -> bytes:
        if not self._lines:
            return b""
        return ("\n".join(sorted(f"{s} {p} {o} ." for s, p, o in self._lines)) + "\n").encode()
