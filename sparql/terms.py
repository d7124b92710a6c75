"""RDF terms between pyoxigraph, SPARQL text and SPARQL JSON results."""

from __future__ import annotations

import csv
import io
from typing import Any

import pyoxigraph as ox

Term = ox.NamedNode | ox.BlankNode | ox.Literal


def to_sparql(term: Term | str | int | float | bool) -> str:
    """A term as SPARQL text. Plain ``str`` values are literals; use NamedNode for IRIs."""
    if isinstance(term, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return str(term)
    if isinstance(term, bool):
        return str(ox.Literal(str(term).lower(), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean")))
    if isinstance(term, int):
        return str(ox.Literal(str(term), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))
    if isinstance(term, float):
        return str(ox.Literal(repr(term), datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#double")))
    return str(ox.Literal(str(term)))


def as_term(value: Term | str | int | float | bool) -> Term:
    """A Python value as a pyoxigraph term (``str`` → plain literal)."""
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return value
    return _literal(value)


def _literal(value: str | int | float | bool) -> ox.Literal:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    if isinstance(value, bool):
        return ox.Literal(str(value).lower(), datatype=ox.NamedNode(xsd + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(xsd + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(xsd + "double"))
    return ox.Literal(str(value))


def from_json(binding: dict[str, Any]) -> Term:
    """A term from a SPARQL 1.1 JSON results binding."""
    kind = binding["type"]
    value = binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    if "datatype" in binding:
        return ox.Literal(value, datatype=ox.NamedNode(binding["datatype"]))
    return ox.Literal(value)


def plain(term: Term | None) -> str | None:
    """The lexical value of a term (IRI string or literal value)."""
    return None if term is None else term.value


def rows_to_csv(columns: list[str], rows: list[dict[str, Term]]) -> str:
    """SELECT rows as CSV with a header line (lexical values; unbound cells empty)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c].value if c in row else "" for c in columns])
    return buf.getvalue()
