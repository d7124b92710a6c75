"""Validate data against the shapes: in a store with the compiled SPARQL, or with pyshacl."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from collections.abc import Iterable
from typing import Any

import pyoxigraph as ox

from shapes.compiler import CompiledConstraint, compile_shapes
from shapes.report import Report, Violation

log = logging.getLogger(__name__)

SHAPE_FILES = ("legal.ttl", "meetings.ttl", "schemes.ttl", "actors.ttl", "workprogrammes.ttl", "records.ttl")


def shape_families() -> dict[str, bytes]:
    """Each shape family's Turtle by file name."""
    return {name: files("shapes").joinpath(name).read_bytes() for name in SHAPE_FILES}


@lru_cache(maxsize=1)
def shapes_graph_turtle() -> bytes:
    """All shape families as one N-Triples document (blank nodes kept apart per file)."""
    store = ox.Store()
    for name, data in shape_families().items():
        store.load(data, ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:shapes:" + name))
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in store]
    return ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""


@lru_cache(maxsize=1)
def compiled() -> tuple[CompiledConstraint, ...]:
    triples = list(ox.parse(shapes_graph_turtle(), ox.RdfFormat.N_TRIPLES))
    return tuple(compile_shapes(triples))


_RDFLIB_PARSER = threading.Lock()  # rdflib's SPARQL parser (pyparsing) cannot parse in two threads at once
SPARQL_READS = "sparql-reads.json"


@lru_cache(maxsize=1)
def _written_reads() -> dict[str, list[str] | None]:
    """What :func:`_reads_in_algebra` found for the shapes' own SPARQL constraints, by the SHA-256 of each query
    (``shapes/sparql-reads.json``, written by :func:`write_sparql_reads`; a test keeps it current): a
    process then neither imports rdflib's SPARQL nor parses with it (about 0.2 s, at the start of each harvest)."""
    try:
        return json.loads(files("shapes").joinpath(SPARQL_READS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _query_key(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


@lru_cache(maxsize=None)
def _sparql_reads(query: str) -> frozenset[str] | None:
    """The predicates a SPARQL query reads: those of its triple patterns and property paths, found in its
    algebra (rdflib). None when a pattern's predicate is a variable or a path is negated: it reads any."""
    written = _written_reads()
    key = _query_key(query)
    if key in written:
        found = written[key]
        return None if found is None else frozenset(found)
    return _reads_in_algebra(query)


def _reads_in_algebra(query: str) -> frozenset[str] | None:
    """:func:`_sparql_reads`, worked out with rdflib."""
    from rdflib.paths import InvPath, MulPath, NegatedPath, Path
    from rdflib.plugins.sparql import prepareQuery
    from rdflib.term import URIRef, Variable

    found: set[str] = set()

    def predicate(p: Any) -> bool:
        if isinstance(p, URIRef):
            found.add(str(p))
            return True
        if isinstance(p, (Variable, NegatedPath)) or not isinstance(p, Path):
            return False
        if isinstance(p, InvPath):
            return predicate(p.arg)
        if isinstance(p, MulPath):
            return predicate(p.path)
        return all(predicate(part) for part in p.args)  # sequence and alternative paths

    def walk(node: Any) -> bool:
        if isinstance(node, dict):
            triples = node.get("triples")
            if isinstance(triples, list):
                # translated: (s, p, o) tuples; inside an untranslated EXISTS: flat [s, p, o, s, p, o …] lists
                for t in triples:
                    if not isinstance(t, (tuple, list)) or len(t) % 3 or not all(predicate(p) for p in t[1::3]):
                        return False
            return all(walk(v) for k, v in node.items() if k != "triples")
        if isinstance(node, (list, tuple)):
            return all(walk(v) for v in node)
        return True

    with _RDFLIB_PARSER:
        algebra = prepareQuery(query).algebra
    return frozenset(found) if walk(algebra) else None


def write_sparql_reads() -> Path:
    """Write ``shapes/sparql-reads.json`` for the shapes' SPARQL constraints as they are now."""
    reads = {}
    for c in compiled():
        if c.reads is None:
            found = _reads_in_algebra(c.sparql(None))
            reads[_query_key(c.sparql(None))] = None if found is None else sorted(found)
    path = Path(str(files("shapes").joinpath(SPARQL_READS)))
    path.write_text(json.dumps(reads, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return path


def predicates_read(classes: set[str] | None = None) -> frozenset[str] | None:
    """The predicates the constraints that run for ``classes`` read in the data (None: any may be read).

    A triple whose predicate is not among them cannot change what those constraints find, so a
    validation may leave it out of its staging store."""
    found: set[str] = set()
    for c in compiled():
        if classes is not None and c.target_class not in classes:
            continue
        reads = c.reads if c.reads is not None else _sparql_reads(c.sparql(None))
        if reads is None:
            return None
        found |= reads
    return frozenset(found)


def classes_reading_backwards(predicates: Iterable[str]) -> frozenset[str]:
    """The classes whose constraints may read, towards their focus node, a triple with one of ``predicates``:
    an inverse path (``^p``), or a SPARQL constraint that reads one of them (in any direction; any, when its
    predicates are not known). What points at a node of another class through them cannot change its result."""
    wanted = set(predicates)
    found: set[str] = set()
    for c in compiled():
        if c.path is not None and c.path.startswith("^"):
            if c.path[1:] in wanted:
                found.add(c.target_class)
        elif c.reads is None:
            reads = _sparql_reads(c.sparql(None))
            if reads is None or reads & wanted:
                found.add(c.target_class)
    return frozenset(found)


VALIDATION_WORKERS = min(4, os.cpu_count() or 1)


def validate_store(store, scope_graph: str | None = None, classes: set[str] | None = None) -> Report:
    """Run every compiled constraint in ``store`` (any :class:`sparql.Store`).

    The store's union default graph is the data graph. With ``scope_graph``, only focus nodes
    that are subjects in that named graph are checked; with ``classes``, only the shapes that
    target one of those classes run (the others have no focus node).
    """
    report = Report(engine="sparql")
    seen: set[tuple] = set()
    t0 = time.perf_counter()
    todo = [c for c in compiled() if classes is None or c.target_class in classes]
    # the constraints' queries run side by side (pyoxigraph evaluates without the GIL); the report
    # keeps the constraints' order, so it is the same whatever finishes first
    workers = max(1, min(VALIDATION_WORKERS, len(todo)))
    if workers > 1:
        with ThreadPoolExecutor(workers, thread_name_prefix="validate") as pool:
            results = list(pool.map(lambda c: store.select(c.sparql(scope_graph)), todo))
    else:
        results = [store.select(c.sparql(scope_graph)) for c in todo]
    for c, rows in zip(todo, results, strict=True):
        for row in rows:
            focus = row["this"]
            value = row.get("value")
            v = Violation(
                focus=_show(focus),
                path=c.path,
                value=_show(value) if value is not None else None,
                message=c.message,
                component=c.component,
                shape=c.shape,
            )
            if v not in seen:
                seen.add(v)
                report.violations.append(v)
    log.debug("validated with %d constraints in %.0f ms", len(compiled()), (time.perf_counter() - t0) * 1000)
    return report


def _show(term: ox.Term) -> str:
    if isinstance(term, ox.NamedNode):
        return term.value
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return str(term)


@contextmanager
def _prepared_queries():
    """pyshacl evaluates a SPARQL-based constraint once per focus node from the same query text, and rdflib
    parses the text each time (about 0.15 s a parse: 60 s for 400 decisions). While pyshacl runs, each
    text is parsed and translated once and the prepared query reused — rdflib's own prepareQuery pattern,
    the evaluation with each focus node's bindings unchanged."""
    from rdflib.plugins.sparql import processor

    original = processor.SPARQLProcessor.query
    prepared: dict[tuple, Any] = {}

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):  # noqa: N803 - rdflib's names
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((initNs or {}).items())))
            if key not in prepared:
                prepared[key] = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
            strOrQuery = prepared[key]
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    processor.SPARQLProcessor.query = query
    try:
        yield
    finally:
        processor.SPARQLProcessor.query = original


def validate_with_pyshacl(data: bytes, fmt: str = "nt") -> Report:
    """The reference: validate serialised data with pyshacl, as the same kind of report."""
    import pyshacl
    import rdflib

    data_graph = rdflib.Graph().parse(data=data, format=fmt)
    shapes = rdflib.Graph().parse(data=shapes_graph_turtle(), format="nt")
    with _prepared_queries():
        _, results, _ = pyshacl.validate(data_graph, shacl_graph=shapes, advanced=True, allow_warnings=True)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    report = Report(engine="pyshacl")
    for result in results.subjects(rdflib.RDF.type, sh.ValidationResult):
        focus = results.value(result, sh.focusNode)
        path = results.value(result, sh.resultPath)
        if isinstance(path, rdflib.BNode):
            inv = results.value(path, sh.inversePath)
            path_text = "^" + str(inv) if inv is not None else None
        else:
            path_text = str(path) if path is not None else None
        value = results.value(result, sh.value)
        message = results.value(result, sh.resultMessage)
        report.violations.append(
            Violation(
                focus=str(focus) if not isinstance(focus, rdflib.BNode) else "_:" + str(focus),
                path=path_text,
                value=None if value is None else (str(value) if not isinstance(value, rdflib.Literal) else value.n3()),
                message=str(message) if message is not None else "",
                component=str(results.value(result, sh.sourceConstraintComponent)),
                shape=str(results.value(result, sh.sourceShape)),
            )
        )
    return report
