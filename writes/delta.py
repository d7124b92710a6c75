"""Validating a change to part of a graph: triples added and removed, checked where they touch.

:func:`writes.ingest.ingest` replaces a whole graph; a harvest changes a few records of a large one.
:func:`validate_delta` stages what the store would hold after the change for every node the change
touches — the added triples, the touched nodes' other triples from every graph (less those
removed), the nodes pointing at them along the shapes' inverse paths, the nodes pointing at subjects
that lose triples, and the types of everything those point to — and runs the compiled shapes on
those focus nodes only.
"""

from __future__ import annotations

import re
from functools import lru_cache
from collections.abc import Iterable, Iterator, Sequence

import pyoxigraph as ox

from ontology import RDF
from ontology.triples import Nodes
from shapes.report import Report
from shapes.validate import classes_reading_backwards, predicates_read, validate_store
from sparql.builder import iri
from sparql.store import EmbeddedStore, Store
from writes.ingest import INVERSE_PATHS, NEW, SCOPE, FOCUS, CONTEXT

_TYPE_MARK = b"<" + RDF.type.encode() + b">"
_SUBJECTS = re.compile(rb"^<([^>\s]*)> ", re.M)
# the predicate and the IRI object of each line whose object is an IRI
_IRI_OBJECTS = re.compile(rb"^<[^>\s]*> (<[^>\s]*>) <([^>\s]*)> \.$", re.M)


class Pending:
    """Additions validated already and not yet written (a bulk harvest's group): the staging stores they
    were validated in (their added triples the shapes read, :func:`validate_changes`' ``stage_into``)
    and the nodes those touch, so that a later change is validated as if they were in the store."""

    def __init__(self) -> None:
        self.stores: list[ox.Store] = []
        self.subjects: set[str] = set()
        self.objects: set[str] = set()

    def __bool__(self) -> bool:
        return bool(self.stores)

    def quads_touching(self, nodes: list[str], *, as_object: bool = False, **options) -> Iterator[tuple]:
        here = self.objects if as_object else self.subjects
        nodes = [n for n in nodes if n in here]  # a node no staged triple has in that place: nothing to look up
        for store in self.stores if nodes else ():
            yield from EmbeddedStore.wrap(store).quads_touching(nodes, as_object=as_object, **options)


def _parse(lines: Iterable[bytes]) -> list[ox.Triple]:
    data = b"\n".join(lines)
    if not data.strip():
        return []
    parsed = ox.Store()  # one call into the parser, not one per triple: cheap beside busy threads
    parsed.load(data, format=ox.RdfFormat.N_TRIPLES)
    return [q.triple for q in parsed.quads_for_pattern(None, None, None, ox.DefaultGraph())]


def validate_delta(store: Store, graph: str, meta_graph: str, added: Iterable[bytes], removed: Iterable[bytes],
                   nodes: Nodes | None = None, pending: Sequence[Pending] = (), stage_into: Pending | None = None,
                   absent: set[str] | None = None) -> Report:
    """Validate the store as it would be after removing ``removed`` from ``graph`` and adding ``added``.

    Both are canonical N-Triples lines. The report's focus nodes are IRIs as strings; nothing is written.
    ``nodes``: the added lines' subjects, IRI objects and classes when the caller has them already
    (:meth:`ontology.triples.TripleSet.nodes`); a superset does no harm (more nodes are checked).
    ``pending``: additions validated already and not yet written: the store is read as if they were in it.
    ``stage_into``: when the change conforms, it is added there (for the changes validated next).
    ``absent``: the added lines' subjects the store has no triple about (in any graph but the meta graph) are added there.
    """
    return validate_changes(store, meta_graph, {graph: (added, removed)}, {graph: nodes} if nodes is not None else None,
                            pending=pending, stage_into=stage_into, absent=absent)


def validate_changes(store: Store, meta_graph: str, changes: dict[str, tuple[Iterable[bytes], Iterable[bytes]]],
                     nodes: dict[str, Nodes] | None = None, pending: Sequence[Pending] = (),
                     stage_into: Pending | None = None, absent: set[str] | None = None) -> Report:
    """:func:`validate_delta` for changes to several graphs at once: graph → (added lines, removed lines),
    and graph → the added lines' nodes where the caller knows them."""
    staging = ox.Store()
    new_graph, ctx_graph = ox.NamedNode(NEW), ox.NamedNode(CONTEXT)
    rem: set[tuple[ox.NamedNode, ox.Triple]] = set()
    added_subjects: set[str] = set()
    objects: set[str] = set()
    classes: set[str] = set()
    # only the triples the shapes read go into the staging store: the others cannot change a result
    wanted = _read_predicates()
    for graph, (added, removed) in changes.items():
        added = added if isinstance(added, list) else list(added)
        staged = b"\n".join(added if wanted is None else (line for line in added if _keep(line, wanted)))
        if staged.strip():
            staging.load(staged, format=ox.RdfFormat.N_TRIPLES, to_graph=new_graph)
        known = (nodes or {}).get(graph)
        if known is not None:
            added_subjects.update(known[0])
            objects.update(known[1])
            classes.update(known[2])
        elif added:  # subjects and IRI objects of the lines, by two scans of the whole text (not a call per line)
            data = b"\n".join(added)
            added_subjects.update(m.decode() for m in _SUBJECTS.findall(data))
            for subject_end, obj in _IRI_OBJECTS.findall(data):
                o = obj.decode()
                objects.add(o)
                if subject_end == _TYPE_MARK:
                    classes.add(o)
        g = iri(graph)
        rem |= {(g, t) for t in _parse(removed)}
    removed_subjects = {t.subject.value for _g, t in rem if isinstance(t.subject, ox.NamedNode)}
    nodes = sorted(added_subjects | removed_subjects | objects)
    ctx: list[ox.Quad] = []
    # the store, and what is validated and not yet written in it
    sources = [store, *pending]

    def touching(nodes: list[str], **options) -> Iterator[tuple]:
        for source in sources:
            yield from source.quads_touching(nodes, exclude=(meta_graph,), **options)

    def keep(s, p, o, gr) -> bool:
        return not rem or (gr, ox.Triple(s, p, o)) not in rem

    present: set[str] = set()  # the nodes the store (not what is pending) has triples about
    for source in sources:
        for s, p, o, gr in source.quads_touching(nodes, exclude=(meta_graph,)):
            if source is store and isinstance(s, ox.NamedNode):
                present.add(s.value)
            if keep(s, p, o, gr):
                ctx.append(ox.Quad(s, p, o, ctx_graph))
    if absent is not None:
        absent |= added_subjects - present
    pointing_in: set[str] = set()
    # what points in through a predicate the shapes follow backwards is context for the subjects whose class
    # follows one (typed so by the change, the store or what is pending), and for every removed subject
    backwards = _backwards_classes()
    type_ = ox.NamedNode(RDF.type)
    typed_back = {q.subject.value for c in backwards for q in staging.quads_for_pattern(None, type_, ox.NamedNode(c), new_graph)
                  if isinstance(q.subject, ox.NamedNode)}
    typed_back |= {q.subject.value for q in ctx if q.predicate == type_ and isinstance(q.subject, ox.NamedNode)
                   and q.object.value in backwards}
    for s, p, o, gr in touching(sorted((added_subjects & typed_back) | removed_subjects), as_object=True, predicates=INVERSE_PATHS):
        if keep(s, p, o, gr):
            ctx.append(ox.Quad(s, p, o, ctx_graph))
            if isinstance(s, ox.NamedNode):
                pointing_in.add(s.value)
    # a subject that loses triples may lose its type: whoever points at it is checked again
    extra_focus = {s.value for s, _p, _o, _g in touching(sorted(removed_subjects), as_object=True) if isinstance(s, ox.NamedNode)}
    more = sorted((pointing_in | extra_focus) - set(nodes))
    for s, p, o, gr in touching(more):
        if keep(s, p, o, gr):
            ctx.append(ox.Quad(s, p, o, ctx_graph))
    pulled = set(nodes) | set(more)
    pointed = sorted({q.object.value for q in ctx if isinstance(q.object, ox.NamedNode)} - pulled)
    for s, p, o, _g in touching(pointed, predicates=(RDF.type,)):
        ctx.append(ox.Quad(s, p, o, ctx_graph))
    staging.extend(ctx)
    # the classes present, from what went into staging (reading the staging store back one triple at a
    # time costs a GIL hand-over per triple while other threads run)
    classes |= {q.object.value for q in ctx if q.predicate == type_ and isinstance(q.object, ox.NamedNode)}
    focus_nodes = added_subjects | removed_subjects | extra_focus
    if removed_subjects or extra_focus:
        focus, scope = ox.NamedNode(FOCUS), ox.NamedNode(SCOPE)
        marker = ox.Literal("true", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#boolean"))
        staging.extend([ox.Quad(ox.NamedNode(s), focus, marker, scope) for s in sorted(focus_nodes)])
        scope_graph = SCOPE
    else:
        # only additions: the focus is the subjects of the added triples, the staged graph itself (a subject
        # whose added triples the shapes do not read was left out: nothing it gained can change a result)
        scope_graph = NEW
    report = validate_store(EmbeddedStore.wrap(staging), scope_graph=scope_graph, classes=classes)
    report.focus_nodes = len(focus_nodes)
    if stage_into is not None and report.conforms:
        stage_into.stores.append(staging)
        stage_into.subjects |= added_subjects
        stage_into.objects |= objects
    return report


def prepare() -> None:
    """Work out now, once per process, what every validation needs (the compiled shapes, the predicates
    they read, the classes that follow one backwards: about 0.3 s): a harvest does it while its first batch
    is fetched and mapped."""
    _read_predicates()
    _backwards_classes()


@lru_cache(maxsize=1)
def _backwards_classes() -> frozenset[str]:
    """The classes whose constraints may follow a predicate of INVERSE_PATHS towards their focus node."""
    return classes_reading_backwards(INVERSE_PATHS)


@lru_cache(maxsize=1)
def _read_predicates() -> frozenset[bytes] | None:
    """The predicates the shapes read, as they appear in N-Triples lines (None: any may be read)."""
    reads = predicates_read()
    return None if reads is None else frozenset(str(ox.NamedNode(p)).encode() for p in reads)


def _keep(line: bytes, wanted: frozenset[bytes]) -> bool:
    """Whether a line goes into a staging store: its predicate is read by the shapes (or it is not a
    plain line: it is kept so that the parser still sees it)."""
    parts = line.split(b" ", 2)
    return len(parts) < 3 or not parts[1].startswith(b"<") or parts[1] in wanted
