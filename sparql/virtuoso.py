"""Virtuoso Open Source 7 as the hub's remote store: its dialect, handled at the store's edge.

What differs from a SPARQL 1.1 store such as ``oxigraph serve`` (probed on Debian's 7.2.5.1;
docs/deploy.md has the set-up):

- A query or update POSTed as an ``application/sparql-query`` body gets no answer: both go
  form-encoded.
- Writes go to ``/sparql-auth`` with HTTP digest authentication (``remote_user``/``remote_password``).
- Without a dataset in the request, its default graph is every graph it holds, its own system graphs
  (``virtrdf#`` …) included, and there is no ``union-default-graph`` parameter. So every read names
  its dataset: the hub's graphs — the meta graph, the graphs it describes (every graph the hub writes
  gets its provenance there) and the graphs this store wrote — as the default graph (the union) and
  as the named graphs, or an empty default graph when the union is off. The list is kept for
  :data:`GRAPHS_KEPT` seconds and dropped on every write through this store and whenever another
  process's write is noticed (:meth:`forget`).
- An ASK is answered as a one-row SELECT binding ``__ASK_RETVAL`` (no row: false).
- A pattern over ``GRAPH <g>`` with ``g`` outside the request's named graphs is answered as if it
  matched when it binds no variable (an ASK, a pattern of constants): every graph a query names
  joins the named graphs of its request.
- One ``INSERT DATA`` of more than about 5,000 triples ("SP030 memory exhausted"), or an update
  compiling to more than 10,000 lines of SQL ("SP031"), is refused. Added triples therefore go
  through its Graph Store endpoint (``/sparql-graph-crud-auth``, one request per graph, no size
  limit, about 50k triples/s); removed ones go in ``DELETE DATA`` operations of
  :data:`DELETE_CHUNK` triples.
- ``DROP GRAPH`` of a graph that was filled but never ``CREATE``d fails; the hub drops a graph it
  has seen exist with ``DROP SILENT GRAPH``, and ``DROP ALL``/``CLEAR ALL`` drop the hub's graphs
  one by one (never the engine's own).
- Each operation of an update commits on its own. ``atomic_updates`` is False: a commit checks the
  write stamp and applies its operations under the writer lock (writes/commit.py), and a failure
  in the middle of a commit can leave its earlier operations applied.
- Literals come back in canonical form (``"1.50"^^xsd:decimal`` as ``1.5``, booleans as ``1``);
  dumps are re-serialised by pyoxigraph so that the hub's line-by-line differences hold.
- Its JSON results use the 2007 ``typed-literal`` type, so the pass-through streams XML, CSV, TSV
  and N-Triples answers only; JSON and ASK answers take the hub's usual path.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
import time
from collections import defaultdict
from typing import Any
from urllib.parse import urljoin

import httpx
import pyoxigraph as ox

from ontology.errors import QueryError, StoreUnavailable
from sparql.builder import Update, fill, iri, term_text
from sparql.lexer import Token, analyse, tokens
from sparql.protocol import Solutions
from sparql.store import UNION, Bindings, Dataset, Outcome, RemoteStore, _checked, _with_values

#: graphs Virtuoso keeps for itself (a fresh 7.2 database holds the first three)
ENGINE_GRAPHS = ("http://www.openlinksw.com/schemas/", "http://www.w3.org/ns/ldp#", "http://localuriqaserver/",
                 "http://www.w3.org/2002/07/owl#", "urn:activitystreams-owl:map", "urn:core:services:sparql",
                 "http://localhost:8890/")
NO_GRAPH = "urn:chmkg:virtuoso:no-graph"  # names an empty default graph (or an empty set of named graphs)
DELETE_CHUNK = 1000  # triples per DELETE DATA operation (one operation of 5,000 is refused)
GRAPHS_KEPT = 1.0  # seconds the list of the hub's graphs is kept (other processes' new graphs show after it)
ASK_VARIABLE = "__ASK_RETVAL"
VOID_DATASET = "http://rdfs.org/ns/void#Dataset"
_FROM = re.compile(r"\bFROM\b", re.I)


def is_engine_graph(graph: str) -> bool:
    return graph.startswith(ENGINE_GRAPHS)


class VirtuosoStore(RemoteStore):
    """Virtuoso Open Source 7: queries at ``/sparql``, writes at ``/sparql-auth`` (digest) and its
    Graph Store endpoint beside it."""

    engine = "virtuoso"
    atomic_updates = False

    def __init__(self, query_url: str, update_url: str | None = None, timeout: float = 30.0, *,
                 user: str = "", password: str = "", meta_graph: str | None = None) -> None:
        super().__init__(query_url, update_url or urljoin(query_url, "sparql-auth"), timeout)
        self.meta_graph = meta_graph
        self._written: set[str] = set()  # graphs this store wrote (their provenance may not be there yet)
        self._auth = httpx.DigestAuth(user, password) if user else None
        self.graph_store_url = urljoin(self.update_url, "sparql-graph-crud-auth" if user else "sparql-graph-crud")
        self._graphs: tuple[float, list[str]] | None = None
        self._graphs_lock = threading.Lock()

    # -- the dataset of every read ---------------------------------------------------------
    def hub_graphs(self) -> list[str]:
        """The hub's graphs (kept :data:`GRAPHS_KEPT` seconds): with the meta graph known, it and the
        graphs it describes (every graph the hub writes gets its provenance there) and those this store
        wrote; else every graph holding triples but the engine's own (a scan of the whole store)."""
        held = self._graphs
        if held is not None and time.monotonic() - held[0] < GRAPHS_KEPT:
            return held[1]
        with self._graphs_lock:
            held = self._graphs
            if held is not None and time.monotonic() - held[0] < GRAPHS_KEPT:
                return held[1]
            if self.meta_graph:
                meta = iri(self.meta_graph, "meta graph")
                r = self._send_query(fill("SELECT DISTINCT ?g WHERE { GRAPH $meta { ?g a $dataset } }", meta=meta,
                                          dataset=ox.NamedNode(VOID_DATASET)),
                                     "application/sparql-results+json", [("default-graph-uri", NO_GRAPH), ("named-graph-uri", meta.value)])
                listed = {b["g"]["value"] for b in r.json()["results"]["bindings"]} | {meta.value} | self._written
            else:
                r = self._send_query("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "application/sparql-results+json", [])
                listed = {b["g"]["value"] for b in r.json()["results"]["bindings"]}
            graphs = sorted(g for g in listed if not is_engine_graph(g))
            self._graphs = (time.monotonic(), graphs)
            return graphs

    def forget(self) -> None:
        self._graphs = None

    def _dataset_params(self, dataset: Dataset, query: str = "") -> list[tuple[str, str]]:
        if dataset.default_graphs or dataset.named_graphs:  # the request's own dataset, as the protocol names it
            return ([("default-graph-uri", g) for g in dataset.default_graphs or (NO_GRAPH,)]
                    + [("named-graph-uri", g) for g in dataset.named_graphs or (NO_GRAPH,)])
        if not dataset.union and _FROM.search(query) and analyse(query).own_dataset:
            return []  # the query's own FROM / FROM NAMED
        graphs = self.hub_graphs()
        default = graphs if dataset.union and graphs else [NO_GRAPH]
        named = list(dict.fromkeys([*graphs, *graphs_named_in(query)])) or [NO_GRAPH]
        return [("default-graph-uri", g) for g in default] + [("named-graph-uri", g) for g in named]

    def _query_request(self, query: str, params: list[tuple[str, str]], accept: str) -> dict[str, Any]:
        form: dict[str, Any] = {"query": query}
        for key, value in params:
            form.setdefault(key, []).append(value)
        return {"data": form, "headers": {"Accept": accept}}

    # -- reading ------------------------------------------------------------------------------
    def ask(self, query: str, bindings: Bindings | None = None, *, union: bool = True) -> bool:
        r = self._post_query(_with_values(query, bindings), "application/sparql-results+json", union)
        return _boolean(r.json())

    def execute(self, query: str, dataset: Dataset = UNION, *, deadline: float | None = None, cap: int | None = None,
                base_iri: str | None = None) -> Outcome:
        outcome = super().execute(_request_dataset_wins(query, dataset), dataset, deadline=deadline, cap=cap, base_iri=base_iri)
        if isinstance(outcome, Solutions) and outcome.variables == [ASK_VARIABLE] and analyse(query).form == "ASK":
            return bool(outcome.rows) and outcome.rows[0][0] is not None and outcome.rows[0][0].value not in ("0", "false")
        return outcome

    def _answer_types(self, query: str) -> str:
        # asked for both, it answers a CONSTRUCT in its own JSON of triples
        form = analyse(query).form
        return "application/n-triples" if form in ("CONSTRUCT", "DESCRIBE") else "application/sparql-results+json"

    async def open_stream(self, query: str, dataset: Dataset, media_type: str, *, deadline: float | None = None,
                          base_iri: str | None = None) -> httpx.Response | None:
        if media_type == "application/sparql-results+json" or analyse(query).form == "ASK":
            return None  # 2007-style JSON terms and ASK-as-SELECT: the usual path re-serialises them
        return await super().open_stream(_request_dataset_wins(query, dataset), dataset, media_type, deadline=deadline,
                                         base_iri=base_iri)

    def dump(self, graph: str | None, fmt: ox.RdfFormat) -> bytes:
        if graph is None:
            return super().dump(None, fmt)
        nt = super().dump(graph, ox.RdfFormat.N_TRIPLES)
        # re-serialised: the hub compares dumps line by line with what pyoxigraph wrote
        return ox.serialize(ox.parse(nt, ox.RdfFormat.N_TRIPLES), format=fmt) or b""

    def named_graphs(self) -> list[str]:
        """The hub's graphs that hold triples (one ASK each: a DISTINCT over GRAPH ?g scans the store)."""
        self.forget()
        return [g for g in self.hub_graphs() if self.graph_exists(g)]

    # -- writing ------------------------------------------------------------------------------
    def update(self, update: str) -> None:
        try:
            for prologue, op, text in operations(update):
                self._run_operation(prologue, op, text)
        finally:
            self.forget()

    def _run_operation(self, prologue: str, op: list[Token], text: str) -> None:
        words = [t.upper for t in op[:4] if t.kind == "word"]
        if words[:2] in (["INSERT", "DATA"], ["DELETE", "DATA"]):
            quads = _data_quads(prologue, op, text)
            by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
            for q in quads:
                if isinstance(q.graph_name, ox.DefaultGraph):
                    raise QueryError("the update writes triples outside any named graph; the default graph is the union of the named graphs")
                by_graph[q.graph_name.value].append(ox.Triple(q.subject, q.predicate, q.object))
            for g, triples in by_graph.items():
                if words[0] == "INSERT":
                    self._written.add(g)
                    self._post_graph(g, ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
                else:
                    for start in range(0, len(triples), DELETE_CHUNK):
                        lines = (ox.serialize(triples[start:start + DELETE_CHUNK], format=ox.RdfFormat.N_TRIPLES) or b"").splitlines()
                        self._post_update(Update().raw_ntriples("DELETE DATA", iri(g), lines).text())
            return
        if words and words[0] in ("DROP", "CLEAR"):
            rest = [w for w in words[1:] if w != "SILENT"]
            if rest[:1] in (["ALL"], ["NAMED"]):
                graphs = self.hub_graphs()
                if graphs:
                    self._post_update(" ;\n".join(words[0] + " SILENT GRAPH " + term_text(iri(g)) for g in graphs))
                self._written.clear()
                return
            if rest[:1] == ["DEFAULT"]:
                return  # the default graph is the union view: it holds nothing of its own
            target = next((t.text[1:-1] for t in op if t.kind == "iri"), None)
            if rest[:1] == ["GRAPH"] and target is not None:
                self.forget()
                if target in self.hub_graphs():
                    self._post_update(words[0] + " SILENT GRAPH " + term_text(iri(target)))
                    self._written.discard(target)
                elif "SILENT" not in words:
                    raise QueryError("the graph " + term_text(iri(target)) + " does not exist")
                return
        self._post_update(prologue + text)

    def _post_update(self, text: str) -> None:
        try:
            r = self._client.post(self.update_url, data={"update": text}, auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.update_url} did not answer: {e}") from e
        _checked(r, "update")

    def _post_graph(self, graph: str, ntriples: bytes) -> None:
        """Add N-Triples to a graph through the Graph Store endpoint (no size limit, one request)."""
        if not ntriples.strip():
            return
        try:
            r = self._client.post(self.graph_store_url, params={"graph-uri": graph}, content=ntriples,
                                  headers={"Content-Type": "application/n-triples"}, auth=self._auth or httpx.USE_CLIENT_DEFAULT)
        except httpx.HTTPError as e:
            raise StoreUnavailable(f"the remote store at {self.graph_store_url} did not answer: {e}") from e
        _checked(r, "load")

    def _load_fresh(self, graph: str, data: bytes, fmt: ox.RdfFormat) -> None:
        self._written.add(graph)
        if fmt != ox.RdfFormat.N_TRIPLES:
            data = ox.serialize(ox.parse(data, fmt), format=ox.RdfFormat.N_TRIPLES) or b""
        try:
            self._post_graph(graph, data)
        finally:
            self.forget()


def _boolean(data: dict) -> bool:
    if "boolean" in data:
        return bool(data["boolean"])
    rows = data.get("results", {}).get("bindings", [])
    return bool(rows) and rows[0].get(ASK_VARIABLE, {}).get("value") not in (None, "0", "false")


def _request_dataset_wins(query: str, dataset: Dataset) -> str:
    """The query without its FROM and FROM NAMED clauses when the request names its dataset (the
    protocol lets the request's win; Virtuoso would use both)."""
    if not (dataset.default_graphs or dataset.named_graphs) or not _FROM.search(query):
        return query
    toks = tokens(query)
    cut: list[tuple[int, int]] = []
    for i, t in enumerate(toks):
        if t.kind == "word" and t.upper == "FROM":
            j = i + 1 + (i + 1 < len(toks) and toks[i + 1].kind == "word" and toks[i + 1].upper == "NAMED")
            if j < len(toks) and toks[j].kind in ("iri", "word"):
                cut.append((t.start, toks[j].start + len(toks[j].text)))
    for start, end in reversed(cut):
        query = query[:start] + query[end:]
    return query


def graphs_named_in(query: str) -> list[str]:
    """The IRIs written after GRAPH in ``query`` (Virtuoso answers a pattern over a graph outside the
    request's named graphs as if it matched, so those graphs join the named graphs)."""
    if "GRAPH" not in query.upper():
        return []
    toks = tokens(query)
    return [b.text[1:-1] for a, b in zip(toks, toks[1:]) if a.kind == "word" and a.upper == "GRAPH" and b.kind == "iri"]


def operations(update: str) -> list[tuple[str, list[Token], str]]:
    """The operations of an update: each with the prologue (PREFIX and BASE) in force before it, its
    tokens and its text."""
    toks = tokens(update)
    out: list[tuple[str, list[Token], str]] = []

    def close(op: list[Token]) -> None:
        if op:
            out.append(("".join(prologue), op, update[op[0].start:op[-1].start + len(op[-1].text)]))

    prologue: list[str] = []
    current: list[Token] = []
    depth = 0
    i = 0
    while i < len(toks):
        t = toks[i]
        if not current and t.kind == "word" and t.upper == "PREFIX" and i + 2 < len(toks):
            prologue.append(update[t.start:toks[i + 2].start + len(toks[i + 2].text)] + "\n")  # as written
            i += 3
            continue
        if not current and t.kind == "word" and t.upper == "BASE" and i + 1 < len(toks):
            prologue.append(update[t.start:toks[i + 1].start + len(toks[i + 1].text)] + "\n")
            i += 2
            continue
        if t.kind == "punct" and t.text == "{":
            depth += 1
        elif t.kind == "punct" and t.text == "}":
            depth -= 1
        if t.kind == "punct" and t.text == ";" and depth == 0:
            close(current)
            current = []
        else:
            current.append(t)
        i += 1
    close(current)
    return out


def _data_quads(prologue: str, op: list[Token], text: str) -> list[ox.Quad]:
    """The quads of an ``INSERT DATA``/``DELETE DATA`` block, read as TriG (its syntax is TriG's)."""
    first = next(t for t in op if t.kind == "punct" and t.text == "{")
    offset = op[0].start
    body = text[first.start + 1 - offset:op[-1].start - offset]
    try:
        return list(ox.parse((prologue + body).encode(), ox.RdfFormat.TRIG))
    except SyntaxError as e:
        raise QueryError(f"SPARQL syntax error in the update's data: {e}") from None


INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
ServerThreads = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxSortedTopRows = 100000
DirsAllowed = ., {d}

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
MaxQueryCostEstimationTime = 400
"""


def virtuoso_ini(folder: Path, http_port: int, sql_port: int, buffers: int = 20000) -> str:
    """A minimal ``virtuoso.ini`` for a database in ``folder`` served on 127.0.0.1 (the tests' and
    bench/engines.py's; docs/deploy.md names the settings the hub relies on). ``buffers``: 8 kB pages
    of cache (Virtuoso's guide: about two thirds of the memory given to it)."""
    return INI.format(d=folder, http=http_port, sql=sql_port, buffers=buffers, dirty=buffers * 3 // 4)
