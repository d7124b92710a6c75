"""SPARQL Update through the shapes: run the update on a copy, validate what changed, commit the delta.

1. The store's named graphs are copied into an in-memory staging store.
2. The update runs there. Its ``WHERE`` clauses see the union of the named graphs, like queries do
   (each operation without its own ``USING``/``WITH`` gets ``USING <g>`` for every graph, or the
   protocol's ``using-graph-uri`` graphs).
3. The difference (quads added and removed per graph) is computed; triples left in the default
   graph are refused (the default graph is the union view, not a place to write), and so is any
   change to the hub's meta graph.
4. The nodes the change touches (and the nodes pointing at removed ones) are validated against the
   shapes on the staged copy; a violation raises :class:`ShapeViolation` and nothing is written.
5. The delta — exactly what was validated — is written to the store in one transactional update,
   together with the provenance of every changed graph, guarded by the store's write stamp
   (:mod:`writes.commit`): when another process committed meanwhile, nothing is written and steps
   1–4 run again over the new state.

The copy makes an update cost grow with the store (about 3 s per million triples on this machine);
bulk changes belong in ``chmkg load``, which validates only what a source touches.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pyoxigraph as ox

from ontology import CHM, DCTERMS, PROV, RDF, VOID, XSD
from ontology.errors import ChmError, QueryError, ShapeViolation
from shapes.report import Report
from shapes.validate import validate_store
from sparql.lexer import add_using, names_own_dataset
from sparql.builder import Update, fill, prefixed, term_text
from sparql.store import LOAD_STATE, EmbeddedStore, Store
from writes import commit

SCOPE = "urn:chmkg:staging:scope"
FOCUS = "urn:chmkg:staging:focus"
# the nodes pointing at a node that lost triples are validated too
POINTING_IN = ("INSERT { GRAPH <" + SCOPE + "> { ?s <" + FOCUS + "> true } } WHERE { VALUES ?o { $lost } GRAPH ?g { ?s ?p ?o } "
               "FILTER isIRI(?s) }")
IN_SCOPE_CLASSES = "SELECT DISTINCT ?c WHERE { GRAPH <" + SCOPE + "> { ?s <" + FOCUS + "> ?m } ?s a ?c }"


class ForbiddenWrite(ChmError):
    code = "E202"
    http_status = 403


class DefaultGraphWrite(ChmError):
    code = "E203"
    http_status = 400


@dataclass
class UpdateResult:
    added: int = 0
    removed: int = 0
    graphs: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def _lines_by_graph(nquads: bytes) -> dict[str, set[bytes]]:
    """N-Quads lines grouped by graph IRI (every line of a dump of named graphs ends ``<g> .``)."""
    out: dict[str, set[bytes]] = {}
    for line in nquads.split(b"\n"):
        line = line.strip()
        if not line:
            continue
        body = line[:-1].rstrip()  # drop the final "."
        cut = body.rindex(b" <")
        graph = body[cut + 2 : -1].decode()
        out.setdefault(graph, set()).add(body[:cut] + b" .")
    return out


def stage(store: Store, meta_graph: str) -> ox.Store:
    """An in-memory copy of the store's named graphs, without the hub's meta graph."""
    staging = ox.Store()
    data = store.dump(None, ox.RdfFormat.N_QUADS)
    if data:
        staging.bulk_load(data, ox.RdfFormat.N_QUADS)
    staging.remove_graph(ox.NamedNode(meta_graph))
    return staging


def apply_update(
    store: Store,
    update: str | Update | Callable[[], str | Update],
    meta_graph: str,
    *,
    using: list[str] | None = None,
    using_named: list[str] | None = None,
    base_iri: str | None = None,
    who: str = "",
) -> UpdateResult:
    """Validate and commit a SPARQL update; raise and write nothing when it breaks a shape.

    ``update`` may be a function that makes the update from the store as it is (an editor's
    version check, a duplicate check): it runs again, with the validation, whenever another process
    committed first (:func:`writes.commit.run`), so its checks hold for the state it commits over.
    """
    def plan(c: commit.Guarded) -> UpdateResult:
        u = update() if callable(update) else update
        if isinstance(u, Update):
            changes = u.data_changes() if not (using or using_named) else None
            if changes is not None:
                return _plan_data(store, changes, meta_graph, c, who=who)
            u = u.text()
        return _plan(store, u, meta_graph, c, using=using, using_named=using_named, base_iri=base_iri, who=who)

    return commit.run(store, meta_graph, plan, "the update")


def _line(triple: tuple) -> bytes:
    return (" ".join(term_text(t) for t in triple) + " .").encode()


def _plan_data(store: Store, changes: list[tuple[str, ox.NamedNode, list[tuple]]], meta_graph: str,
               guarded: commit.Guarded, *, who: str) -> UpdateResult:
    """An update of ground INSERT DATA / DELETE DATA only: its effect is read from the store where it
    touches (no staged copy), validated where it touches (:func:`writes.delta.validate_changes`) and
    committed like any other update."""
    from writes.delta import validate_changes

    if any(g.value == meta_graph for _v, g, _t in changes):
        raise ForbiddenWrite(f"the meta graph {meta_graph} is kept by the hub and cannot be updated; nothing was written")
    graphs = {g.value for _v, g, _t in changes}
    subjects = sorted({t[0].value for _v, _g, ts in changes for t in ts if isinstance(t[0], ox.NamedNode)})
    present = {(q[3].value, _line(q[:3])) for q in store.quads_touching(subjects) if q[3].value in graphs}
    state = set(present)
    for verb, g, triples in changes:  # in order: a later operation sees what the earlier ones did
        for t in triples:
            (state.add if verb == "insert" else state.discard)((g.value, _line(t)))
    added, removed = state - present, present - state
    changed = sorted({g for g, _l in added | removed})
    if not changed:
        return UpdateResult()
    delta = {g: (sorted(line for gg, line in added if gg == g), sorted(line for gg, line in removed if gg == g)) for g in changed}
    report = validate_changes(store, meta_graph, delta)
    if not report.conforms:
        raise ShapeViolation(f"the update breaks the shapes; nothing was written.\n{report.summary()}", report)
    counts = _triple_counts(store, meta_graph, changed)
    for g in changed:
        come, gone = delta[g]
        guarded.delete_lines(g, gone)
        guarded.insert_lines(g, come)
        existed = counts.get(g) is not None or store.graph_exists(g)
        after = (counts[g] if counts.get(g) is not None else _count(store, g)) + len(come) - len(gone)
        _provenance(guarded, meta_graph, g, existed, after, who)
    return UpdateResult(len(added), len(removed), changed, report)


TRIPLE_COUNTS = prefixed("SELECT ?g ?n ?meta WHERE { GRAPH ?meta { ?g chm:tripleCount ?n } }")
COUNT = "SELECT (COUNT(*) AS ?n) ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"


def _triple_counts(store: Store, meta_graph: str, graphs: list[str]) -> dict[str, int | None]:
    """The triple counts the meta graph records for ``graphs`` (None where it has none)."""
    wanted = set(graphs)
    out: dict[str, int | None] = dict.fromkeys(graphs)
    for r in store.select(TRIPLE_COUNTS, {"meta": ox.NamedNode(meta_graph)}, union=False):
        if r["g"].value in wanted:
            out[r["g"].value] = int(r["n"].value)
    return out


def _count(store: Store, graph: str) -> int:
    rows = store.select(COUNT, {"g": ox.NamedNode(graph)}, union=False)
    return int(rows[0]["n"].value) if rows else 0


def _provenance(guarded: commit.Guarded, meta_graph: str, g: str, existed: bool, count: int, who: str) -> None:
    """The meta graph's record of a graph an update changed: no longer a loaded source's copy."""
    n_ = ox.NamedNode
    now = ox.Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"), datatype=n_(XSD.dateTime))
    for predicate in (CHM.checksum, CHM.tripleCount, DCTERMS.modified, LOAD_STATE):
        guarded.delete_values(meta_graph, g, predicate)
    if count <= 0:
        guarded.delete_values(meta_graph, g)
        return
    gi = n_(g)
    facts = [(gi, n_(RDF.type), n_(VOID.Dataset)),
             (gi, n_(CHM.tripleCount), ox.Literal(str(count), datatype=n_(XSD.integer))),
             (gi, n_(DCTERMS.modified), now)]
    if who:
        facts.append((gi, n_(DCTERMS.contributor), ox.Literal(who)))
    if not existed:
        facts += [(gi, n_(CHM.reader), ox.Literal("sparql-update")),
                  (gi, n_(DCTERMS.title), ox.Literal("graph written by SPARQL update")),
                  (gi, n_(PROV.generatedAtTime), now)]
    guarded.insert_terms(meta_graph, facts)


def _plan(store: Store, update: str, meta_graph: str, guarded: commit.Guarded, *, using: list[str] | None,
          using_named: list[str] | None, base_iri: str | None, who: str) -> UpdateResult:
    if (using or using_named) and names_own_dataset(update):
        raise QueryError("the update names its own dataset (USING or WITH) and the request gives "
                         "using-graph-uri/using-named-graph-uri too; give one or the other")
    staging = stage(store, meta_graph)
    before = staging.dump(format=ox.RdfFormat.N_QUADS) or b""
    graphs = [g.value for g in staging.named_graphs() if isinstance(g, ox.NamedNode)]
    rewritten = add_using(update, using if using is not None else ([] if using_named else graphs), using_named or [])
    try:
        staging.update(rewritten, base_iri=base_iri)
    except SyntaxError as e:
        raise QueryError(f"SPARQL update syntax error: {e}") from e
    except (OSError, ValueError, RuntimeError) as e:
        raise QueryError(f"the update failed: {e}") from e
    if next(iter(staging.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
        raise DefaultGraphWrite(
            "the update writes triples outside any named graph; the default graph is the union of the "
            "named graphs — put the triples in a graph with GRAPH <…> { … }; nothing was written"
        )
    after = staging.dump(format=ox.RdfFormat.N_QUADS) or b""
    old, new = _lines_by_graph(before), _lines_by_graph(after)
    changed = sorted(g for g in set(old) | set(new) if old.get(g, set()) != new.get(g, set()))
    if meta_graph in changed:
        raise ForbiddenWrite(f"the meta graph <{meta_graph}> is kept by the hub and cannot be updated; nothing was written")
    if not changed:
        return UpdateResult()
    # scope: every node whose triples changed, and every node pointing at a node that lost triples
    touched: set[str] = set()
    lost: set[str] = set()
    for g in changed:
        for line in old.get(g, set()) ^ new.get(g, set()):
            subject = line.split(b" ", 1)[0]
            if subject.startswith(b"<"):
                touched.add(subject[1:-1].decode())
                if line in old.get(g, set()):
                    lost.add(subject[1:-1].decode())
    scope = ox.NamedNode(SCOPE)
    marker = ox.Literal("true", datatype=ox.NamedNode(XSD.boolean))
    staging.extend(ox.Quad(ox.NamedNode(s), ox.NamedNode(FOCUS), marker, scope) for s in touched)
    if lost:
        staging.update(fill(POINTING_IN, lost=[ox.NamedNode(s) for s in sorted(lost)]))
    classes = {r[0].value for r in staging.query(IN_SCOPE_CLASSES, use_default_graph_as_union=True)}
    report = validate_store(EmbeddedStore.wrap(staging), scope_graph=SCOPE, classes=classes)
    if not report.conforms:
        raise ShapeViolation(f"the update breaks the shapes; nothing was written.\n{report.summary()}", report)
    added = removed = 0
    for g in changed:
        o, n = old.get(g, set()), new.get(g, set())
        gone, come = sorted(o - n), sorted(n - o)
        added, removed = added + len(come), removed + len(gone)
        if any(b"_:" in line for line in gone):  # blank nodes cannot be deleted by value: rewrite the graph
            guarded.clear_graph(g)
            guarded.insert_lines(g, sorted(n))
        else:
            guarded.delete_lines(g, gone)
            guarded.insert_lines(g, come)
        # provenance: the graph no longer equals a loaded source, so its checksum goes
        _provenance(guarded, meta_graph, g, bool(o), len(n), who)
    return UpdateResult(added, removed, changed, report)
