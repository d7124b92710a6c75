"""The hub's running state: the store, one writer at a time, the write generation and what hangs on it.

Every write (SPARQL update, Graph Store request) goes through :meth:`Hub.write`, which holds the
write lock and, once the write is committed, bumps :attr:`Hub.generation`. Everything derived from
the data — the result cache, VoID/DCAT/service descriptions, the dumps — is keyed by the generation,
so a write makes all of it stale at once.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mmap
import os
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from hub.accounts import Accounts, Sessions, load_secret
from hub.auth import TokenStore
from hub.settings import Settings
from ontology.errors import ChmError
from sparql import describe
from sparql.store import Store
from writes.commit import WriterLock

log = logging.getLogger(__name__)
T = TypeVar("T")


def _summary(result: Any) -> str:
    """A short account of what a write did, for the audit log."""
    for attrs in (("added", "removed"), ("status", "triples")):
        if all(hasattr(result, a) for a in attrs):
            return ", ".join(f"{a} {getattr(result, a)}" for a in attrs)
    return "" if result is None else str(result)[:200]


WRITE_STAMP = "https://w3id.org/chmkg/ns#writeStamp"
GENERATION_BYTES = 64  # the writer's generation file: its mark, padded (written in place, mapped by the readers)
STALE_AFTER = 0.5  # seconds: derived values that take longer to build are rebuilt in the background
STALE_WAIT = 2.0  # seconds a reader waits for that rebuild before it is served the previous value


def append_audit(path: Path, who: str, what: str, outcome: str, detail: str = "") -> None:
    """One JSON line per write (or refused write) in the audit log: who, when, what, outcome."""
    line = json.dumps({"at": datetime.now(UTC).isoformat(timespec="milliseconds"), "who": who or "-",
                       "what": what or "write", "outcome": outcome, "detail": detail, "pid": os.getpid()})
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as f:  # O_APPEND: lines from several processes do not interleave
            f.write(line + "\n")
    except OSError as e:
        log.error("audit log %s not writable: %s", path, e)


class DaemonPool:
    """Query threads that never hold the process open.

    A query past its deadline is answered at once and stops at its next batch of rows; one that
    computes everything before its first row (a huge aggregate or sort) cannot be interrupted inside
    oxigraph and runs on in its thread. Daemon threads let the process exit anyway, and the number
    of running queries (``Hub.running``) is capped, so such queries cannot pile up.
    """

    def __init__(self, workers: int) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        for i in range(workers):
            threading.Thread(target=self._work, name=f"query-{i}", daemon=True).start()

    def _work(self) -> None:
        while True:
            fn, future = self._queue.get()
            if fn is None:
                return
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:  # handed to the waiting request
                future.set_exception(e)

    def submit(self, fn: Callable[[], T]) -> Future:
        future: Future = Future()
        self._queue.put((fn, future))
        return future


class ResultCache:
    """A bounded LRU of serialised results for one generation of the data."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._data: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Any) -> Any:
        with self._lock:
            value = self._data.get(key)
            if value is None:
                self.misses += 1
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Any, value: Any) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.size:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


@dataclass
class DumpFile:
    name: str
    graph: str | None
    media_type: str
    path: Path
    size: int
    sha256: str


DUMP_KINDS = {  # extension → (pyoxigraph format, media type); whole dataset gets the quad formats
    "nq": (ox.RdfFormat.N_QUADS, "application/n-quads"),
    "trig": (ox.RdfFormat.TRIG, "application/trig"),
    "ttl": (ox.RdfFormat.TURTLE, "text/turtle"),
}


class Hub:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.tokens = TokenStore(settings.tokens_path)
        self.accounts = Accounts(settings.users_path)
        self.sessions = Sessions(self.accounts, load_secret(settings.secret_path), settings.session_max_age,
                                 secure=settings.base.startswith("https:"))
        self._stamp: str | None = None  # the store's last write stamp this process has seen
        self._synced = 0.0
        self._sync_lock = threading.Lock()
        self.sync_interval = settings.sync_interval if settings.sync_interval >= 0 else (1.0 if store.mode == "remote" else 0.0)
        self._tagger: tuple[tuple, Any] | None = None
        self._tagger_lock = threading.Lock()
        self.generation = 0
        self.cache = ResultCache(settings.cache_entries)
        self.write_lock = threading.Lock()
        self.pool = DaemonPool(settings.query_workers)
        self.running = 0  # queries queued or evaluating (including ones past their deadline, winding down)
        self._running_lock = threading.Lock()
        self._derived: dict[str, tuple[int, Any]] = {}
        self._derived_lock = threading.Lock()
        self._key_locks: dict[str, threading.Lock] = {}
        self._build_seconds: dict[str, float] = {}
        self._refreshing: dict[str, threading.Event] = {}  # key → set when its background rebuild ends
        self._followed: bytes | None = None  # a reader's last seen writer generation (None: its first request reopens, to be sure)
        self._generation_file = str(settings.generation_path)
        self._generation_view: mmap.mmap | None = None  # a reader's map of the writer's generation file
        if settings.role == "writer":
            self._publish_generation()  # before any reader starts: they map the file on their first request

    # -- writes ---------------------------------------------------------------------------
    def write(self, fn: Callable[[], T], who: str = "", what: str = "") -> T:
        """Run a write under the write lock; on success the data's generation moves on and the
        audit log gets one line (who, when, what, and what the write reported)."""
        with self.write_lock, WriterLock(self.settings.writer_lock_path):
            try:
                result = fn()
            except Exception as e:
                self.audit(who, what, "refused", getattr(e, "code", type(e).__name__))
                raise
            self.generation += 1
            self.cache.clear()
            self._mark_write()
            if self.settings.role == "writer":  # before the write is acknowledged: the readers' next look sees it
                self._publish_generation()
            self.audit(who, what, "done", _summary(result))
            return result

    # -- reader processes (chmkg serve --workers N) -------------------------------------------
    def _publish_generation(self) -> None:
        """Write this writer's mark (process, generation, time) in place, in a file of fixed length that
        the readers keep mapped: they see it as soon as the write returns, with no system call of theirs.
        A reader that catches the write half done sees a mark that is neither: it reopens once more."""
        mark = f"{os.getpid()}:{self.generation}:{time.time_ns()}".encode().ljust(GENERATION_BYTES)
        Path(self._generation_file).parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._generation_file, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            os.pwrite(fd, mark, 0)
        finally:
            os.close(fd)

    def _writer_mark(self) -> bytes:
        view = self._generation_view
        if view is not None:
            return view[:GENERATION_BYTES]
        try:
            with open(self._generation_file, "rb") as f:
                try:
                    view = self._generation_view = mmap.mmap(f.fileno(), GENERATION_BYTES, access=mmap.ACCESS_READ)
                except (OSError, ValueError):  # a file system without shared maps, or a short file: read it
                    return f.read(GENERATION_BYTES)
        except FileNotFoundError:  # not published yet (the writer publishes as it starts)
            return b""
        return view[:GENERATION_BYTES]

    def follow_writer(self) -> bool:
        """In a reader process: when the writer's generation moved, reopen the read-only view and empty
        the caches (a look at a mapped file per request, no system call; a reopen only after a write).
        True when it moved."""
        mark = self._writer_mark()
        if mark == self._followed:
            return False
        with self._sync_lock:
            if mark == self._followed:
                return False
            self.store.reopen()
            self.generation += 1
            self.cache.clear()
            self._followed = mark
        return True

    # -- several processes over one store ---------------------------------------------------
    def _mark_write(self) -> None:
        """Leave a fresh write stamp in the meta graph, for the other processes over this store."""
        if self.sync_interval <= 0:
            return
        import uuid

        meta = self.settings.meta_graph
        stamp = uuid.uuid4().hex
        try:
            self.store.update(f"DELETE WHERE {{ GRAPH <{meta}> {{ <{meta}> <{WRITE_STAMP}> ?s }} }} ;\n"
                              f"INSERT DATA {{ GRAPH <{meta}> {{ <{meta}> <{WRITE_STAMP}> \"{stamp}\" }} }}")
            self._stamp = stamp
        except Exception as e:  # noqa: BLE001 - the write itself is done; the others catch up at the next stamp
            log.warning("write stamp not recorded: %s", e)

    def sync_due(self) -> bool:
        return self.sync_interval > 0 and time.monotonic() - self._synced >= self.sync_interval

    def sync(self) -> None:
        """Move the generation on when another process wrote since the last look."""
        with self._sync_lock:
            if not self.sync_due():
                return
            self._synced = time.monotonic()
            meta = self.settings.meta_graph
            try:
                rows = self.store.select(f"SELECT ?s WHERE {{ GRAPH <{meta}> {{ <{meta}> <{WRITE_STAMP}> ?s }} }}", union=False)
            except Exception as e:  # noqa: BLE001 - a store that is away: requests will say so themselves
                log.warning("cannot read the write stamp: %s", e)
                return
            stamp = rows[0]["s"].value if rows else ""
            if stamp != self._stamp:
                self.store.forget()  # what the store keeps about the data (Virtuoso: its graph list)
                with self.write_lock:
                    if self._stamp is not None:
                        self.generation += 1
                        self.cache.clear()
                    self._stamp = stamp

    def audit(self, who: str, what: str, outcome: str, detail: str = "") -> None:
        append_audit(self.settings.audit_path, who, what, outcome, detail)

    # -- tagging --------------------------------------------------------------------------
    def warm_up(self) -> threading.Thread:
        """Load the language identifier and build the tagger (lemma tables, label patterns; loaded from the
        cache the build or an earlier run left) in a thread, if there is a vocabulary; the start-up waits for it (see the app's lifespan)."""
        def run() -> None:
            try:
                from tagging.documents import detect_language

                from shapes.validate import compiled

                detect_language("warm-up")  # the language identifier's model: 0.7 s to read the first time
                compiled()  # the shapes every write is checked against
                tagger, _ = self.tagging()
                for lang in sorted(tagger.vocab.labels, key=lambda x: (x != "en", x)):  # English first: most submissions
                    tagger.pipeline(lang)
            except Exception as e:  # noqa: BLE001 - best effort: the first submission builds it otherwise
                log.info("tagger warm-up skipped: %s", e)

        thread = threading.Thread(target=run, name="tagger-warm-up", daemon=True)
        thread.start()
        return thread

    def tagging(self):
        """(Tagger, Resolver) for the current data; the tagger is rebuilt only when a vocabulary changes."""
        from ontology.iris import Minter
        from tagging.references import Resolver
        from tagging.submission import known_iris

        stamp, graphs, model_path = tagger_state(self.store, self.settings)
        with self._tagger_lock:
            if self._tagger is None or self._tagger[0] != stamp:
                self._tagger = (stamp, make_tagger(self.store, self.settings, stamp, graphs, model_path))
            tagger = self._tagger[1]
        minter = Minter(self.settings.base)
        resolver = self.derived("resolver", lambda: Resolver(minter, known_iris(self.store)))
        return tagger, resolver

    # -- queries --------------------------------------------------------------------------
    def enter_query(self) -> bool:
        with self._running_lock:
            if self.running >= self.settings.query_workers + self.settings.query_queue:
                return False
            self.running += 1
            return True

    def leave_query(self) -> None:
        with self._running_lock:
            self.running -= 1

    # -- derived data, recomputed once per generation -------------------------------------
    def derived(self, key: str, compute: Callable[[], T], stale_ok: bool = False) -> T:
        """A value computed from the data, once per write generation (one lock per key, so a slow
        build does not hold up the others). With ``stale_ok``, a value whose last build took more
        than ``STALE_AFTER`` seconds is rebuilt by a background thread; a reader waits for it up to
        ``STALE_WAIT`` seconds and is then served the previous generation's value — a big search
        index does not stall every search after each write, and a small one is always current."""
        held = self._derived.get(key)
        if held and held[0] == self.generation:
            return held[1]
        if stale_ok and held is not None and self._build_seconds.get(key, 0.0) > STALE_AFTER:
            self._refresh(key, compute).wait(STALE_WAIT)
            fresh = self._derived.get(key)
            return fresh[1] if fresh and fresh[0] == self.generation else held[1]
        with self._derived_lock:
            lock = self._key_locks.setdefault(key, threading.Lock())
        with lock:
            held = self._derived.get(key)
            if held and held[0] == self.generation:
                return held[1]
            return self._build(key, compute)

    def _build(self, key: str, compute: Callable[[], T]) -> T:
        generation, t0 = self.generation, time.perf_counter()
        value = compute()
        self._build_seconds[key] = time.perf_counter() - t0
        self._derived[key] = (generation, value)
        return value

    def _refresh(self, key: str, compute: Callable[[], Any]) -> threading.Event:
        """Start rebuilding ``key`` in the background (once); the event is set when it ends."""
        with self._derived_lock:
            if key in self._refreshing:
                return self._refreshing[key]
            done = self._refreshing[key] = threading.Event()

        def run() -> None:
            try:
                with self._key_locks.setdefault(key, threading.Lock()):
                    self._build(key, compute)
            except Exception:  # noqa: BLE001 - the old value stays; the next request tries again
                log.exception("rebuilding %s failed", key)
            finally:
                with self._derived_lock:
                    self._refreshing.pop(key, None)
                done.set()

        threading.Thread(target=run, name=f"refresh-{key}", daemon=True).start()
        return done

    def stats(self) -> list[describe.GraphStats]:
        return self.derived("stats", lambda: describe.graph_stats(self.store, self.settings.meta_graph))

    def dumps(self) -> list[DumpFile]:
        return self.derived("dumps", self._write_dumps)

    def _write_dumps(self) -> list[DumpFile]:
        folder = self.settings.dumps_path
        folder.mkdir(parents=True, exist_ok=True)
        files: list[DumpFile] = []
        wanted: list[tuple[str, str | None, str]] = [("dataset.nq.gz", None, "nq"), ("dataset.trig.gz", None, "trig")]
        for s in self.stats():
            slug = describe.graph_slug(s.iri)
            wanted += [(f"{slug}.nq.gz", s.iri, "nq"), (f"{slug}.ttl.gz", s.iri, "ttl")]
        for name, graph, ext in wanted:
            fmt, media = DUMP_KINDS[ext]
            if graph is not None and fmt == ox.RdfFormat.N_QUADS:
                data = ox.serialize(
                    (ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(graph))
                     for t in ox.parse(self.store.dump(graph, ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES)),
                    format=fmt,
                ) or b""
            else:
                data = self.store.dump(graph, fmt)
            packed = gzip.compress(data, compresslevel=6, mtime=0)
            path = folder / name
            tmp = path.with_suffix(".part")
            tmp.write_bytes(packed)
            os.replace(tmp, path)
            files.append(DumpFile(name, graph, media, path, len(packed), hashlib.sha256(packed).hexdigest()))
        keep = {f.name for f in files}
        for old in folder.glob("*.gz"):
            if old.name not in keep:
                old.unlink()
        return files

    def dump_infos(self) -> list[describe.DumpInfo]:
        base = self.settings.base
        return [describe.DumpInfo(f"{base}dumps/{f.name}", f.media_type, f.graph, f.size, f.sha256) for f in self.dumps()]

    def close(self) -> None:
        if self._generation_view is not None:
            self._generation_view.close()
        self.store.close()


VOCABULARY_STAMPS = "SELECT ?g ?m ?meta WHERE { GRAPH ?meta { ?g <http://purl.org/dc/terms/modified> ?m } }"


def tagger_state(store: Store, settings: Settings) -> tuple[tuple, list[str], Path | None]:
    """What the tagger depends on: the vocabularies' graphs and when each last changed, and the
    trained model (``chmkg train-tagger``) if there is one."""
    from ontology.iris import Minter
    from tagging.model import current_model_path, models_dir
    from tagging.submission import tagging_graphs

    graphs = tagging_graphs(store, Minter(settings.base), settings.tag_scheme_list or None)
    rows = store.select(VOCABULARY_STAMPS, {"meta": ox.NamedNode(settings.meta_graph)}, union=False)
    stamp = tuple(sorted((r["g"].value, r["m"].value) for r in rows if r["g"].value in graphs)) + tuple(graphs)
    model_path = current_model_path(models_dir(settings.state_path))
    if model_path is not None:
        stamp += (str(model_path), model_path.stat().st_mtime_ns)
    return stamp, graphs, model_path


def make_tagger(store: Store, settings: Settings, stamp: tuple, graphs: list[str], model_path: Path | None):
    """The hub's tagger: the matcher over the vocabularies (its label patterns cached in the store's
    folder under the vocabularies' state), re-scored by the trained model when there is one."""
    from tagging.model import load_model
    from tagging.submission import load_vocabulary
    from tagging.tagger import TAGGER_VERSION, Tagger

    key = hashlib.sha256(repr((TAGGER_VERSION, stamp[:-2] if model_path else stamp)).encode()).hexdigest()[:16]
    tagger = Tagger(load_vocabulary(store, graphs), cache=settings.state_path / "cache" / "tagger", key=key)
    if model_path is not None:
        try:
            return load_model(model_path, store, tagger)
        except ChmError as e:
            log.warning("tagger model not used: %s", e)
    return tagger


def prepare_tagger(store: Store, settings: Settings) -> list[str]:
    """Build the tagger's pipelines once so a served hub loads them from the cache; the languages built."""
    stamp, graphs, model_path = tagger_state(store, settings)
    if not graphs:
        return []
    tagger = make_tagger(store, settings, stamp, graphs, model_path)
    langs = sorted(tagger.vocab.labels)
    for lang in langs:
        tagger.pipeline(lang)
    return langs
