"""The store: embedded pyoxigraph on disk (default) or a remote SPARQL 1.1 Query + Update endpoint.

Both offer the same operations and the same behaviour; the hub's code paths never branch on the
mode. The default graph of every query is the union of the named graphs.

Writes of a whole named graph go through :meth:`Store.replace_graph`, which is atomic:
- a graph that does not exist yet is bulk-loaded under a *load intent* recorded first in the meta
  graph; a crash in the middle leaves the intent, and opening the store drops the partial graph;
- an existing graph is replaced by one transactional SPARQL update holding the difference
  (``DELETE DATA`` the removed triples, ``INSERT DATA`` the added ones) and the new provenance.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import threading
import time
import uuid
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Collection, Iterable, Iterator, Mapping, Union

import httpx
import pyoxigraph as ox

from ontology import CHM
from ontology.errors import ChmError, QueryError, StoreUnavailable
from sparql.builder import Update, fill, iri, term_text
from sparql.protocol import GraphResult, Solutions
from sparql.terms import Term, from_json, to_sparql

log = logging.getLogger(__name__)

Row = dict[str, Term]
Bindings = Mapping[str, Term]

LOAD_STATE = CHM.ns + "loadState"  # internal marker in the meta graph; not part of the data
HEARTBEAT = 20.0  # seconds between renewals of a running load's lease
LEASE = 120.0  # a load whose lease was not renewed for this long has lost its owner
_INTENT = "SELECT ?g ?state WHERE { GRAPH $meta { ?g $load ?state } }"


@dataclass(frozen=True)
class LoadLease:
    """Who is loading a graph: the process (host, pid) and when it last said it is alive."""

    host: str
    pid: int
    beat: float  # time.time() of the last renewal

    @staticmethod
    def mine() -> "LoadLease":
        return LoadLease(socket.gethostname(), os.getpid(), time.time())

    def text(self) -> str:
        return json.dumps({"host": self.host, "pid": self.pid, "beat": round(self.beat, 3)})

    @staticmethod
    def parse(text: str) -> "LoadLease | None":
        try:
            d = json.loads(text)
            return LoadLease(str(d["host"]), int(d["pid"]), float(d["beat"]))
        except (ValueError, KeyError, TypeError):
            return None  # the plain "loading" of stores written before leases

    def owner_gone(self, now: float | None = None) -> bool:
        """The owner process is gone: it was on this host and no longer runs, or its lease ran out."""
        if self.host == socket.gethostname() and self.pid != os.getpid():
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                pass  # alive, someone else's
        elif self.host == socket.gethostname():
            return False  # this very process is loading it
        return (now or time.time()) - self.beat > LEASE


class QueryTimeout(ChmError):
    code = "E305"
    http_status = 503


@dataclass(frozen=True)
class Dataset:
    """The RDF dataset of one protocol request: explicit default/named graphs, or the union."""

    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    union: bool = True


UNION = Dataset()
_NO_UNION = Dataset(union=False)
Outcome = Union[Solutions, bool, GraphResult]


def collect(result: Any, deadline: float | None, cap: int | None) -> Outcome:
    """Pull a pyoxigraph result into memory, stopping at the row cap and at the deadline.

    Results stream out of oxigraph row by row; leaving the loop drops the iterator, which stops
    the evaluation — a runaway query ends at its deadline instead of running on.
    """
    if isinstance(result, ox.QueryBoolean):
        return bool(result)
    if isinstance(result, ox.QuerySolutions):
        names = [v.value for v in result.variables]
        rows: list[list] = []
        for i, sol in enumerate(result):
            if cap is not None and i >= cap:
                return Solutions(names, rows, truncated_at=cap)
            if deadline is not None and not i & 255 and time.monotonic() > deadline:
                raise QueryTimeout("the query ran past its time limit and was stopped")
            rows.append(list(sol))
        if deadline is not None and time.monotonic() > deadline:
            raise QueryTimeout("the query ran past its time limit and was stopped")
        return Solutions(names, rows)
    triples: list[ox.Triple] = []
    for i, t in enumerate(result):
        if cap is not None and i >= cap:
            return GraphResult(triples, truncated_at=cap)
        if deadline is not None and not i & 255 and time.monotonic() > deadline:
            raise QueryTimeout("the query ran past its time limit and was stopped")
        triples.append(t)
    return GraphResult(triples)


class _Stop(Exception):
    """Raised by a sink to end a serialisation (budget or deadline)."""


class _BoundedSink:
    """A file-like sink for pyoxigraph's serialisers that keeps what it is given, up to ``max_bytes``
    and until ``deadline``; past either it raises, which stops the evaluation."""

    __slots__ = ("parts", "left", "deadline", "stopped", "timed_out")

    def __init__(self, max_bytes: int, deadline: float) -> None:
        self.parts: list[bytes] = []
        self.left, self.deadline = max_bytes, deadline
        self.stopped = self.timed_out = False

    def write(self, data: bytes) -> int:
        self.left -= len(data)
        if self.left < 0 or time.monotonic() > self.deadline:
            self.stopped, self.timed_out = True, self.left >= 0
            raise _Stop
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass


COMPACT_BINDINGS = b'"results":{"bindings":['  # oxigraph's SPARQL JSON: compact, no whitespace


def _at_most_rows(body: bytes, max_rows: int) -> bool:
    """Whether oxigraph's SPARQL JSON ``body`` holds at most ``max_rows`` solutions, proved without
    parsing it: a row is at least ``{}`` and a comma, so a body under 3 × max_rows bytes cannot hold
    more; else each boundary between two rows is ``},{`` (the end of a row, the start of the next),
    and two boundaries never share a character, even between empty rows (``{},{},{}``), so there are
    never fewer matches than boundaries (a literal that spells one only adds matches), and more
    matches than ``max_rows − 1`` answers False. Output that is not compact (another writer, another
    version) answers False: the caller evaluates with its row cap."""
    if len(body) < 3 * max_rows:
        return True
    if COMPACT_BINDINGS not in body:
        return False
    return body.count(b"},{") + 1 <= max_rows


def _ntriples_lines(data: bytes) -> set[bytes]:
    return {line for line in data.split(b"\n") if line.strip()}


def graph_update(graph: str, removed: Iterable[bytes], added: Iterable[bytes], drop_first: bool) -> str:
    """A SPARQL update that turns a graph's old content into its new content."""
    g = iri(graph, "graph")
    update = Update()
    if drop_first:
        update.drop_graph(g)
    else:
        update.raw_ntriples("DELETE DATA", g, list(removed))
    update.raw_ntriples("INSERT DATA", g, list(added))
    return update.text()


class Store(ABC):
    """What the rest of the hub needs from a triple store."""

    mode = "abstract"
    engine = "abstract"
    atomic_updates = True  # an update of several operations applies whole or not at all

    # -- reading --------------------------------------------------------------------------
    @abstractmethod
    def select_table(self, query: str, bindings: Bindings | None = None, *, union: bool = True,
                     limit: int | None = None) -> tuple[list[str], list[Row]]:
        """Run a SELECT; the projected variable names, and rows mapping them to terms (unbound ones
        absent) — at most ``limit`` rows when given (the evaluation stops there)."""

    def select(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> list[Row]:
        """Run a SELECT; rows map variable names to terms (unbound variables are absent)."""
        return self.select_table(query, bindings, union=union)[1]

    @abstractmethod
    def ask(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bool:
        """Run an ASK."""

    @abstractmethod
    def construct(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bytes:
        """Run a CONSTRUCT or DESCRIBE; the triples come back as N-Triples bytes."""

    @abstractmethod
    def execute(self, query: str, dataset: Dataset = UNION, *, deadline: float | None = None, cap: int | None = None,
                base_iri: str | None = None) -> Outcome:
        """Run any query form for the SPARQL protocol: solutions, a boolean or a graph.

        ``deadline`` (a ``time.monotonic()`` value) stops the query; ``cap`` bounds rows/triples;
        ``base_iri`` resolves relative IRIs (the service's base: its endpoint).
        """

    def solutions_json(self, query: str, dataset: Dataset = UNION, *, deadline: float, max_rows: int,
                       max_bytes: int, base_iri: str | None = None) -> bytes | None:
        """A SELECT's answer as SPARQL JSON results written by the engine itself, or None when this
        store cannot (then ``execute`` and ``protocol.serialize_solutions`` give the same bytes), the
        query is not a SELECT, the answer would pass ``max_bytes``, or it may hold more than
        ``max_rows`` rows (the caller then evaluates again with its row cap)."""
        return None

    @abstractmethod
    def dump(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        """Serialise one named graph (triples) or, with ``graph=None``, the whole dataset (quads)."""

    @abstractmethod
    def named_graphs(self) -> list[str]:
        """The IRIs of the named graphs holding at least one triple."""

    # -- writing --------------------------------------------------------------------------
    @abstractmethod
    def update(self, update: str) -> None:
        """Run a SPARQL update as one transaction."""

    @abstractmethod
    def _load_fresh(self, graph: str, data: bytes, fmt: ox.RdfFormat) -> None:
        """Write the triples of a graph that is empty now (the fast path)."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release the store."""

    def forget(self) -> None:  # noqa: B027 - optional
        """Drop what the store keeps about the data between requests (another process wrote)."""

    # -- shared behaviour -----------------------------------------------------------------
    def count(self, graph: str | None = None) -> int:
        if graph is None:
            q = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        else:
            q = fill("SELECT (COUNT(*) AS ?n) WHERE { GRAPH $g { ?s ?p ?o } }", g=iri(graph, "graph"))
        rows = self.select(q, union=False)
        return int(rows[0]["n"].value) if rows else 0

    def quads_touching(self, nodes: list[str], *, as_object: bool = False, predicates: tuple[str, ...] | None = None,
                         exclude: tuple[str, ...] = ()) -> Iterator[tuple[Term, Term, Term, Term]]:
        """The quads (s, p, o, g) of the named graphs (but ``exclude``) with one of ``nodes`` as subject (or as
        object), through ``predicates`` when given. Here: SPARQL in batches; the embedded store looks
        each node up in its indexes."""
        others = " ".join(f"FILTER (?g != {iri(g, 'graph')})" for g in exclude)
        pred = f"VALUES ?p {{ {' '.join(str(iri(p, 'predicate')) for p in predicates)} }}" if predicates else ""
        for start in range(0, len(nodes), 2000):
            values = " ".join(str(iri(n, "node")) for n in nodes[start:start + 2000])
            var = "?o" if as_object else "?s"
            q = "SELECT ?s ?p ?o ?g WHERE { VALUES " + var + " { " + values + " } " + pred + " GRAPH ?g { ?s ?p ?o } " + others + " }"
            for row in self.select(q, union=False):
                yield row["s"], row["p"], row["o"], row["g"]

    def graph_exists(self, graph: str) -> bool:
        return self.ask(fill("ASK { GRAPH $g { ?s ?p ?o } }", g=iri(graph, "graph")), union=False)

    def replace_graph(self, graph: str, ntriples: bytes, meta_graph: str, meta_turtle_update: str) -> dict[str, int]:
        """Atomically make ``graph`` hold exactly ``ntriples`` and record its provenance.

        ``meta_turtle_update`` is a SPARQL update (run in the same transaction) that rewrites the
        graph's provenance in ``meta_graph``. Returns how many triples were added and removed.
        """
        if not self.graph_exists(graph):
            self.update(self._intent(graph, meta_graph, LoadLease.mine()).text())
            stop = threading.Event()
            beat = threading.Thread(target=self._renew, args=(graph, meta_graph, stop), name="load-lease", daemon=True)
            beat.start()
            try:
                self._load_fresh(graph, ntriples, ox.RdfFormat.N_TRIPLES)
            except BaseException:
                stop.set()
                beat.join()
                self.update(Update().drop_graph(iri(graph)).delete_values(iri(meta_graph), iri(graph), ox.NamedNode(LOAD_STATE)).text())
                raise
            stop.set()
            beat.join()
            self.update(self._clear_intent(graph, meta_graph) + " ;\n" + meta_turtle_update)
            return {"added": ntriples.count(b"\n"), "removed": 0}
        new_lines = _ntriples_lines(ntriples)
        old_lines = _ntriples_lines(self.dump(graph, ox.RdfFormat.N_TRIPLES))
        removed = old_lines - new_lines
        added = new_lines - old_lines
        has_bnodes = any(b"_:" in line for line in removed)
        body = graph_update(graph, sorted(removed), sorted(new_lines if has_bnodes else added), has_bnodes)
        self.update((body + " ;\n" if body else "") + meta_turtle_update)
        return {"added": len(added), "removed": len(removed)}

    @staticmethod
    def _clear_intent(graph: str, meta_graph: str) -> str:
        return Update().delete_values(iri(meta_graph), iri(graph), ox.NamedNode(LOAD_STATE)).text()

    @staticmethod
    def _intent(graph: str, meta_graph: str, lease: LoadLease) -> Update:
        """The load intent: the graph is being loaded by this process (its lease)."""
        return (Update().delete_values(iri(meta_graph), iri(graph), ox.NamedNode(LOAD_STATE))
                .insert_data(iri(meta_graph), [(iri(graph), ox.NamedNode(LOAD_STATE), ox.Literal(lease.text()))]))

    def _renew(self, graph: str, meta_graph: str, stop: threading.Event) -> None:
        """Renew the lease of a running load until it ends, so other processes leave it alone."""
        while not stop.wait(HEARTBEAT):
            try:
                self.update(self._intent(graph, meta_graph, LoadLease.mine()).text())
            except ChmError as e:  # the load itself will report a store that went away
                log.warning("could not renew the load lease of %s: %s", graph, e)

    def recover(self, meta_graph: str) -> list[str]:
        """Drop graphs whose load was cut off: a load intent whose owner process is gone. Returns them.

        A load another live process is running (its lease renewed within :data:`LEASE`) is left alone.
        """
        rows = self.select(fill(_INTENT, meta=iri(meta_graph), load=ox.NamedNode(LOAD_STATE)), union=False)
        dropped = []
        for row in rows:
            g = row["g"].value
            lease = LoadLease.parse(row["state"].value)
            if lease is not None and not lease.owner_gone():
                log.info("graph %s is being loaded by process %s on %s; left alone", g, lease.pid, lease.host)
                continue
            log.warning("dropping graph %s: its load did not complete", g)
            self.update(Update().drop_graph(iri(g)).delete_values(iri(meta_graph), iri(g), ox.NamedNode(LOAD_STATE)).text())
            dropped.append(g)
        return dropped


def _with_base(query: str, base_iri: str | None) -> str:
    """The query with the endpoint as its base when it has relative IRIs: the protocol has no base
    parameter, so a leading BASE (the query's own BASE still wins). The base is a checked IRI term."""
    if not base_iri or not _has_relative_iri(query):
        return query
    return "BASE " + term_text(iri(base_iri, "base IRI")) + " " + query


def _has_relative_iri(query: str) -> bool:
    from sparql.lexer import tokens

    return any(t.kind == "iri" and ":" not in t.text for t in tokens(query))


_WHERE = re.compile(r"\b(?:WHERE|ASK)\s*\{|\bASK\s+WHERE\s*\{", re.I)


def _with_values(query: str, bindings: Bindings | None) -> str:
    """Bind variables for a remote store with a VALUES block opening the WHERE clause, where the
    query's FILTERs and OPTIONALs see the bound values as they see pyoxigraph's substitutions (a
    trailing VALUES would only join the finished results: a FILTER on a parameter would pass all)."""
    if not bindings:
        return query
    names = " ".join(f"?{k}" for k in bindings)
    values = " ".join(to_sparql(v) for v in bindings.values())
    block = f"VALUES ({names}) {{ ({values}) }}"
    # the first WHERE { (or ASK {) outside the prologue's IRIs and comments
    body_start = 0
    for line in query.splitlines(keepends=True):
        if line.lstrip().upper().startswith(("PREFIX", "BASE", "#")) or not line.strip():
            body_start += len(line)
        else:
            break
    m = _WHERE.search(query, body_start)
    if m is None:
        return f"{query}\n{block}"
    return query[:m.end()] + " " + block + " " + query[m.end():]


def _capped(query: str, cap: int) -> str:
    """A SELECT without a LIMIT of its own asks the remote store for one row more than the cap: the
    store stops there, and the extra row tells that the answer was cut."""
    from sparql.lexer import analyse, tokens

    analysis = analyse(query)
    if analysis.form != "SELECT" or analysis.is_update or analysis.limit is not None:
        return query
    toks = tokens(query)
    depth, where_end = 0, len(toks)
    for i, t in enumerate(toks):  # the WHERE clause ends where the braces first close again
        if t.kind == "punct" and t.text in "{}":
            depth += 1 if t.text == "{" else -1
            if depth == 0:
                where_end = i
                break
    if any(t.kind == "word" and t.upper == "VALUES" for t in toks[where_end + 1:]):
        return query  # a trailing VALUES block ends the query: a LIMIT cannot follow it
    return query + "\nLIMIT " + str(cap + 1)


def _checked(r: httpx.Response, what: str) -> httpx.Response:
    _raise_for_status(r.status_code, r.text, what)
    return r


_ESTIMATED_TOO_LONG = re.compile(r"estimated execution time .{0,40} exceeds the limit|Error S1T00|Error SR171", re.S)


def _raise_for_status(status: int, text: str, what: str) -> None:
    if status >= 400 and _ESTIMATED_TOO_LONG.search(text[:500]):  # Virtuoso's own time limits
        raise QueryTimeout(f"the query ran past its time limit (the remote store: {text[:300].strip()})")
    if status >= 400 and "transitive start not given" in text[:300]:  # Virtuoso: a property path open at both ends
        raise QueryError(f"the remote store cannot evaluate this query: {text[:300].strip()}")
    if status >= 500:
        raise StoreUnavailable(f"the remote store failed the {what} ({status}): {text[:500]}")
    if status == 400 and (text.startswith("error at ") or "SPARQL compiler" in text and "syntax error" in text):
        raise QueryError(f"SPARQL syntax error (reported by the remote store): {text[:500]}")
    if status >= 400:
        raise QueryError(f"the remote store refused the {what} ({status}): {text[:500]}")


# a large bulk addition is loaded as this many pieces at once, each by a bulk load of its own (pyoxigraph
# releases the GIL while it loads): two concurrent loads of 76k lines each take half the time of one load of
# 152k lines, and less CPU (smaller sorts)
BULK_PIECES = max(1, min(2, os.cpu_count() or 1))
BULK_PIECE_LINES = 20_000  # below this many lines, one load
FLUSH_AFTER_BYTES = 16 * 2**20  # of SPARQL updates, between two flushes of an embedded store's in-memory tables


class EmbeddedStore(Store):
    """pyoxigraph on disk (or in memory with ``path=None``)."""

    mode = "embedded"
    engine = "oxigraph"

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path is not None else None
        self._written = 0  # bytes of updates since the last flush
        try:
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(path)) if path is not None else ox.Store()
        except OSError as e:
            if "lock" in str(e).lower():
                raise StoreUnavailable(f"the store at {path} is in use by another process (a running hub?); stop it first, "
                                       "or do this through the hub's HTTP API (for a backup: POST /admin/backup)") from e
            raise StoreUnavailable(f"cannot open the store at {path}: {e}") from e
        self._undo_bulk_intents()

    @classmethod
    def wrap(cls, store: ox.Store) -> "EmbeddedStore":
        """An EmbeddedStore over an already open pyoxigraph store (e.g. a reader's in-memory parse)."""
        self = cls.__new__(cls)
        self.path, self._store = None, store
        return self

    @property
    def raw(self) -> ox.Store:
        return self._store

    def _query(self, query: str, bindings: Bindings | None, union: bool) -> Any:
        t0 = time.perf_counter()
        try:
            result = self._store.query(
                query, use_default_graph_as_union=union, substitutions={ox.Variable(k): v for k, v in bindings.items()} if bindings else None
            )
        except SyntaxError as e:
            raise QueryError(f"SPARQL syntax error: {e}") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from e
        log.debug("query in %.1f ms", (time.perf_counter() - t0) * 1000)
        return result

    def quads_touching(self, nodes: list[str], *, as_object: bool = False, predicates: tuple[str, ...] | None = None,
                         exclude: tuple[str, ...] = ()) -> Iterator[tuple[Term, Term, Term, Term]]:
        # one index lookup per node: a VALUES join would let the optimiser scan every quad first
        ex = {ox.NamedNode(g) for g in exclude}
        preds = [ox.NamedNode(p) for p in predicates] if predicates else [None]
        find = self._store.quads_for_pattern
        probe = len(preds) > 2  # several look-ups per node: first one to see whether the node is there at all
        for n in nodes:
            node = ox.NamedNode(n)
            if probe and next(iter(find(None, None, node, None) if as_object else find(node, None, None, None)), None) is None:
                continue  # a node new to the store (most of a harvested batch's): one look-up, not one per predicate
            for p in preds:
                for q in (find(None, p, node, None) if as_object else find(node, p, None, None)):
                    g = q.graph_name
                    if isinstance(g, ox.DefaultGraph) or g in ex:
                        continue
                    yield q.subject, q.predicate, q.object, g

    def select_table(self, query: str, bindings: Bindings | None = None, *, union: bool = True,
                     limit: int | None = None) -> tuple[list[str], list[Row]]:
        result = self._query(query, bindings, union)
        if not isinstance(result, ox.QuerySolutions):
            raise QueryError("not a SELECT query")
        names = [v.value for v in result.variables]
        rows = []
        for i, sol in enumerate(result):
            if limit is not None and i >= limit:
                break
            row = {}
            for n in names:
                t = sol[n]
                if t is not None:
                    row[n] = t
            rows.append(row)
        return names, rows

    def ask(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bool:
        return bool(self._query(query, bindings, union))

    def construct(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bytes:
        result = self._query(query, bindings, union)
        return ox.serialize(result, format=ox.RdfFormat.N_TRIPLES) or b""

    def execute(self, query: str, dataset: Dataset = UNION, *, deadline: float | None = None, cap: int | None = None,
                base_iri: str | None = None) -> Outcome:
        kwargs: dict[str, Any] = {"base_iri": base_iri}
        if dataset.default_graphs:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in dataset.default_graphs]
        else:
            kwargs["use_default_graph_as_union"] = dataset.union and not dataset.named_graphs
        if dataset.named_graphs or dataset.default_graphs:
            # default-graph-uri alone: no named graphs at all (SPARQL 1.1 Protocol §2.1.4)
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in dataset.named_graphs]
        try:
            return collect(self._store.query(query, **kwargs), deadline, cap)
        except SyntaxError as e:
            raise QueryError(f"SPARQL syntax error: {e}") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from e

    def solutions_json(self, query: str, dataset: Dataset = UNION, *, deadline: float, max_rows: int,
                       max_bytes: int, base_iri: str | None = None) -> bytes | None:
        # pyoxigraph's own serialiser: no Python object per row or term (an uncached lookup: query,
        # rows and JSON 64 → 43 µs). It writes to the sink as it goes, and the sink stops it (an error
        # raised in write() ends the evaluation) past the byte budget or the deadline. The rows are
        # bounded after (_at_most_rows), not by evaluating again.
        if dataset.default_graphs or dataset.named_graphs:
            return None
        try:
            result = self._store.query(query, use_default_graph_as_union=dataset.union, base_iri=base_iri)
        except SyntaxError as e:
            raise QueryError(f"SPARQL syntax error: {e}") from e
        except (OSError, ValueError, RuntimeError) as e:
            raise QueryError(f"query failed: {e}") from e
        if not isinstance(result, ox.QuerySolutions):
            return None
        sink = _BoundedSink(max_bytes, deadline)
        try:
            result.serialize(sink, format=ox.QueryResultsFormat.JSON)
        except _Stop:
            if sink.timed_out:
                raise QueryTimeout("the query ran past its time limit and was stopped") from None
            return None
        except (OSError, ValueError, RuntimeError) as e:
            if sink.stopped:  # pyoxigraph may hand the sink's error back as an OSError
                if sink.timed_out:
                    raise QueryTimeout("the query ran past its time limit and was stopped") from None
                return None
            raise QueryError(f"query failed: {e}") from e
        if time.monotonic() > deadline:
            raise QueryTimeout("the query ran past its time limit and was stopped")
        body = b"".join(sink.parts)
        return body if _at_most_rows(body, max_rows) else None

    def dump(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        if graph is None:
            return self._store.dump(format=fmt) or b""
        return self._store.dump(format=fmt, from_graph=ox.NamedNode(graph)) or b""

    def named_graphs(self) -> list[str]:
        # the store's own list of named graphs, each probed for a triple: not a scan of every quad
        # (minutes at 10M triples, and /healthz asks)
        rows = self.select("SELECT ?g WHERE { GRAPH ?g { } FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }", union=False)
        return sorted(r["g"].value for r in rows)

    def update(self, update: str) -> None:
        try:
            self._store.update(update)
        except SyntaxError as e:
            raise QueryError(f"SPARQL update syntax error: {e}") from e
        except OSError as e:
            raise StoreUnavailable(f"the store refused the write: {e}") from e
        self._written += len(update)
        if self.path is not None and self._written >= FLUSH_AFTER_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write the store's in-memory tables to disk. pyoxigraph leaves them to grow with the writes
        (1.3M triples in 100 updates: +1.08 GB RSS); a flush every ``FLUSH_AFTER_BYTES`` of updates
        keeps a long harvest's memory bounded (+185 MB) and is not slower."""
        self._written = 0
        try:
            self._store.flush()
        except OSError as e:
            raise StoreUnavailable(f"the store refused the write: {e}") from e

    # -- additions through RocksDB's bulk loader, undone on the next open if cut off ----------------
    @property
    def _intents(self) -> Path | None:
        """Where the bulk additions under way are written down: the store's state folder."""
        return None if self.path is None else self.path.parent / (self.path.name + "-hub") / "bulk-intents"

    def insert_bulk(self, parts: list[tuple[str, list[bytes]]], before: str | None = None, *, checked: bool = False,
                    new_subjects: Collection[str] = ()) -> int:
        """Add N-Triples lines to named graphs with pyoxigraph's bulk loader — several times faster than a
        transaction (bench/harvest.py), but not atomic. So what the addition will write is first written
        down in an intent file (synced to disk), then loaded, then the file is removed; if the process
        dies in between, the next open of the store removes exactly what it wrote (:meth:`_undo_bulk_intents`),
        so a cut-off addition leaves nothing behind. The intent names a subject new to its graph once
        (every triple about it in that graph comes from this addition) and lists the other new quads.
        ``before`` is an update applied first (the write stamp). Only for a process that alone uses the store
        (a CLI harvest): readers of the same process could see a part of the addition while it loads. ``checked``: the
        lines were written by pyoxigraph (their terms checked when made), so the loader skips checking IRIs again
        (``lenient``: about 7 % of a bulk load's CPU). ``new_subjects``: subjects the caller knows the store has no
        triple about (a harvest's validation looked them up), so they are not looked up again. Returns the quads added."""
        loads: list[tuple[ox.NamedNode, bytes]] = []  # per graph: its new lines, as N-Triples
        intent_lines: list[bytes] = []  # "#S <subject> <graph>" for a new subject; the other new quads as N-Quads
        count = 0
        find = self._store.quads_for_pattern
        fresh = {b"<" + s.encode() + b">" for s in new_subjects}  # as the lines write them
        for graph, lines in parts:
            g = ox.NamedNode(graph)
            graph_text = str(g).encode()
            new: list[bytes] = []
            looked_up: list[bytes] = []  # lines about subjects the graph has: each looked up
            last, last_seen = b"", False  # the lines of a subject mostly come together: one look-up for them
            known: dict[bytes, bool] = {}  # subject → whether the graph already has triples about it
            for line in lines:
                if line[:1] != b"<" or not line.endswith(b" ."):
                    looked_up.append(line)  # not a canonical line about an IRI (a blank node, a comment): parsed below
                    continue
                subject = line[:line.find(b" ")]
                if subject != last:
                    seen = known.get(subject)
                    if seen is None:
                        seen = known[subject] = subject not in fresh and next(
                            iter(find(ox.NamedNode(subject[1:-1].decode()), None, None, g)), None) is not None
                        if not seen:
                            intent_lines.append(_NEW_SUBJECT + subject + b" " + graph_text)
                    last, last_seen = subject, seen
                if last_seen:
                    looked_up.append(line)
                else:  # a subject new to the graph: the line is new (most lines of a new record)
                    new.append(line)
            if looked_up:
                try:
                    for t in ox.parse(b"\n".join(looked_up), format=ox.RdfFormat.N_TRIPLES):
                        if ox.Quad(t.subject, t.predicate, t.object, g) not in self._store:
                            new.append(f"{t.subject} {t.predicate} {t.object} .".encode())
                            intent_lines.append(f"{t.subject} {t.predicate} {t.object} {g} .".encode())
                except SyntaxError as e:
                    raise QueryError(f"an addition is not valid N-Triples: {e}") from e
            if new:
                count += len(new)
                pieces = max(1, min(BULK_PIECES, len(new) // BULK_PIECE_LINES))
                size = -(-len(new) // pieces)
                loads.extend((g, b"\n".join(new[i:i + size]) + b"\n") for i in range(0, len(new), size))
        if before:
            self.update(before)
        if not loads:
            return 0
        if self._intents is None:  # in memory: nothing survives a crash to undo
            for g, data in loads:
                self._store.load(data, ox.RdfFormat.N_TRIPLES, to_graph=g)
            return count
        self._intents.mkdir(parents=True, exist_ok=True)
        intent = self._intents / f"{uuid.uuid4().hex}.nq"
        with open(intent, "wb") as f:
            f.write(b"\n".join(intent_lines) + b"\n")
            f.flush()
            os.fsync(f.fileno())
        _fsync_dir(self._intents)
        try:
            if len(loads) > 1:
                with ThreadPoolExecutor(min(BULK_PIECES, len(loads)), thread_name_prefix="bulk-load") as pool:
                    list(pool.map(lambda load: self._store.bulk_load(load[1], ox.RdfFormat.N_TRIPLES, to_graph=load[0],
                                                                     lenient=checked), loads))
            else:
                self._store.bulk_load(loads[0][1], ox.RdfFormat.N_TRIPLES, to_graph=loads[0][0], lenient=checked)
            self._store.flush()
        except SyntaxError as e:  # whatever it wrote before the bad line is undone now
            self._undo_bulk_intents()
            raise QueryError(f"an addition is not valid N-Triples: {e}") from e
        except OSError as e:
            raise StoreUnavailable(f"the store refused the write: {e}") from e
        intent.unlink()
        _fsync_dir(self._intents)
        return count

    def _undo_bulk_intents(self) -> list[Path]:
        """Remove what bulk additions a process began and did not finish wrote (their intent files): every
        triple about a subject that was new to its graph, and the other quads listed."""
        folder = self._intents
        if folder is None or not folder.is_dir():
            return []
        undone = []
        for intent in sorted(folder.glob("*.nq")):
            data = intent.read_bytes()
            try:
                quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS))  # the "#S" lines are comments to the parser
            except SyntaxError:  # a bad or cut-off line: the others, one by one
                quads = []
                for line in data.split(b"\n"):
                    try:
                        quads.extend(ox.parse(line, format=ox.RdfFormat.N_QUADS))
                    except SyntaxError:
                        continue
            for m in _NEW_SUBJECT_LINE.finditer(data):  # a cut-off last line does not match: that addition never began
                try:
                    subject, graph = ox.NamedNode(m.group(1).decode()), ox.NamedNode(m.group(2).decode())
                except ValueError:  # not an IRI: the loader refused it, nothing about it was written
                    continue
                quads.extend(self._store.quads_for_pattern(subject, None, None, graph))
            for q in quads:
                self._store.remove(q)
            self._store.flush()
            log.warning("undid a bulk addition that did not complete (%d quads, %s)", len(quads), intent.name)
            intent.unlink()
            undone.append(intent)
        return undone

    def _load_fresh(self, graph: str, data: bytes, fmt: ox.RdfFormat) -> None:
        try:
            if self.path is None:
                self._store.load(data, fmt, to_graph=ox.NamedNode(graph))
            else:
                self._store.bulk_load(data, fmt, to_graph=ox.NamedNode(graph))
                self._store.flush()
        except OSError as e:
            raise StoreUnavailable(f"the store refused the write: {e}") from e

    def close(self) -> None:
        try:
            self._store.flush()
        except OSError:
            pass
        del self._store


_NEW_SUBJECT = b"#S "  # an intent line: a subject new to its graph (a comment to an N-Quads parser)
_NEW_SUBJECT_LINE = re.compile(rb"^#S <([^<>\s]+)> <([^<>\s]+)>$", re.M)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class ReadOnlyStore(EmbeddedStore):
    """A read-only view of an embedded store that a writer process holds open (``Store.read_only``):
    it sees what was committed when it was opened, and :meth:`reopen` moves it to the present."""

    mode = "embedded"
    read_only = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._store = ox.Store.read_only(str(path))
        except OSError as e:
            raise StoreUnavailable(f"cannot open the store at {path} read-only: {e}") from e

    def reopen(self) -> None:
        fresh = ox.Store.read_only(str(self.path))  # queries running on the old view finish on it
        with self._lock:
            self._store = fresh

    def update(self, update: str) -> None:
        raise StoreUnavailable("this process reads only; writes go to the writer process")

    def _load_fresh(self, graph: str, data: bytes, fmt: ox.RdfFormat) -> None:
        raise StoreUnavailable("this process reads only; writes go to the writer process")

    def recover(self, meta_graph: str) -> list[str]:
        return []

    def close(self) -> None:
        with self._lock:
            self._store = None  # type: ignore[assignment]


class RemoteStore(Store):
    """A remote SPARQL 1.1 Query + Update endpoint (``oxigraph serve``, Fuseki, GraphDB …).

    The hub asks for the union default graph per request with oxigraph's ``union-default-graph``
    parameter, so ``oxigraph serve`` runs without ``--union-default-graph`` and requests that turn
    the union off see the real (empty) default graph. Stores without that parameter (Fuseki …)
    need their union-default-graph option on.
    """

    mode = "remote"
    engine = "sparql"

    def __init__(self, query_url: str, update_url: str | None = None, timeout: float = 30.0, *,
                 auth: tuple[str, str] | None = None) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self._client = httpx.Client(timeout=timeout)
        self._update_auth = httpx.BasicAuth(*auth) if auth else None  # updates only (Fuseki, GraphDB …)
        self._async: tuple[object, httpx.AsyncClient] | None = None

    def _post_query(self, query: str, accept: str, union: bool) -> httpx.Response:
        return self._send_query(query, accept, self._dataset_params(UNION if union else _NO_UNION, query))

    def _send_query(self, query: str, accept: str, params: list[tuple[str, str]]) -> httpx.Response:
        try:
            r = self._client.post(self.query_url, **self._query_request(query, params, accept))
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.query_url} did not answer: {e}") from e
        return _checked(r, "query")

    def _query_request(self, query: str, params: list[tuple[str, str]], accept: str) -> dict[str, Any]:
        """The parts of the HTTP request asking ``query`` (the SPARQL 1.1 protocol's POST with the
        query as the body); a dialect may ask otherwise."""
        return {"params": params, "content": query.encode(),
                "headers": {"Content-Type": "application/sparql-query", "Accept": accept}}

    def select_table(self, query: str, bindings: Bindings | None = None, *, union: bool = True,
                     limit: int | None = None) -> tuple[list[str], list[Row]]:
        r = self._post_query(_with_values(query, bindings), "application/sparql-results+json", union)
        data = r.json()
        if "results" not in data:
            raise QueryError("not a SELECT query")
        rows = [{k: from_json(v) for k, v in b.items()} for b in data["results"]["bindings"][:limit]]
        return list(data["head"].get("vars", [])), rows

    def ask(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bool:
        r = self._post_query(_with_values(query, bindings), "application/sparql-results+json", union)
        return bool(r.json()["boolean"])

    def construct(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bytes:
        return self._post_query(_with_values(query, bindings), "application/n-triples", union).content

    def execute(self, query: str, dataset: Dataset = UNION, *, deadline: float | None = None, cap: int | None = None,
                base_iri: str | None = None) -> Outcome:
        query = _with_base(query, base_iri)
        if cap is not None:
            query = _capped(query, cap)
        params = self._dataset_params(dataset, query)
        timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
        try:
            # streamed, so the deadline bounds the whole answer (httpx's timeouts bound each read only);
            # closing the connection early makes the remote store stop
            with self._client.stream(
                "POST",
                self.query_url,
                **self._query_request(query, params, self._answer_types(query)),
                timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT,
            ) as r:
                chunks = []
                for chunk in r.iter_bytes():
                    chunks.append(chunk)
                    if deadline is not None and time.monotonic() > deadline:
                        raise QueryTimeout("the query ran past its time limit and was stopped")
                body = b"".join(chunks)
        except httpx.TimeoutException as e:
            raise QueryTimeout("the query ran past its time limit and was stopped") from e
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.query_url} did not answer: {e}") from e
        _raise_for_status(r.status_code, body.decode("utf-8", "replace"), "query")
        media = r.headers.get("content-type", "").split(";")[0].strip()
        try:
            if media == "application/sparql-results+json":
                parsed = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
            else:
                parsed = ox.parse(body, format=ox.RdfFormat.N_TRIPLES)
        except SyntaxError as e:
            raise StoreUnavailable(f"the remote store sent an unreadable {media} answer: {e}") from e
        return collect(parsed, deadline, cap)

    def _answer_types(self, query: str) -> str:
        """The Accept header of a protocol query: solutions as SPARQL JSON, graphs as N-Triples."""
        return "application/sparql-results+json, application/n-triples;q=0.9"

    async def open_stream(self, query: str, dataset: Dataset, media_type: str, *, deadline: float | None = None,
                          base_iri: str | None = None) -> httpx.Response | None:
        """The remote store's answer to ``query`` in ``media_type``, its body not read yet (the caller
        streams it on with ``aiter_bytes`` and closes it with ``aclose``): the pass-through of a plain
        read, on the event loop (no thread per chunk). Errors are raised as :meth:`execute` raises
        them, before anything is sent on; None when the store answers in another format."""
        query = _with_base(query, base_iri)
        timeout = None if deadline is None else max(0.05, deadline - time.monotonic())
        client = self._async_client()
        request = client.build_request(
            "POST", self.query_url, **self._query_request(query, self._dataset_params(dataset, query), media_type),
            timeout=timeout if timeout is not None else httpx.USE_CLIENT_DEFAULT)
        try:
            r = await client.send(request, stream=True)
        except httpx.TimeoutException as e:
            raise QueryTimeout("the query ran past its time limit and was stopped") from e
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.query_url} did not answer: {e}") from e
        if r.status_code != 200:
            try:
                text = (await r.aread()).decode("utf-8", "replace")
            finally:
                await r.aclose()
            _raise_for_status(r.status_code, text, "query")
        if r.headers.get("content-type", "").split(";")[0].strip() != media_type:
            await r.aclose()  # the store answers in another format than asked: the caller takes the usual path
            return None
        return r

    def _async_client(self) -> httpx.AsyncClient:
        """One asynchronous client per event loop (a client belongs to the loop it was made in)."""
        import asyncio

        loop = asyncio.get_running_loop()
        held = self._async
        if held is None or held[0] is not loop:
            held = self._async = (loop, httpx.AsyncClient(timeout=self._client.timeout,
                                                          limits=httpx.Limits(max_connections=64, max_keepalive_connections=32)))
        return held[1]

    def _dataset_params(self, dataset: Dataset, query: str = "") -> list[tuple[str, str]]:
        """The protocol's dataset parameters for ``dataset`` (``query`` for a dialect that needs it)."""
        params: list[tuple[str, str]] = [("default-graph-uri", g) for g in dataset.default_graphs]
        params += [("named-graph-uri", g) for g in dataset.named_graphs]
        if not dataset.default_graphs and not dataset.named_graphs and dataset.union:
            params.append(("union-default-graph", ""))
        return params

    def dump(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        if graph is None:
            quads = []
            for g in self.named_graphs():
                nt = self.dump(g, ox.RdfFormat.N_TRIPLES)
                quads.extend(ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(g)) for t in ox.parse(nt, ox.RdfFormat.N_TRIPLES))
            return ox.serialize(quads, format=fmt) or b""
        nt = self._post_query(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}", "application/n-triples", False
        ).content
        if fmt == ox.RdfFormat.N_TRIPLES:
            return nt
        return ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=fmt) or b""

    def named_graphs(self) -> list[str]:
        # the store's own list of named graphs, each probed for a triple: not a scan of every quad
        # (minutes at 10M triples, and /healthz asks)
        rows = self.select("SELECT ?g WHERE { GRAPH ?g { } FILTER EXISTS { GRAPH ?g { ?s ?p ?o } } }", union=False)
        return sorted(r["g"].value for r in rows)

    def update(self, update: str) -> None:
        try:
            r = self._client.post(
                self.update_url, content=update.encode(), headers={"Content-Type": "application/sparql-update"},
                auth=self._update_auth or httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.update_url} did not answer: {e}") from e
        _checked(r, "update")

    def _load_fresh(self, graph: str, data: bytes, fmt: ox.RdfFormat) -> None:
        lines = _ntriples_lines(data) if fmt == ox.RdfFormat.N_TRIPLES else _ntriples_lines(
            ox.serialize(ox.parse(data, fmt), format=ox.RdfFormat.N_TRIPLES) or b""
        )
        self.update(graph_update(graph, [], sorted(lines), False))

    def close(self) -> None:
        self._client.close()

    async def aclose(self) -> None:
        """Close the streaming client of the running loop (the pass-through's), if there is one."""
        held, self._async = self._async, None
        if held is not None:
            await held[1].aclose()


def open_store(path: str | Path | None = None, query_url: str | None = None, update_url: str | None = None, *,
               user: str = "", password: str = "") -> Store:
    """The embedded store at ``path``, or the remote SPARQL 1.1 store at ``query_url`` when given
    (``user``/``password``: basic authentication of its updates). Virtuoso has a dialect of its own:
    :class:`sparql.virtuoso.VirtuosoStore`."""
    if query_url:
        return RemoteStore(query_url, update_url, auth=(user, password) if user else None)
    return EmbeddedStore(path)
