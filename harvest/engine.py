"""One harvest run: fetch, map, compare, validate, quarantine, commit in batches, sweep, report.

A thread fetches ahead and hands records to the mapping (here, or in a process of its own for a
CLI harvest); this thread takes them in the source's order and validates and commits each batch.

Each batch of changed records is validated as a change to the source's graph
(:func:`writes.delta.validate_delta`); records whose nodes fail the shapes are quarantined with their
report and the rest of the batch is committed by one guarded update (:mod:`writes.commit`), so a
run killed at any moment leaves every record either as it was or as it is now, never half. The
bookkeeping (:mod:`harvest.state`) follows each commit, with the checkpoint a resumed run starts from.
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import json
import logging
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pyoxigraph as ox

from harvest.client import Client, HarvestHTTPError, Politeness
from harvest.sources.base import FetchContext, Item, Mapped, Source
from harvest.state import State
from ontology.triples import Nodes
from ontology import CHM, DCTERMS, PROV, RDF, VOID, XSD
from ontology.errors import ChmError
from sparql.builder import fill, iri
from sparql.store import Store
from writes import commit
from writes.delta import Pending, prepare, validate_delta

log = logging.getLogger(__name__)

BATCH_RECORDS = 200
MAX_ROUNDS = 3
# a harvest alone with the store writes the new records of several batches with one bulk load, once
# this many lines or batches are validated: RocksDB then compacts far less than after a bulk load per
# batch (76k-quad loads cost about 40 % more CPU than 250k-quad ones, compaction included)
WRITE_GROUP_LINES = 250_000
WRITE_GROUP_BATCHES = 3
_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH $g { ?s ?p ?o } }"


@dataclass
class HarvestReport:
    source: str
    run: str
    url: str
    started: str
    ended: str = ""
    status: str = "running"  # ok, partial (stopped by --limit), failed
    message: str = ""
    full: bool = False
    resumed: bool = False
    since: str | None = None
    requests: int = 0
    retries: int = 0
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    triples_added: int = 0
    triples_removed: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def wrote(self) -> bool:
        return bool(self.new or self.changed or self.removed)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class _Pending:
    __slots__ = ("item", "own", "shared", "checksum", "is_new", "nodes")

    def __init__(self, item: Item, own: list[bytes], shared: list[bytes], checksum: str, is_new: bool,
                 nodes: Nodes | None = None) -> None:
        self.item, self.own, self.shared, self.checksum, self.is_new = item, own, shared, checksum, is_new
        self.nodes = nodes  # the IRIs its triples touch (TripleSet.nodes), so validation need not scan the text


def _split(data: bytes) -> tuple[list[bytes], bytes]:
    """The lines of an N-Triples text, and the text of those lines joined by newlines (what the checksum reads)."""
    if data.endswith(b"\n") and b"\n\n" not in data:  # as TripleSet.ntriples writes it: no empty line to drop
        text = data[:-1]
        return (text.split(b"\n") if text else []), text
    lines = [line for line in data.split(b"\n") if line]
    return lines, b"\n".join(lines)


MappedRecord = tuple[bytes, bytes, Nodes]


def map_record(source: Source, item: Item) -> MappedRecord | str:
    """A record's own and shared triples as sorted N-Triples with the IRIs they touch, or why it cannot be mapped."""
    try:
        mapped: Mapped = source.map(item)
    except (ChmError, ValueError, KeyError, TypeError) as e:
        return f"cannot map the record: {e}"
    return mapped.own.ntriples(), mapped.shared.ntriples(), mapped.shared.nodes(mapped.own.nodes())


_END = object()  # the end of the fetched items
# mapping processes: two on two cores (each chunk to whichever is free; the harvest's own threads and the
# mapping then fill both cores better than with one: bench/harvest.py, about 5 % faster)
MAP_WORKERS = max(1, min(2, os.cpu_count() or 1))
RUN_GC_THRESHOLDS = (50_000, 20, 10)  # the collector's thresholds during a run alone in its process (see Harvester.run)
MAP_CHUNK = 16  # records handed to the mapping at once (see Harvester.run)
MAP_WHILE_WARMING = True  # map here until the mapping process has taken its first job (False: wait for it)
_worker_sources: dict[tuple, Source] = {}


def _worker_source(kind: type[Source], base: str, options: tuple) -> Source:
    """The mapping process's source: made once per process."""
    source = _worker_sources.get((kind, base, options))
    if source is None:
        source = _worker_sources[(kind, base, options)] = kind(base, dict(options))
    return source


def _warm_worker(kind: type[Source], base: str, options: tuple) -> None:
    """The mapping process's first job: make the source (forked: its code is already imported)."""
    _worker_source(kind, base, options)


def _map_in_worker(kind: type[Source], base: str, options: tuple, items: list[Item]) -> list[MappedRecord | str]:
    source = _worker_source(kind, base, options)
    return [map_record(source, item) for item in items]


def _worker_init(parent: int) -> None:
    """The mapping process leaves Ctrl-C to the harvest (which shuts it down) and ends when the harvest's
    process ends, however that ends (a SIGKILL included: Linux's parent-death signal)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # the harvest ended before the signal was asked for
            os._exit(1)


PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _mapping_context() -> multiprocessing.context.BaseContext:
    """Fork where it is safe enough (Linux): the worker then starts in milliseconds with the mapping code
    and spaCy already imported, where a spawned one imports them again (about a CPU second). Elsewhere, spawn."""
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


class _Mapper:
    """Maps fetched records, in this process or — for a harvest by a process that has the cores to
    itself (``parallel``) — in worker processes (:data:`MAP_WORKERS`), so that mapping the next records
    overlaps validating and committing the last batch. Results are taken in order.

    The workers are started by :meth:`start`, from the run's thread before the run starts any thread of
    its own: on Linux they are forked then (a fork copies only the forking thread, so no lock another of
    the run's threads holds can be copied held; the worker touches neither the store nor the HTTP
    client, and ends with ``os._exit``, so nothing of the store is closed or flushed by it). Until it
    has taken its first job, records go on being mapped here."""

    def __init__(self, source: Source, parallel: bool) -> None:
        self.source, self.parallel = source, parallel
        self.mapped_here = 0
        self.pool: ProcessPoolExecutor | None = None
        self.warm: Any = None
        self.spec = (type(source), source.m.base, tuple(sorted(source.options.items())))

    def start(self) -> None:
        if not self.parallel or self.pool is not None:
            return
        context = _mapping_context()
        with warnings.catch_warnings():  # Python ≥ 3.12 warns on a fork beside the store's native threads: see above
            warnings.simplefilter("ignore", DeprecationWarning)
            self.pool = ProcessPoolExecutor(max_workers=MAP_WORKERS, mp_context=context, initializer=_worker_init,
                                            initargs=(os.getpid(),))
            self.warm = self.pool.submit(_warm_worker, *self.spec)  # the process starts now, in this thread

    def submit(self, items: list[Item]) -> Any:
        """Map ``items`` (a job whose result is their mappings, in order)."""
        if self.pool is None or (MAP_WHILE_WARMING and not self.warm.done()):
            self.mapped_here += len(items)
            return _Done([map_record(self.source, item) for item in items])
        try:
            return self.pool.submit(_map_in_worker, *self.spec, items)
        except BrokenProcessPool as e:
            raise ChmError(f"the mapping process ended unexpectedly ({e}); nothing of the unfinished batch was written") from None

    @staticmethod
    def result(slot: tuple[Any, int] | None) -> MappedRecord | str | None:
        """The mapping of one item: ``slot`` is its job and its place in the job (None: not mapped)."""
        if slot is None:
            return None
        job, i = slot
        try:
            return job.result()[i]
        except BrokenProcessPool as e:
            raise ChmError(f"the mapping process ended unexpectedly ({e}); nothing of the unfinished batch was written") from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None


class _Done:
    """A mapping done in this process, shaped as a finished job."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def done(self) -> bool:
        return True

    def result(self) -> Any:
        return self.value


class _Group:
    """New records validated and not yet written (a harvest alone with the store): their lines, the
    triples the shapes read kept in memory so that the next batches are validated as if they were
    written (``stage_into`` of :func:`writes.delta.validate_delta`), and the bookkeeping that follows the write."""

    def __init__(self) -> None:
        self.lines: dict[str, None] = {}  # in order, without repeats (shared lines come with many records)
        self.keys: set[str] = set()
        self.after: list[Callable[[], None]] = []
        self.overlay = Pending()
        self.open = False
        self.batches = 0
        self.subjects: set[str] = set()  # every subject of its records' lines
        # the subjects the store had no triple about when their batch was validated, less those of the group
        # being written then (written before this one): new to the graph when this group is written
        self.new_subjects: set[str] = set()

    def __len__(self) -> int:
        return len(self.lines)


def _subject(line: bytes) -> str | None:
    return line[1:line.index(b">")].decode() if line.startswith(b"<") else None


class Harvester:
    """Harvests one source into its graph ``<base>graph/harvest-<name>``."""

    def __init__(self, store: Store, state: State, source: Source, base_url: str, meta_graph: str, *,
                 politeness: Politeness = Politeness(), write: Callable[[Callable[[], Any]], Any] | None = None,
                 lock: Callable[[], AbstractContextManager] | None = None,
                 progress: Callable[[HarvestReport], None] | None = None, batch: int = BATCH_RECORDS, bulk: bool = False,
                 parallel_map: bool = False) -> None:
        self.store, self.state, self.source = store, state, source
        self.base_url = base_url
        self.meta_graph = meta_graph
        self.graph = source.m.graph(f"harvest-{source.name}")
        self.politeness = politeness
        self.write = write or (lambda fn: fn())
        self.lock = lock or nullcontext
        self.progress = progress or (lambda report: None)
        self.batch = batch
        # batches that only add go through the embedded store's bulk loader (undone on the next open if
        # cut off): for a harvest that alone uses the store (the CLI), not one beside the hub's readers
        self.bulk = bulk
        self.parallel_map = parallel_map  # map in a process of its own (see _Mapper): for a process that has the cores
        self._group = _Group()
        self._inflight: tuple[_Group, threading.Thread, list[BaseException]] | None = None  # a group being written
        self._written: set[str] = set()  # the records this harvester wrote (their old lines are in the state)

    # -- the run -------------------------------------------------------------------------
    def run(self, *, since: datetime | None = None, full: bool = False, limit: int | None = None) -> HarvestReport:
        if not self.parallel_map:
            return self._run(since, full, limit)
        # a process that has the cores to itself (the CLI): the heap as it is when the run starts (the store's
        # code, spaCy, the bundled data …) is frozen for the run, so the collector's full sweeps leave it alone
        # (two of them cost about 0.2 s of a 1,000-decision run), and the mapping processes forked from it
        # leave it alone too (no copy-on-write of it); young collections run less often
        gc.freeze()
        thresholds = gc.get_threshold()
        gc.set_threshold(*RUN_GC_THRESHOLDS)
        try:
            return self._run(since, full, limit)
        finally:
            gc.set_threshold(*thresholds)
            gc.unfreeze()

    def _run(self, since: datetime | None, full: bool, limit: int | None) -> HarvestReport:
        name = self.source.name
        t0 = time.perf_counter()
        checkpoint = self.state.checkpoint(name)
        resumed = checkpoint is not None and checkpoint["full"] == full
        run_id = checkpoint["run"] if resumed else uuid.uuid4().hex[:12]
        started = checkpoint["started"] if resumed else now_iso()
        if since is None and not full:
            last = self.state.last_run(name)
            if last:  # a little overlap: a record updated while the last run listed is seen again
                since = datetime.fromisoformat(last["started"]) - timedelta(minutes=5)
        report = HarvestReport(name, run_id, self.base_url, started, full=full, resumed=resumed,
                               since=since.isoformat(timespec="seconds") if since else None)
        self.state.start_run(run_id, name, started)
        ctx = FetchContext(since=since, full=full, limit=limit, known=self.state.known(name),
                           cursor=checkpoint["cursor"] if resumed else None, options=self.source.options)
        client = Client(self.base_url, self.politeness, headers=self.source.headers)
        pending: list[_Pending] = []
        seen_keys: list[str] = []
        last_cursor: Any = None
        mapper = _Mapper(self.source, self.parallel_map)
        # fetching (and handing each record to the mapping) runs in a thread of its own, ahead of this
        # one by a bounded queue (of chunks of records), so that the source is read and records are mapped
        # while a batch is validated and committed here; items come out in the order the source listed them
        feed: queue.Queue = queue.Queue(maxsize=max(2, 2 * self.batch // MAP_CHUNK))
        stop = threading.Event()
        limited = threading.Event()
        ended = threading.Event()  # the source has nothing more to give

        def put(entry: Any) -> None:
            while not stop.is_set():
                try:
                    feed.put(entry, timeout=0.5)
                    return
                except queue.Full:
                    continue

        # records go to the mapping and to this thread in chunks: one hand-over to the mapping process and
        # back, and one through the feed, per chunk, not per record (each costs the harvest's threads turns of
        # the GIL); a record waits in ``waiting`` until its chunk is handed over, so the source's order is kept
        waiting: list[tuple[Item, int | None]] = []
        chunk: list[Item] = []

        def hand_over() -> None:
            if waiting:
                job = mapper.submit(list(chunk)) if chunk else None
                put([(item, None if i is None else (job, i)) for item, i in waiting])
            waiting.clear()
            chunk.clear()

        def produce() -> None:
            try:
                for item in self.source.items(client, ctx):
                    if stop.is_set():
                        return
                    report.fetched += 1
                    if self._needs_mapping(item, ctx):
                        waiting.append((item, len(chunk)))
                        chunk.append(item)
                    else:
                        waiting.append((item, None))
                    if len(waiting) >= MAP_CHUNK:
                        hand_over()
                    if limit is not None and report.fetched >= limit:
                        limited.set()
                        break
                hand_over()
                ended.set()
                put(_END)
            except BaseException as e:  # noqa: BLE001 - handed over to the run's thread, which raises it
                try:  # what was fetched before the failure is validated and written first, as it would have been record by record
                    hand_over()
                except BaseException:  # noqa: BLE001 - the failure that stopped the source is the one reported
                    pass
                put(e)

        producer = threading.Thread(target=produce, name=f"harvest-{name}-fetch", daemon=True)
        try:
            mapper.start()  # before the fetching thread: see _Mapper
            producer.start()
            prepare()  # while the first batch is fetched and mapped
            while True:
                entry = feed.get()
                if entry is _END:
                    break
                if isinstance(entry, BaseException):
                    raise entry
                for n, (item, slot) in enumerate(entry, 1):
                    last_cursor = item.cursor
                    seen_keys.append(item.key)
                    self._take(item, ctx, report, pending, mapper.result(slot))
                    if len(pending) >= self.batch:
                        self._flush(pending, report, run_id, started, full, last_cursor, seen_keys,
                                    last=ended.is_set() and n == len(entry) and feed.qsize() <= 1)  # at most the end is left
                        pending, seen_keys = [], []
                        self.progress(report)
            if limited.is_set():
                report.status = "partial"
            self._flush(pending, report, run_id, started, full, last_cursor, seen_keys, last=True)
            self._write_group()
            self._finish_write()
            if full and report.status != "partial":
                self._sweep(report, run_id)
            if report.status == "running":
                report.status = "ok"
        except (HarvestHTTPError, ChmError) as e:
            report.status = "failed"
            report.message = str(e)
            try:  # what was validated before the failure is kept, as a batch committed one by one would be
                self._write_group()
                self._finish_write()
            except ChmError as again:
                log.warning("the harvest of %s could not write its last validated records: %s", name, again)
        finally:
            self._abandon_write()
            self._group = _Group()
            stop.set()
            producer.join(timeout=1)
            report.requests, report.retries = client.requests, client.retried
            client.close()
            mapper.close()
        if report.status in ("ok", "partial"):
            self.state.clear_checkpoint(name)
            if report.wrote:
                self._provenance(report)
        report.ended = now_iso()
        report.seconds = round(time.perf_counter() - t0, 3)
        # only an "ok" run is a point later incremental runs count from (State.last_run); a partial one (--limit) is not
        self.state.end_run(run_id, report.ended, report.status, report.as_dict())
        self.progress(report)
        return report

    @staticmethod
    def _needs_mapping(item: Item, ctx: FetchContext) -> bool:
        return not item.error and not (item.unchanged and ctx.known.get(item.key))

    def _take(self, item: Item, ctx: FetchContext, report: HarvestReport, pending: list[_Pending],
              mapped: MappedRecord | str | None) -> None:
        """``mapped``: the record's own and shared N-Triples and their nodes, or why it cannot be mapped (None: not mapped)."""
        known = ctx.known.get(item.key)
        if item.error:
            report.refused.append({"key": item.key, "reason": item.error})
            return
        if item.unchanged and known:
            report.unchanged += 1
            return
        if isinstance(mapped, str) or mapped is None:
            report.refused.append({"key": item.key, "reason": mapped or "cannot map the record"})
            return
        (own, own_text), (shared, shared_text) = _split(mapped[0]), _split(mapped[1])
        digest = hashlib.sha256(own_text)
        digest.update(b"\n#\n")
        digest.update(shared_text)
        checksum = digest.hexdigest()
        if known and known.checksum == checksum:
            report.unchanged += 1
            if (item.revision, item.etag, item.modified) != (known.revision, known.etag, known.modified):
                pending.append(_Pending(item, own, shared, checksum, False))  # new validators, same triples
            return
        pending.append(_Pending(item, own, shared, checksum, known is None, mapped[2]))

    # -- a batch ---------------------------------------------------------------------------
    def _flush(self, pending: list[_Pending], report: HarvestReport, run_id: str, started: str, full: bool,
               cursor: Any, seen_keys: list[str], last: bool = False) -> None:
        """Validate and commit a batch (``last``: the source has nothing more to give)."""
        name = self.source.name
        if seen_keys:
            self.state.touch(name, seen_keys, run_id)
        group = self._group
        writing = self._inflight[0] if self._inflight else None
        if any(p.item.key in group.keys or (writing and p.item.key in writing.keys) for p in pending):
            self._write_group()  # a record listed twice: its first version is written before it is compared
            self._finish_write()
            group, writing = self._group, None
        known = {p.item.key: None if self._fresh(p) else self._known_checksum(p.item.key) for p in pending}
        changed = [p for p in pending if p.checksum != known[p.item.key]]
        same = [p for p in pending if p.checksum == known[p.item.key]]
        quarantined: list[tuple[str, str, str, str]] = []
        # a record new to the state (not known when the run started, nor written since) has no old lines to read
        olds = {p.item.key: ([], []) if self._fresh(p) else self.state.lines(name, p.item.key) or ([], []) for p in changed}
        # a batch of new records only, in a harvest alone with the store: validated now, written with the group
        grouped = self.bulk and self.store.mode == "embedded" and all(p.is_new and not olds[p.item.key][0] for p in changed)
        if not grouped:
            self._write_group()
            self._finish_write()
        elif last and group.open:
            # the source has nothing more: what is validated is written now (once the write under way is done),
            # while this last batch is validated
            self._write_group()
            group, writing = self._group, self._inflight[0] if self._inflight else None
        overlays = [g.overlay for g in (writing, group) if g is not None and g.overlay] if grouped else ()

        def delta(batch: list[_Pending]) -> tuple[list[bytes], list[bytes], dict[bytes, int], list[bytes]]:
            # the lines to add in the records' order, without repeats (a dict: a record's own lines are sorted,
            # so a subject's lines stay together for the store's look-ups; sorting the batch cost more than
            # the rest of this)
            add: dict[bytes, None] = {}
            remove: set[bytes] = set()
            shared_delta: dict[bytes, int] = {}
            for p in batch:
                old_own, old_shared = olds[p.item.key]
                if old_own:
                    before = set(old_own)
                    add.update(dict.fromkeys(line for line in p.own if line not in before))
                    remove.update(before.difference(p.own))
                else:  # a new record (most of a first run): every line is an addition
                    add.update(dict.fromkeys(p.own))
                for line in set(p.shared) - set(old_shared):
                    shared_delta[line] = shared_delta.get(line, 0) + 1
                for line in set(old_shared) - set(p.shared):
                    shared_delta[line] = shared_delta.get(line, 0) - 1
            refs = self.state.shared_refs(name, shared_delta)
            add.update(dict.fromkeys(line for line, d in shared_delta.items() if d > 0 and refs.get(line, 0) == 0))
            shared_gone = [line for line, d in shared_delta.items() if refs.get(line, 0) + d <= 0 and d < 0]
            remove.difference_update(add)
            remove.update(line for line in shared_gone if line not in add)
            return list(add), sorted(remove), shared_delta, shared_gone

        def nodes(batch: list[_Pending]) -> Nodes | None:
            """The IRIs the batch's triples touch, as the mapping found them (None: scan the lines instead)."""
            if any(p.nodes is None for p in batch):
                return None
            subjects: set[str] = set()
            objects: set[str] = set()
            classes: set[str] = set()
            for p in batch:
                subjects |= p.nodes[0]
                objects |= p.nodes[1]
                classes |= p.nodes[2]
            return subjects, objects, classes

        batch = list(changed)

        absent: set[str] = set()  # the subjects the store had no triple about, in the validation that conformed

        def plan(guarded: commit.Guarded) -> tuple[list[_Pending], tuple]:
            nonlocal quarantined
            current = list(batch)
            refused: list[tuple[str, str, str, str]] = []
            for _ in range(MAX_ROUNDS + 1):
                if not current:
                    break
                add, remove, shared_delta, gone = delta(current)
                absent.clear()
                report_ = validate_delta(self.store, self.graph, self.meta_graph, add, remove, nodes(current),
                                         pending=overlays, stage_into=group.overlay if grouped else None, absent=absent)
                if report_.conforms:
                    guarded.delete_lines(self.graph, remove)
                    guarded.insert_lines(self.graph, add, checked=True)
                    quarantined = refused
                    return current, (add, remove, shared_delta)
                failing = {v.focus for v in report_.violations}
                bad = [p for p in current if failing & self._nodes(p, olds)]
                if not bad or _ == MAX_ROUNDS:  # cannot tell whose: check the records one by one
                    bad = [p for p in current if not validate_delta(
                        self.store, self.graph, self.meta_graph, *delta([p])[:2], nodes([p]),
                        pending=overlays).conforms]
                    if not bad:
                        bad = current
                for p in bad:
                    mine = [v for v in report_.violations if v.focus in self._nodes(p, olds)] or report_.violations[:5]
                    reason = "; ".join(f"{v.focus} {v.path or ''}: {v.message}" for v in mine[:3])
                    refused.append((p.item.key, f"fails the shapes: {reason}",
                                    json.dumps([asdict(v) for v in mine], ensure_ascii=False),
                                    json.dumps(p.item.payload, ensure_ascii=False, default=str)[:100_000]))
                current = [p for p in current if p not in bad]
            quarantined = refused
            return [], ([], [], {})

        def commit_batch():
            with self.lock():
                return commit.run(self.store, self.meta_graph, plan, f"the harvest of {name}", bulk=self.bulk)

        def record(written: list[_Pending], add: list[bytes], remove: list[bytes], shared_delta: dict[bytes, int]) -> None:
            self._record(report, run_id, started, full, cursor, same, quarantined, written, add, remove, shared_delta)

        if grouped:
            # validated now against the store and the groups not yet written; written with the group, and
            # the bookkeeping (the checkpoint with it) only once that write is done
            group.open = True
            if batch:
                written, (add, remove, shared_delta) = plan(commit.Guarded(self.meta_graph, None))
                # a shared line an earlier batch adds is not added again
                add = [line for line in add if line not in group.lines and not (writing and line in writing.lines)]
                group.lines.update(dict.fromkeys(add))
                group.keys.update(p.item.key for p in written)
                for p in written:
                    group.subjects |= p.nodes[0] if p.nodes is not None else {x for x in map(_subject, [*p.own, *p.shared]) if x}
                group.new_subjects |= absent - (writing.subjects if writing else set())
                group.after.append(lambda: record(written, add, remove, shared_delta))
                group.batches += 1
            else:
                group.after.append(lambda: record([], [], [], {}))
            if len(group) >= WRITE_GROUP_LINES or group.batches >= WRITE_GROUP_BATCHES:
                self._write_group()
            return
        if batch:
            written, (add, remove, shared_delta) = self.write(commit_batch)
        else:
            written, add, remove, shared_delta = [], [], [], {}
        record(written, add, remove, shared_delta)

    def _record(self, report: HarvestReport, run_id: str, started: str, full: bool, cursor: Any, same: list[_Pending],
                quarantined: list[tuple[str, str, str, str]], written: list[_Pending], add: list[bytes], remove: list[bytes],
                shared_delta: dict[bytes, int]) -> None:
        """A batch's report counts and bookkeeping, once what it changes is in the store."""
        name = self.source.name
        for key, reason, _, _ in quarantined:
            report.refused.append({"key": key, "reason": reason})
        for p in written:
            if p.is_new:
                report.new += 1
            else:
                report.changed += 1
        report.triples_added += len(add)
        report.triples_removed += len(remove)
        upserts = [(p.item.key, p.checksum, p.item.revision, p.item.etag, p.item.modified, p.own, p.shared)
                   for p in [*written, *same]]
        released = [p.item.key for p in written]
        self._written.update(released)
        self.state.apply(name, upserts, [], shared_delta, run_id, quarantined, released,
                         (run_id, json.dumps(cursor), full, started) if cursor is not None else None)

    def _write_group(self) -> None:
        """Write the validated new records of the group with one bulk load, in a thread of its own while the
        next batches are validated; the write before it is finished first (:meth:`_finish_write`)."""
        group = self._group
        if not group.open:
            return
        self._group = _Group()
        self._finish_write()
        lines = list(group.lines)

        def plan(guarded: commit.Guarded) -> None:
            guarded.insert_lines(self.graph, lines, checked=True)
            guarded.new_subjects = frozenset(group.new_subjects)

        def write() -> None:
            try:
                with self.lock():
                    commit.run(self.store, self.meta_graph, plan, f"the harvest of {self.source.name}", bulk=True)
            except BaseException as e:  # noqa: BLE001 - raised in the run's thread by _finish_write
                errors.append(e)

        errors: list[BaseException] = []
        thread = threading.Thread(target=write, name=f"harvest-{self.source.name}-write", daemon=True)
        self._inflight = (group, thread, errors)
        if lines:
            thread.start()

    def _fresh(self, p: _Pending) -> bool:
        """Whether a record is new to the state: not known when the run started, nor written since."""
        return p.is_new and p.item.key not in self._written

    def _finish_write(self) -> None:
        """Wait for the group being written; then its bookkeeping, in the run's thread (the state's connection)."""
        if self._inflight is None:
            return
        group, thread, errors = self._inflight
        if thread.is_alive() or thread.ident is not None:
            thread.join()
        self._inflight = None
        if errors:
            raise errors[0]
        for after in group.after:
            after()

    def _abandon_write(self) -> None:
        """At the end of a run that failed: wait for a write under way (a run leaves no thread writing);
        its bookkeeping follows only if it completed."""
        try:
            self._finish_write()
        except BaseException as e:  # noqa: BLE001 - the run reports its own failure
            log.warning("the harvest of %s could not write its last validated records: %s", self.source.name, e)

    def _known_checksum(self, key: str) -> str | None:
        row = self.state.db.execute("SELECT checksum FROM record WHERE source = ? AND key = ?",
                                    (self.source.name, key)).fetchone()
        return row[0] if row else None

    @staticmethod
    def _nodes(p: _Pending, olds: dict) -> set[str]:
        old_own, _ = olds.get(p.item.key, ([], []))
        return {s for s in map(_subject, [*p.own, *old_own]) if s}

    # -- the sweep -------------------------------------------------------------------------
    def _sweep(self, report: HarvestReport, run_id: str) -> None:
        """Remove the records a full run did not see: the source no longer has them."""
        name = self.source.name
        gone = self.state.unseen(name, run_id)
        for i in range(0, len(gone), self.batch):
            keys = gone[i:i + self.batch]
            olds = {k: self.state.lines(name, k) or ([], []) for k in keys}
            remove: set[bytes] = set()
            shared_delta: dict[bytes, int] = {}
            for own, shared in olds.values():
                remove.update(own)
                for line in shared:
                    shared_delta[line] = shared_delta.get(line, 0) - 1
            refs = self.state.shared_refs(name, shared_delta)
            remove.update(line for line, d in shared_delta.items() if refs.get(line, 0) + d <= 0)
            lines = sorted(remove)

            def plan(guarded: commit.Guarded) -> None:
                check = validate_delta(self.store, self.graph, self.meta_graph, [], lines)
                if not check.conforms:
                    raise ChmError(f"removing {len(keys)} records {name} no longer has would break what points at "
                                   f"them; nothing was removed.\n{check.summary()}")
                guarded.delete_lines(self.graph, lines)

            def commit_removal():
                with self.lock():
                    return commit.run(self.store, self.meta_graph, plan, f"the sweep of {name}")

            self.write(commit_removal)
            self.state.apply(name, [], keys, shared_delta, run_id, [], keys, None)
            report.removed += len(keys)
            report.triples_removed += len(lines)

    # -- provenance ------------------------------------------------------------------------
    def _provenance(self, report: HarvestReport) -> None:
        """The graph's provenance in the meta graph: what was asked, when, the counts, a checksum."""
        name = self.source.name
        n = ox.NamedNode
        g = iri(self.graph)
        run = n(self.graph + "/run/" + report.run)
        rows = self.state.db.execute("SELECT checksum FROM record WHERE source = ? ORDER BY key", (name,))
        h = hashlib.sha256()
        for (c,) in rows:
            h.update(c.encode())
        count = self.store.select(fill(_COUNT, g=g), union=False)[0]["n"].value
        when = ox.Literal(datetime.now(timezone.utc).isoformat(timespec="seconds"), datatype=n(XSD.dateTime))
        integer = n(XSD.integer)
        terms = [
            (g, n(RDF.type), n(VOID.Dataset)),
            (g, n(DCTERMS.title), ox.Literal(f"Harvest of {self.source.title}")),
            (g, n(DCTERMS.source), ox.Literal(self.base_url)),
            (g, n(CHM.reader), ox.Literal(f"harvest:{name}")),
            (g, n(CHM.checksum), ox.Literal("sha256:" + h.hexdigest())),
            (g, n(CHM.tripleCount), ox.Literal(count, datatype=integer)),
            (g, n(PROV.generatedAtTime), when),
            (g, n(PROV.wasGeneratedBy), run),
            (run, n(RDF.type), n(PROV.Activity)),
            (run, n(PROV.startedAtTime), ox.Literal(report.started, datatype=n(XSD.dateTime))),
            (run, n(PROV.endedAtTime), when),
            (run, n(PROV.used), ox.Literal(self.base_url)),
            (run, n(DCTERMS.description), ox.Literal(
                f"fetched {report.fetched}, new {report.new}, changed {report.changed}, unchanged {report.unchanged}, "
                f"removed {report.removed}, refused {len(report.refused)}; {report.requests} requests"
                + (" (full sweep)" if report.full else "") + (f" since {report.since}" if report.since else ""))),
        ]

        def plan(guarded: commit.Guarded) -> None:
            guarded.delete_values(self.meta_graph, self.graph)
            guarded.insert_terms(self.meta_graph, terms)

        def write():
            with self.lock():
                commit.run(self.store, self.meta_graph, plan, f"the provenance of {name}")

        self.write(write)
