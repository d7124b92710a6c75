"""The one way to put outside values into SPARQL text: typed terms, serialised here.

Queries that take values are ``.rq`` files (or constant strings) run with bound parameters
(``store.select(text, {"x": term})``). Updates cannot bind parameters, so they are assembled by
:class:`Update` from typed pyoxigraph terms only: an IRI from outside goes through :func:`iri`,
which checks it against the IRI grammar before it becomes a term; literals are serialised by
pyoxigraph, which escapes them. Plain strings are refused, so nothing can be pasted by mistake::

    Update().insert_data(iri(graph), [(iri(record), DCTERMS_SUBJECT, iri(concept))]).text()
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from ontology.errors import InvalidIri

Term = ox.NamedNode | ox.BlankNode | ox.Literal
TripleTerms = tuple[Term, Term, Term]

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')


def iri(value: object, what: str = "value") -> ox.NamedNode:
    """``value`` as an IRI term, or :class:`InvalidIri` naming ``what`` and the problem."""
    if isinstance(value, ox.NamedNode):
        return value
    if not isinstance(value, str):
        raise InvalidIri(f"the {what} is not an IRI (a string): got {type(value).__name__}")
    if not _SCHEME.match(value):
        raise InvalidIri(f"the {what} is not an IRI: an IRI starts with a scheme (http:, https:, urn: …), got {value[:200]!r}")
    bad = _FORBIDDEN.search(value)
    if bad:
        raise InvalidIri(f"the {what} is not an IRI: it holds {bad.group()!r}, which an IRI cannot contain")
    try:
        return ox.NamedNode(value)
    except ValueError as e:
        raise InvalidIri(f"the {what} is not an IRI: {e}") from None


def literal(value: str, *, lang: str | None = None, datatype: str | None = None) -> ox.Literal:
    if lang:
        return ox.Literal(value, language=lang)
    if datatype:
        return ox.Literal(value, datatype=ox.NamedNode(datatype))
    return ox.Literal(value)


def term_text(term: object) -> str:
    """SPARQL text of a typed term; anything else is a programming error."""
    if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return str(term)
    raise TypeError(f"only pyoxigraph terms go into SPARQL text, got {type(term).__name__}: {term!r}")


def _block(triples: Iterable[TripleTerms]) -> str:
    return " .\n".join(" ".join(term_text(t) for t in triple) for triple in triples)


class Update:
    """A SPARQL update of several operations, assembled from typed terms."""

    def __init__(self) -> None:
        self._ops: list[str] = []
        # the operations as data while they are all INSERT DATA / DELETE DATA of ground triples
        self._data: list[tuple[str, ox.NamedNode, list[tuple]]] | None = []

    def __bool__(self) -> bool:
        return bool(self._ops)

    def _record(self, verb: str, graph: ox.NamedNode, triples: list[tuple]) -> None:
        if self._data is not None:
            if any(isinstance(t, ox.BlankNode) for triple in triples for t in triple):
                self._data = None
            else:
                self._data.append((verb, graph, triples))

    def insert_data(self, graph: ox.NamedNode, triples: Iterable[TripleTerms]) -> Update:
        triples = [tuple(t) for t in triples]
        body = _block(triples)
        if body:
            self._ops.append("INSERT DATA { GRAPH " + term_text(graph) + " {\n" + body + " .\n} }")
            self._record("insert", graph, triples)
        return self

    def delete_data(self, graph: ox.NamedNode, triples: Iterable[TripleTerms]) -> Update:
        triples = [tuple(t) for t in triples]
        body = _block(triples)
        if body:
            self._ops.append("DELETE DATA { GRAPH " + term_text(graph) + " {\n" + body + " .\n} }")
            self._record("delete", graph, triples)
        return self

    def data_changes(self) -> list[tuple[str, ox.NamedNode, list[tuple]]] | None:
        """("insert" | "delete", graph, triples) in order, when the update is only ground INSERT DATA /
        DELETE DATA (its effect is then known without running it); None otherwise."""
        return list(self._data) if self._data is not None else None

    def delete_values(self, graph: ox.NamedNode, subject: Term, predicate: ox.NamedNode) -> Update:
        """Remove every ``subject predicate ?o`` triple of ``graph``."""
        self._data = None
        self._ops.append("DELETE WHERE { GRAPH " + term_text(graph) + " { " + term_text(subject) + " "
                         + term_text(predicate) + " ?o } }")
        return self

    def delete_subject(self, graph: ox.NamedNode, subject: Term) -> Update:
        """Remove every triple of ``graph`` whose subject is ``subject``."""
        self._data = None
        self._ops.append("DELETE WHERE { GRAPH " + term_text(graph) + " { " + term_text(subject) + " ?p ?o } }")
        return self

    def drop_graph(self, graph: ox.NamedNode) -> Update:
        self._data = None
        self._ops.append("DROP SILENT GRAPH " + term_text(graph))
        return self

    def raw_ntriples(self, verb: str, graph: ox.NamedNode, lines: Iterable[bytes]) -> Update:
        """``INSERT DATA``/``DELETE DATA`` of N-Triples lines that pyoxigraph serialised (a store dump or a diff)."""
        if verb not in ("INSERT DATA", "DELETE DATA"):
            raise ValueError(verb)
        body = b"\n".join(lines).decode()
        if body:
            self._data = None
            self._ops.append(verb + " { GRAPH " + term_text(graph) + " {\n" + body + "\n} }")
        return self

    def extend(self, other: Update) -> Update:
        self._ops.extend(other._ops)
        self._data = None if self._data is None or other._data is None else self._data + other._data
        return self

    def text(self) -> str:
        return " ;\n".join(self._ops)


def _prologue() -> str:
    from ontology import PREFIXES

    return "".join("PREFIX " + p + ": <" + ns + ">\n" for p, ns in PREFIXES.items())


PROLOGUE = _prologue()


def prefixed(query: str) -> str:
    """A constant query with the hub's prefixes declared (values go in as bindings, never here)."""
    return PROLOGUE + query


_SLOT = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class Fragment(str):
    """SPARQL text that :func:`fill` made from typed terms; it may fill a slot of another template."""


def fill(template: str, **terms: Term | Fragment | list[Term] | tuple[Term, ...]) -> Fragment:
    """A constant query template with its ``$name`` slots replaced by typed terms.

    For values pyoxigraph cannot bind (a variable used only in a ``FILTER``, a ``GRAPH`` of a
    ``CONSTRUCT`` template): every slot must be given and every value must be a pyoxigraph term,
    serialised here — a plain string is refused.
    """
    missing = sorted(set(_SLOT.findall(template)) - set(terms))
    if missing:
        raise KeyError(f"no value for ${', $'.join(missing)}")
    def text(value) -> str:
        if isinstance(value, Fragment):  # a filled part (a UNION of filled branches …)
            return str(value)
        if isinstance(value, (list, tuple)):  # for VALUES ?x { $xs }
            return " ".join(term_text(v) for v in value)
        return term_text(value)

    # one pass over the template: text that went in is never read for slots again
    return Fragment(_SLOT.sub(lambda m: text(terms[m.group(1)]) if m.group(1) in terms else m.group(0), template))


def union(parts: list[Fragment]) -> Fragment:
    """``{ … } UNION { … }`` of filled parts."""
    if not all(isinstance(p, Fragment) for p in parts):
        raise TypeError("only filled fragments go into a UNION")
    return Fragment(" UNION ".join(parts))
