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


@lru_cache(maxsize=8192)
def _node(value: str) -> ox.NamedNode:
    """Predicates, classes and shared concepts recur thousands of times in a mapping: made once each."""
    return ox.NamedNode(value)


class TripleSet:
    """Collects triples; ``ntriples()`` gives a sorted, deterministic N-Triples document."""

    def __init__(self) -> None:
        self._triples: set[ox.Triple] = set()

    def add(self, s: str | ox.NamedNode, p: str, o: str | ox.NamedNode | ox.Literal) -> None:
        subject = s if isinstance(s, ox.NamedNode) else _node(s)
        obj = o if isinstance(o, (ox.NamedNode, ox.Literal, ox.BlankNode)) else _node(o)
        self._triples.add(ox.Triple(subject, _node(p), obj))

    def triples(self) -> list[ox.Triple]:
        return list(self._triples)

    def __len__(self) -> int:
        return len(self._triples)

    def nodes(self, into: Nodes | None = None) -> Nodes:
        """The IRIs a change adding these triples touches, for :func:`writes.delta.validate_changes`:
        subjects, objects, and the classes of ``rdf:type`` triples (blank nodes left out). Read from the
        terms already built, instead of scanning the N-Triples text again."""
        subjects, objects, classes = into if into is not None else (set(), set(), set())
        type_ = _node(RDF.type)
        for t in self._triples:
            s, o = t.subject, t.object
            if isinstance(s, ox.NamedNode):
                subjects.add(s.value)
            if isinstance(o, ox.NamedNode):
                objects.add(o.value)
                if t.predicate == type_:
                    classes.add(o.value)
        return subjects, objects, classes

    def ntriples(self) -> bytes:
        data = ox.serialize(list(self._triples), format=ox.RdfFormat.N_TRIPLES) or b""
        return b"\n".join(sorted(line for line in data.split(b"\n") if line)) + b"\n" if data else b""
