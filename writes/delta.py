"""Validating a change to part of a graph: triples added and removed, checked where they touch.

:func:`writes.ingest.ingest` replaces a whole graph; a harvest changes a few records of a large one.
:func:`validate_delta` stages what the store would hold after the change for every node the change
touches — the added triples, the touched nodes' other triples from every graph (less those
removed), the nodes pointing at them along the shapes' inverse paths, the nodes pointing at subjects
that lose triples, and the types of everything those point to — and runs the compiled shapes on
those focus nodes only.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ontology import RDF
from shapes.report import Report
from shapes.validate import validate_store
from sparql.builder import fill, iri
from sparql.store import EmbeddedStore, Store
from writes.ingest import BATCH, INVERSE_PATHS, NEW, SCOPE, FOCUS, CONTEXT

_OF_NODES = "SELECT ?s ?p ?o ?g WHERE { VALUES ?s { $nodes } GRAPH ?g { ?s ?p ?o } FILTER (?g != $meta) }"
_POINTING_IN = ("SELECT ?s ?p ?o ?g WHERE { VALUES ?o { $nodes } VALUES ?p { $preds } GRAPH ?g { ?s ?p ?o } "
                "FILTER (?g != $meta) }")
_POINTING_AT = "SELECT DISTINCT ?s WHERE { VALUES ?o { $nodes } GRAPH ?g { ?s ?p ?o } FILTER (?g != $meta && isIRI(?s)) }"
_TYPES = "SELECT ?s ?o WHERE { VALUES ?s { $nodes } GRAPH ?g { ?s $type ?o } FILTER (?g != $meta) }"


def _chunks(items: list[str]) -> Iterable[list[ox.NamedNode]]:
    for i in range(0, len(items), BATCH):
        yield [ox.NamedNode(x) for x in items[i:i + BATCH]]


def _parse(lines: Iterable[bytes]) -> list[ox.Triple]:
    data = b"\n".join(lines)
    return list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES)) if data.strip() else []


def validate_delta(store: Store, graph: str, meta_graph: str, added: Iterable[bytes], removed: Iterable[bytes]) -> Report:
    """Validate the store as it would be after removing ``removed`` from ``graph`` and adding ``added``.

    Both are canonical N-Triples lines. The report's focus nodes are IRIs as strings; nothing is written.
    """
    add = [q.triple if isinstance(q, ox.Quad) else q for q in _parse(added)]
    rem = {q.triple if isinstance(q, ox.Quad) else q for q in _parse(removed)}
    g, meta = iri(graph), iri(meta_graph)
    staging = ox.Store()
    new_graph, ctx_graph = ox.NamedNode(NEW), ox.NamedNode(CONTEXT)
    staging.extend(ox.Quad(t.subject, t.predicate, t.object, new_graph) for t in add)
    added_subjects = {t.subject.value for t in add if isinstance(t.subject, ox.NamedNode)}
    removed_subjects = {t.subject.value for t in rem if isinstance(t.subject, ox.NamedNode)}
    objects = {t.object.value for t in add if isinstance(t.object, ox.NamedNode)}
    nodes = sorted(added_subjects | removed_subjects | objects)
    ctx: list[ox.Quad] = []

    def keep(row: dict) -> bool:
        return not (row["g"] == g and ox.Triple(row["s"], row["p"], row["o"]) in rem)

    for chunk in _chunks(nodes):
        for row in store.select(fill(_OF_NODES, nodes=chunk, meta=meta), union=False):
            if keep(row):
                ctx.append(ox.Quad(row["s"], row["p"], row["o"], ctx_graph))
    pointing_in: set[str] = set()
    for chunk in _chunks(sorted(added_subjects | removed_subjects)):
        for row in store.select(fill(_POINTING_IN, nodes=chunk, preds=[ox.NamedNode(p) for p in INVERSE_PATHS], meta=meta),
                                union=False):
            if keep(row):
                ctx.append(ox.Quad(row["s"], row["p"], row["o"], ctx_graph))
                if isinstance(row["s"], ox.NamedNode):
                    pointing_in.add(row["s"].value)
    # a subject that loses triples may lose its type: whoever points at it is checked again
    extra_focus: set[str] = set()
    for chunk in _chunks(sorted(removed_subjects)):
        for row in store.select(fill(_POINTING_AT, nodes=chunk, meta=meta), union=False):
            extra_focus.add(row["s"].value)
    more = sorted((pointing_in | extra_focus) - set(nodes))
    for chunk in _chunks(more):
        for row in store.select(fill(_OF_NODES, nodes=chunk, meta=meta), union=False):
            if keep(row):
                ctx.append(ox.Quad(row["s"], row["p"], row["o"], ctx_graph))
    pulled = set(nodes) | set(more)
    pointed = sorted({q.object.value for q in ctx if isinstance(q.object, ox.NamedNode)} - pulled)
    for chunk in _chunks(pointed):
        for row in store.select(fill(_TYPES, nodes=chunk, type=ox.NamedNode(RDF.type), meta=meta), union=False):
            ctx.append(ox.Quad(row["s"], ox.NamedNode(RDF.type), row["o"], ctx_graph))
    staging.extend(ctx)
    focus, scope = ox.NamedNode(FOCUS), ox.NamedNode(SCOPE)
    marker = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
    staging.extend(ox.Quad(ox.NamedNode(s), focus, marker, scope) for s in sorted(added_subjects | removed_subjects | extra_focus))
    classes = {q.object.value for q in staging.quads_for_pattern(None, ox.NamedNode(RDF.type), None)
               if isinstance(q.object, ox.NamedNode)}
    report = validate_store(EmbeddedStore.wrap(staging), scope_graph=SCOPE, classes=classes)
    report.focus_nodes = len(added_subjects | removed_subjects | extra_focus)
    return report
