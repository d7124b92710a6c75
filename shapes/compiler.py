"""SHACL shapes compiled to SPARQL SELECT queries, one per constraint.

Supported (the subset the hub's shapes use; anything else is refused at compile time so the
shapes cannot silently outgrow the compiler): ``sh:targetClass``; property shapes whose path is
an IRI or ``[sh:inversePath IRI]`` with ``sh:minCount``, ``sh:maxCount``, ``sh:datatype``,
``sh:class``, ``sh:nodeKind``, ``sh:pattern`` (+ ``sh:flags``) and ``sh:in``; and SHACL-SPARQL
``sh:sparql`` constraints whose ``sh:select`` uses ``$this``.

Every compiled query returns violations as rows of ``?this`` (and ``?value`` where there is one).
When a *scope graph* is given, only focus nodes that are subjects in that graph are checked:
that is how a load validates just what it changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from ontology.errors import ChmError
from ontology.vocab import PREFIXES, sparql_prefixes
from sparql.builder import iri, term_text

SH = PREFIXES["sh"]
RDF_TYPE = PREFIXES["rdf"] + "type"
RDF_FIRST = PREFIXES["rdf"] + "first"
RDF_REST = PREFIXES["rdf"] + "rest"
RDF_NIL = PREFIXES["rdf"] + "nil"
RDFS_SUBCLASS_OF = PREFIXES["rdfs"] + "subClassOf"
SUPPORTED = {
    "path", "minCount", "maxCount", "datatype", "class", "nodeKind", "pattern", "flags", "in", "message",
    "name", "description", "severity",
}


@dataclass(frozen=True)
class CompiledConstraint:
    shape: str
    target_class: str
    path: str | None  # IRI, or "^IRI" for an inverse path
    component: str
    message: str
    query: str  # SPARQL with a {scope} placeholder for the focus filter
    # the predicates the query reads in the data (None: not known here — a sh:sparql constraint's own
    # query; see shapes.validate.predicates_read)
    reads: frozenset[str] | None = None

    def sparql(self, scope_graph: str | None) -> str:
        scope = f"FILTER EXISTS {{ GRAPH <{scope_graph}> {{ ?this ?scope_p ?scope_o }} }}" if scope_graph else ""
        return self.query.replace("#SCOPE#", scope)


class _Graph:
    """A tiny read-only index over the shapes triples."""

    def __init__(self, triples: list[ox.Triple]) -> None:
        self.by_sp: dict[tuple[str, str], list[ox.Term]] = {}
        for t in triples:
            key = (_key(t.subject), t.predicate.value)
            self.by_sp.setdefault(key, []).append(t.object)

    def objects(self, s: ox.Term | str, p: str) -> list[ox.Term]:
        return self.by_sp.get((_key(s), p), [])

    def one(self, s: ox.Term | str, p: str) -> ox.Term | None:
        values = self.objects(s, p)
        return values[0] if values else None

    def subjects_with(self, p: str, o: str) -> list[str]:
        return [s for (s, pp), objs in self.by_sp.items() if pp == p and any(_key(x) == o for x in objs)]

    def rdf_list(self, head: ox.Term) -> list[ox.Term]:
        out = []
        node: ox.Term | None = head
        while node is not None and not (isinstance(node, ox.NamedNode) and node.value == RDF_NIL):
            first = self.one(node, RDF_FIRST)
            if first is None:
                break
            out.append(first)
            node = self.one(node, RDF_REST)
        return out


def _key(term: ox.Term | str) -> str:
    if isinstance(term, str):
        return term
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return term.value


def compile_shapes(triples: list[ox.Triple]) -> list[CompiledConstraint]:
    g = _Graph(triples)
    out: list[CompiledConstraint] = []
    for shape in g.subjects_with(RDF_TYPE, SH + "NodeShape"):
        targets = [t.value for t in g.objects(shape, SH + "targetClass")]
        if not targets:
            raise ChmError(f"shape {shape} has no sh:targetClass; the compiler needs one")
        for target in targets:
            for prop in g.objects(shape, SH + "property"):
                out.extend(_compile_property(g, shape, target, prop))
            for sparql in g.objects(shape, SH + "sparql"):
                out.append(_compile_sparql(g, shape, target, sparql))
    return out


def _path(g: _Graph, prop: ox.Term) -> tuple[str, str]:
    """(path for reporting, SPARQL path text)."""
    p = g.one(prop, SH + "path")
    if isinstance(p, ox.NamedNode):
        return p.value, f"<{p.value}>"
    if p is not None:
        inv = g.one(p, SH + "inversePath")
        if isinstance(inv, ox.NamedNode):
            return "^" + inv.value, f"^<{inv.value}>"
    raise ChmError(f"unsupported sh:path on a property shape ({p}); use an IRI or sh:inversePath")


def _compile_property(g: _Graph, shape: str, target: str, prop: ox.Term) -> list[CompiledConstraint]:
    for (s, p), _ in g.by_sp.items():
        if s == _key(prop) and p.startswith(SH) and p[len(SH):] not in SUPPORTED:
            raise ChmError(f"shape {shape}: the compiler does not support {p}")
    message_term = g.one(prop, SH + "message")
    if message_term is None:
        raise ChmError(f"shape {shape}: a property shape has no sh:message")
    message = message_term.value
    report_path, path = _path(g, prop)
    head = f"{sparql_prefixes()}SELECT DISTINCT ?this ?value WHERE {{\n  ?this a <{target}> .\n  #SCOPE#\n"
    out = []

    # the target's type, the path, and the value's type and its classes' superclasses (sh:class)
    reads = frozenset({RDF_TYPE, RDFS_SUBCLASS_OF, report_path.removeprefix("^")})

    def add(component: str, body: str, select: str | None = None) -> None:
        query = (select or head) + body
        out.append(CompiledConstraint(shape, target, report_path, SH + component, message, query, reads))

    min_count = g.one(prop, SH + "minCount")
    max_count = g.one(prop, SH + "maxCount")
    group_head = f"{sparql_prefixes()}SELECT ?this WHERE {{\n  ?this a <{target}> .\n  #SCOPE#\n"
    if min_count is not None:
        n = int(min_count.value)
        add(
            "MinCountConstraintComponent",
            f"  OPTIONAL {{ ?this {path} ?v }}\n}} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) < {n})",
            group_head,
        )
    if max_count is not None:
        n = int(max_count.value)
        add(
            "MaxCountConstraintComponent",
            f"  ?this {path} ?v\n}} GROUP BY ?this HAVING (COUNT(DISTINCT ?v) > {n})",
            group_head,
        )
    datatype = g.one(prop, SH + "datatype")
    if datatype is not None:
        add(
            "DatatypeConstraintComponent",
            f"  ?this {path} ?value .\n  FILTER (!isLiteral(?value) || datatype(?value) != <{datatype.value}>)\n}}",
        )
    cls = g.one(prop, SH + "class")
    if cls is not None:
        add(
            "ClassConstraintComponent",
            # a/rdfs:subClassOf* written as its two cases: Virtuoso loses the zero-length case inside EXISTS
            "  ?this " + path + " ?value .\n  FILTER NOT EXISTS { { ?value a " + term_text(iri(cls.value, "sh:class"))
            + " } UNION { ?value a/rdfs:subClassOf+ " + term_text(iri(cls.value, "sh:class")) + " } }\n}",
        )
    kind = g.one(prop, SH + "nodeKind")
    if kind is not None:
        test = {
            SH + "IRI": "!isIRI(?value)",
            SH + "Literal": "!isLiteral(?value)",
            SH + "BlankNode": "!isBlank(?value)",
            SH + "BlankNodeOrIRI": "isLiteral(?value)",
            SH + "IRIOrLiteral": "isBlank(?value)",
            SH + "BlankNodeOrLiteral": "isIRI(?value)",
        }.get(kind.value)
        if test is None:
            raise ChmError(f"shape {shape}: unknown sh:nodeKind {kind.value}")
        add("NodeKindConstraintComponent", f"  ?this {path} ?value .\n  FILTER ({test})\n}}")
    pattern = g.one(prop, SH + "pattern")
    if pattern is not None:
        flags = g.one(prop, SH + "flags")
        regex_args = f"{_string(pattern.value)}" + (f", {_string(flags.value)}" if flags is not None else "")
        add(
            "PatternConstraintComponent",
            f"  ?this {path} ?value .\n  FILTER (isBlank(?value) || !REGEX(STR(?value), {regex_args}))\n}}",
        )
    in_list = g.one(prop, SH + "in")
    if in_list is not None:
        members = ", ".join(str(t) for t in g.rdf_list(in_list))
        add("InConstraintComponent", f"  ?this {path} ?value .\n  FILTER (?value NOT IN ({members}))\n}}")
    return out


def _compile_sparql(g: _Graph, shape: str, target: str, node: ox.Term) -> CompiledConstraint:
    select = g.one(node, SH + "select")
    message = g.one(node, SH + "message")
    if select is None or message is None:
        raise ChmError(f"shape {shape}: a sh:sparql constraint needs sh:select and sh:message")
    # In SPARQL, $this and ?this are the same variable: the inner SELECT joins on the focus node.
    inner = select.value.strip()
    query = (
        f"{sparql_prefixes()}SELECT DISTINCT ?this ?value WHERE {{\n  ?this a <{target}> .\n  #SCOPE#\n"
        f"  {{ {inner} }}\n}}"
    )
    return CompiledConstraint(shape, target, None, SH + "SPARQLConstraintComponent", message.value, query)


def _string(text: str) -> str:
    return str(ox.Literal(text))
