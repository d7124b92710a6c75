"""The one ingest path: parse → validate (scoped to what changes) → replace the graph atomically.

A reader turns a source into a :class:`ParsedSource` (N-Triples for one named graph, plus the
source's checksum). :func:`ingest` then

1. skips the write when the source's checksum equals the one recorded for its graph;
2. stages the new triples in an in-memory store, together with the *context* the shapes need from
   the rest of the store (the other triples of the same subjects, the nodes they point to, the
   nodes pointing at them, and the nodes that pointed at subjects this load removes);
3. validates with the shapes compiled to SPARQL, checking only the focus nodes this load touches;
4. on success replaces the graph and its provenance in one atomic write, guarded by the store's
   write stamp when the graph exists (:mod:`writes.commit`; a fresh graph is bulk-loaded under a
   lease, :meth:`sparql.Store.replace_graph`); on failure raises :class:`ShapeViolation` and
   writes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyoxigraph as ox

from ontology import CHM, DCTERMS, PROV, RDF, VOID, XSD
from ontology.errors import ShapeViolation
from shapes.report import Report
from shapes.validate import validate_store
from sparql.builder import Update, fill, iri
from sparql.store import EmbeddedStore, Store
from writes import commit

log = logging.getLogger(__name__)

NEW = "urn:chmkg:staging:new"
CONTEXT = "urn:chmkg:staging:context"
SCOPE = "urn:chmkg:staging:scope"
FOCUS = "urn:chmkg:staging:focus"
# Predicates the shapes follow backwards (sh:inversePath): nodes pointing in are context too.
INVERSE_PATHS = (CHM.hasGoal, CHM.hasOutcome, CHM.hasAction, CHM.hasRequest, CHM.hasAct)


@dataclass
class ParsedSource:
    """What a reader produces: one named graph's triples and where they came from."""

    name: str  # the graph's short name; its IRI is minted from it
    reader: str
    location: str
    checksum: str
    ntriples: bytes
    title: str = ""
    # The reader's own parse, when it kept one: an in-memory store with the triples in graph NEW.
    # Validation then stages into it instead of parsing the N-Triples a second time.
    parsed: ox.Store | None = field(default=None, repr=False, compare=False)
    # False when ``ntriples`` is the user's own N-Triples file (comments, spacing as written): the
    # line-level diff of a replacement needs the canonical form and makes it first.
    canonical: bool = True

    @property
    def triple_count(self) -> int:
        if self.parsed is not None:
            return len(self.parsed)
        return self.ntriples.count(b"\n")


@dataclass
class LoadResult:
    graph: str
    status: str  # "loaded", "replaced" or "unchanged"
    triples: int
    added: int = 0
    removed: int = 0
    seconds: float = 0.0
    report: Report = field(default_factory=Report)


def checksum(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def recorded_checksum(store: Store, graph: str, meta_graph: str) -> str | None:
    rows = store.select(
        f"SELECT ?c WHERE {{ GRAPH <{meta_graph}> {{ <{graph}> <{CHM.checksum}> ?c }} }}", union=False
    )
    return rows[0]["c"].value if rows else None


def _context(store: Store, staging: ox.Store, graph: str, meta_graph: str) -> list[str]:
    """Copy into ``staging`` what the shapes need from the rest of the store; return extra focus nodes."""
    if not [g for g in store.named_graphs() if g not in (graph, meta_graph)] and not store.graph_exists(graph):
        return []  # nothing else in the store: no context to bring
    subjects = {r[0].value for r in staging.query(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{NEW}> {{ ?s ?p ?o }} FILTER isIRI(?s) }}")}
    objects = {r[0].value for r in staging.query(f"SELECT DISTINCT ?o WHERE {{ GRAPH <{NEW}> {{ ?s ?p ?o }} FILTER isIRI(?o) }}")}
    ctx: list[ox.Quad] = []
    ctx_graph = ox.NamedNode(CONTEXT)
    others = (graph, meta_graph)

    def add(s, p, o) -> None:
        ctx.append(ox.Quad(s, p, o, ctx_graph))

    nodes = sorted(subjects | objects)
    pointing_in: set[str] = set()
    for s, p, o, _g in store.quads_touching(nodes, exclude=others):
        add(s, p, o)
    for s, p, o, _g in store.quads_touching(sorted(subjects), as_object=True, predicates=INVERSE_PATHS, exclude=others):
        add(s, p, o)
        if isinstance(s, ox.NamedNode):
            pointing_in.add(s.value)
    # Nodes that pointed at subjects this load removes must be checked again (no dangling links).
    extra_focus: set[str] = set()
    if store.graph_exists(graph):
        old_subjects = {
            r["s"].value
            for r in store.select(f"SELECT DISTINCT ?s WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} FILTER isIRI(?s) }}", union=False)
        }
        removed = sorted(old_subjects - subjects)
        extra_focus = {s.value for s, _p, _o, _g in store.quads_touching(removed, as_object=True, exclude=others)
                       if isinstance(s, ox.NamedNode)}
    more = sorted((pointing_in | extra_focus) - set(nodes))
    for s, p, o, _g in store.quads_touching(more, exclude=others):
        add(s, p, o)
    # sh:class on context values: the types of what the context triples point to
    pulled = set(nodes) | set(more)
    ctx_objects = sorted({q.object.value for q in ctx if isinstance(q.object, ox.NamedNode)} - pulled)
    for s, p, o, _g in store.quads_touching(ctx_objects, predicates=(RDF.type,), exclude=others):
        add(s, p, o)
    if ctx:
        staging.extend(ctx)
    return sorted(extra_focus)


# The focus of a validation: the subjects of a scope graph (see shapes.compiler).
_STAGING = {"new": ox.NamedNode(NEW), "context": ox.NamedNode(CONTEXT), "scope": ox.NamedNode(SCOPE),
            "focus": ox.NamedNode(FOCUS)}
_MARK_NEW_SUBJECTS = str(fill("INSERT { GRAPH $scope { ?s $focus true } } "
                              "WHERE { SELECT DISTINCT ?s WHERE { GRAPH $new { ?s ?p ?o } } }", **_STAGING))
_SCOPE_CLASSES = str(fill("SELECT DISTINCT ?c WHERE { GRAPH $scope { ?s $focus ?m } ?s a ?c }", **_STAGING))
_SCOPE_COUNT = str(fill("SELECT (COUNT(*) AS ?n) WHERE { GRAPH $scope { ?s ?p ?o } }", **_STAGING))
# a focus node's types are in the new graph or in the context brought from the rest of the store
_NEW_CLASSES = str(fill("SELECT DISTINCT ?c WHERE { { GRAPH $new { ?s a ?c } } UNION "
                        "{ GRAPH $context { ?s a ?c } FILTER EXISTS { GRAPH $new { ?s ?p ?o } } } }", **_STAGING))
_NEW_COUNT = str(fill("SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH $new { ?s ?p ?o } }", **_STAGING))


def validate_source(store: Store, source: ParsedSource, graph: str, meta_graph: str) -> Report:
    """Validate what replacing ``graph`` with ``source`` would leave, checking only what changes."""
    if source.parsed is not None:
        staging = source.parsed
        source.parsed = None  # staging adds context and markers: the parse is no longer the source alone
    else:
        staging = ox.Store()
        staging.load(source.ntriples, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(NEW))
    staging_store = EmbeddedStore.wrap(staging)
    extra_focus = _context(store, staging, graph, meta_graph)
    if extra_focus:
        # the focus is the new subjects and the nodes that pointed at removed ones: mark them all
        staging.update(_MARK_NEW_SUBJECTS)
        focus_pred, marker = ox.NamedNode(FOCUS), ox.Literal("true", datatype=ox.NamedNode(XSD.boolean))
        staging.extend(ox.Quad(ox.NamedNode(s), focus_pred, marker, ox.NamedNode(SCOPE)) for s in extra_focus)
        scope, classes_query, count_query = SCOPE, _SCOPE_CLASSES, _SCOPE_COUNT
    else:
        # the focus is exactly the subjects of the new graph: it is its own scope, nothing to mark
        scope, classes_query, count_query = NEW, _NEW_CLASSES, _NEW_COUNT
    classes = {r[0].value for r in staging.query(classes_query, use_default_graph_as_union=True)}
    report = validate_store(staging_store, scope_graph=scope, classes=classes)
    report.focus_nodes = int(next(iter(staging.query(count_query)))[0].value)
    return report


def provenance_terms(source: ParsedSource, count: int, graph: str, loaded_at: datetime) -> list[tuple]:
    """The graph's provenance in the meta graph: title, source, reader, checksum, count, load time."""
    n, g = ox.NamedNode, iri(graph, "graph")
    return [(g, n(RDF.type), n(VOID.Dataset)),
            (g, n(DCTERMS.title), ox.Literal(source.title or source.name)),
            (g, n(DCTERMS.source), ox.Literal(source.location)),
            (g, n(CHM.reader), ox.Literal(source.reader)),
            (g, n(CHM.checksum), ox.Literal(source.checksum)),
            (g, n(CHM.tripleCount), ox.Literal(str(count), datatype=n(XSD.integer))),
            (g, n(PROV.generatedAtTime), ox.Literal(loaded_at.isoformat(timespec="seconds"), datatype=n(XSD.dateTime)))]


def provenance_update(source: ParsedSource, count: int, graph: str, meta_graph: str, loaded_at: datetime) -> str:
    return (Update().delete_subject(iri(meta_graph), iri(graph, "graph"))
            .insert_data(iri(meta_graph), provenance_terms(source, count, graph, loaded_at)).text())


def _lines(data: bytes) -> set[bytes]:
    return {line for line in data.split(b"\n") if line.strip()}


def ingest(store: Store, source: ParsedSource, graph: str, meta_graph: str, *, force: bool = False) -> LoadResult:
    """Load ``source`` into ``graph``: validated, atomic, idempotent.

    Replacing a graph that exists is validated and committed as one unit against one state of the
    store (:mod:`writes.commit`): when another process commits meanwhile, the load is validated again.
    A graph that does not exist yet is bulk-loaded under a load lease (:meth:`Store.replace_graph`).
    """
    iri(graph, "graph")  # the graph's name reaches the updates below: it must be an IRI
    t0 = time.perf_counter()
    if not force and recorded_checksum(store, graph, meta_graph) == source.checksum:
        return LoadResult(graph, "unchanged", source.triple_count, seconds=time.perf_counter() - t0)
    count = source.triple_count
    loaded_at = datetime.now(timezone.utc)

    def plan(guarded: commit.Guarded) -> tuple[Report, bool, bytes, dict[str, int]]:
        report = validate_source(store, source, graph, meta_graph)
        if not report.conforms:
            raise ShapeViolation(f"{source.location} fails the shapes; nothing was written.\n{report.summary()}", report)
        existed = store.graph_exists(graph)
        ntriples = source.ntriples
        if existed and not source.canonical:
            staging = ox.Store()
            staging.load(ntriples, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(NEW))
            ntriples = staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=ox.NamedNode(NEW)) or b""
        if not existed:
            return report, existed, ntriples, {}
        new_lines, old_lines = _lines(ntriples), _lines(store.dump(graph, ox.RdfFormat.N_TRIPLES))
        removed, added = old_lines - new_lines, new_lines - old_lines
        if any(b"_:" in line for line in removed):  # blank nodes cannot be deleted by value: rewrite the graph
            guarded.clear_graph(graph)
            guarded.insert_lines(graph, sorted(new_lines))
        else:
            guarded.delete_lines(graph, sorted(removed))
            guarded.insert_lines(graph, sorted(added))
        guarded.delete_values(meta_graph, graph)
        guarded.insert_terms(meta_graph, provenance_terms(source, count, graph, loaded_at))
        return report, existed, ntriples, {"added": len(added), "removed": len(removed)}

    report, existed, ntriples, counts = commit.run(store, meta_graph, plan, f"the load of {source.location}")
    if not existed:
        counts = store.replace_graph(graph, ntriples, meta_graph, provenance_update(source, count, graph, meta_graph, loaded_at))
    log.info("%s → %s: %s triples", source.location, graph, count)
    return LoadResult(
        graph,
        "replaced" if existed else "loaded",
        count,
        added=counts["added"] if existed else count,
        removed=counts["removed"],
        seconds=time.perf_counter() - t0,
        report=report,
    )
