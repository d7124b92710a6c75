"""Harvest bench: decisions with 20 paragraphs each from the replay server (tests/replay.py), end to end.

The replay server runs in a process of its own (a real source is another machine: its work must
not share the harvester's interpreter). Measures, on a fresh store holding the bundled dataset:
1. the first harvest of N decisions (fetch the list, each tree, map, validate each batch as a change to
   the graph, commit): decisions/s and triples/s (target ≥ 200 decisions/s, about 60k triples/s), as
   `chmkg harvest` does (alone with the store: additions through the bulk loader, undone on the next
   open if cut off; measured first, as the command runs in a fresh process) and as the served hub
   commits (one transaction per batch);
2. a second, unchanged run (conditional GETs answered 304, nothing mapped or written): how much faster
   (target ≥ 5×) and that it wrote nothing;
3. streaming M small index records (statements) through cbd-index: the RSS growth over the run
   (target < 200 MB for 100k records), the Python heap's peak (the harvester's own memory), and beside
   them the RSS growth of raw pyoxigraph writing the same triples in batches of the same size (the
   store's own memory).

    python bench/harvest.py [N=1000] [M=100000]
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import pyoxigraph as ox  # noqa: E402

from harvest.client import Politeness  # noqa: E402
from harvest.engine import Harvester  # noqa: E402
from harvest.sources import SOURCES  # noqa: E402
from harvest.state import State  # noqa: E402
from loaders.bundled import read_bundled  # noqa: E402
from replay import Replay, decision_tree  # noqa: E402
from sparql.store import EmbeddedStore  # noqa: E402
from writes.ingest import ingest  # noqa: E402

BASE = "http://127.0.0.1:8000/"
META = BASE + "graph/meta"
FAST = Politeness(rate=0, connections=2, timeout=30)


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def serve_replay(n: int, conn) -> None:
    """The replay server's process: N decisions; then, on request, M index records; ends on "stop"."""
    replay = Replay().start()
    for i in range(n):
        replay.add_decision(decision_tree(i % 16 + 1, i // 16 + 1, paragraphs=20))
    replay.freeze()  # each tree encoded once, as a real server caches: the replay shares the harvester's 2 cores
    conn.send(replay.url)
    while True:
        command, arg = conn.recv()
        if command == "index":
            replay.index = [{"id": f"st-{i:06d}", "schema_s": "statement", "title_EN_t": f"Statement {i}",
                             "updatedDate_dt": f"2024-01-01T00:00:{i % 60:02d}Z"} for i in range(arg)]
            conn.send("ok")
        else:
            replay.stop()
            conn.send("stopped")
            return


def main(n: int, m: int) -> None:
    rows: list[tuple[str, str, str]] = []
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.Process(target=serve_replay, args=(n, theirs), daemon=True)
    server.start()
    if not ours.poll(300):
        raise SystemExit("the replay server did not start")
    url = ours.recv()
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "store")
        ingest(store, read_bundled(BASE), BASE + "graph/bundled", META)
        # `chmkg harvest`: alone with the store, batches that only add go through the bulk loader
        state = State(Path(tmp) / "harvest.sqlite")
        h = Harvester(store, state, SOURCES["cbd-decisions"](BASE), url, META, politeness=FAST, bulk=True, parallel_map=True)
        me, source = psutil.Process(), psutil.Process(server.pid)
        cpu0, source0 = _cpu(me), _cpu(source)
        children: dict[int, float] = {}  # the mapping processes' CPU, read while they live
        watching = threading.Event()

        def watch() -> None:
            while not watching.wait(0.2):
                for child in me.children():
                    if child.pid != server.pid:
                        try:
                            children[child.pid] = _cpu(child)
                        except psutil.Error:
                            pass

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        t0 = time.perf_counter()
        first = h.run()
        t1 = time.perf_counter() - t0
        watching.set()
        watcher.join(5)
        cpu = {"harvester process": _cpu(me) - cpu0, "mapping processes": sum(children.values()), "replay server": _cpu(source) - source0}
        assert first.new == n and not first.refused, (first.new, first.refused[:3])
        rows.append(("first run by chmkg harvest (bulk), decisions/s", f"{n / t1:,.0f}", "≥ 200"))
        rows.append(("first run by chmkg harvest (bulk), triples/s", f"{first.triples_added / t1:,.0f}", "≈ 60k"))
        rows.append(("first run by chmkg harvest (bulk), seconds", f"{t1:.2f}", f"{n} decisions × 20 paragraphs, {first.triples_added:,} triples"))
        rows.append(("first run by chmkg harvest (bulk), CPU seconds", f"{sum(cpu.values()):.1f}",
                     ", ".join(f"{k} {v:.1f}" for k, v in cpu.items()) + f"; {sum(cpu.values()) / t1 / (os.cpu_count() or 1):.0%} of the cores"))
        # the served hub's harvest: every batch one transaction, beside the hub's readers (run after the bulk
        # one, which comes first as `chmkg harvest` does: in a process that has done nothing else yet)
        served_store = EmbeddedStore(Path(tmp) / "served")
        ingest(served_store, read_bundled(BASE), BASE + "graph/bundled", META)
        served_state = State(Path(tmp) / "served.sqlite")
        t0 = time.perf_counter()
        served_run = Harvester(served_store, served_state, SOURCES["cbd-decisions"](BASE), url, META, politeness=FAST).run()
        ts = time.perf_counter() - t0
        assert served_run.new == n and not served_run.refused
        rows.insert(0, ("first run in the served hub (transactions), decisions/s", f"{n / ts:,.0f}", f"{served_run.triples_added / ts:,.0f} triples/s"))
        served_state.close()
        served_store.close()
        # the store's own ceiling: the same triples written by raw pyoxigraph, in batches of the harvest's
        # size, into a fresh store holding the bundled dataset — transactionally (as the harvest commits)
        # and by bulk_load (not atomic: a harvest cannot use it and keep "no partial record")
        harvested = store.dump(BASE + "graph/harvest-cbd-decisions", ox.RdfFormat.N_TRIPLES).split(b"\n")
        per_batch = max(1, len(harvested) * h.batch // n)
        for how in ("update", "bulk_load"):
            raw = ox.Store(str(Path(tmp) / f"raw-{how}"))
            raw.load(read_bundled(BASE).ntriples, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(BASE + "graph/bundled"))
            t0 = time.perf_counter()
            for i in range(0, len(harvested), per_batch):
                chunk = b"\n".join(harvested[i:i + per_batch])
                if how == "update":
                    raw.update("INSERT DATA { GRAPH <urn:bench:raw> {\n" + chunk.decode() + "\n} }")
                else:
                    raw.bulk_load(chunk, ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode("urn:bench:raw"))
            tr = time.perf_counter() - t0
            rows.append((f"raw pyoxigraph {how}, same triples and batches, decisions/s", f"{n / tr:,.0f}",
                         f"{len(harvested) / tr:,.0f} triples/s; the served hub's ceiling" if how == "update" else
                         f"{len(harvested) / tr:,.0f} triples/s; chmkg harvest's ceiling"))
            if how == "update":
                rows.append(("served first run ÷ raw transactional write", f"{tr / ts:.2f}×", "1.0 = the store's own write speed"))
            else:
                rows.append(("chmkg harvest first run ÷ raw bulk_load", f"{tr / t1:.2f}×", "1.0 = the bulk loader's own speed"))
            del raw
        before = store.dump(None, ox.RdfFormat.N_QUADS)
        t0 = time.perf_counter()
        second = h.run()
        t2 = time.perf_counter() - t0
        wrote = store.dump(None, ox.RdfFormat.N_QUADS) != before
        rows.append(("second run (unchanged), seconds", f"{t2:.2f}", f"unchanged {second.unchanged}, wrote {'something' if wrote else 'nothing'}"))
        rows.append(("second run, speed-up", f"{t1 / t2:.1f}×", "≥ 5×"))

        # streaming: many small records through the index source
        ours.send(("index", m))
        ours.recv()
        hi = Harvester(store, state, SOURCES["cbd-index"](BASE), url, META, politeness=FAST, batch=1000)
        gc.collect()
        start_rss = rss_mb()
        tracemalloc.start()
        t0 = time.perf_counter()
        third = hi.run()
        t3 = time.perf_counter() - t0
        _, heap_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        growth = rss_mb() - start_rss
        rows.append((f"index, {m:,} records, records/s", f"{m / t3:,.0f}", f"new {third.new:,}"))
        rows.append(("index, RSS growth (MB)", f"{growth:,.0f}", "< 200; the process's, store included"))
        rows.append(("index, Python heap peak (MB)", f"{heap_peak / 2**20:,.0f}", "the harvester's own memory while streaming"))
        # the store's share: the same triples written by raw pyoxigraph updates of the same size into a fresh store
        lines = store.dump(BASE + "graph/harvest-cbd-index", ox.RdfFormat.N_TRIPLES).split(b"\n")
        per_batch = max(1, len(lines) * 1000 // max(m, 1))
        raw = ox.Store(str(Path(tmp) / "raw"))
        gc.collect()
        before = rss_mb()
        for i in range(0, len(lines), per_batch):
            chunk = b"\n".join(lines[i:i + per_batch]).decode()
            if chunk.strip():
                raw.update("INSERT DATA { GRAPH <urn:bench:raw> {\n" + chunk + "\n} }")
        rows.append(("raw pyoxigraph, same triples, RSS growth (MB)", f"{rss_mb() - before:,.0f}",
                     "the store's own memory (RocksDB memtables and caches) for these writes"))
        del raw
        state.close()
        store.close()
    ours.send(("stop", None))
    ours.recv()
    server.join(10)
    width = max(len(r[0]) for r in rows)
    print(f"| {'what'.ljust(width)} | value | target / note |")
    print(f"| {'-' * width} | --- | --- |")
    for what, value, note in rows:
        print(f"| {what.ljust(width)} | {value} | {note} |")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 1000, args[1] if len(args) > 1 else 100_000)
