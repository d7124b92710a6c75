"""The hub over each remote engine: `oxigraph serve` and Virtuoso Open Source 7, on one generated store.

Generates the synthetic graph (bench/generate.py) into one named graph, loads it with each engine's
own bulk loader (`oxigraph load`; Virtuoso's `ld_dir` + `rdf_loader_run` through `isql-vt`), records
the graph in the hub's meta graph (as `chmkg load` would: Virtuoso's dialect reads the hub's graphs
from there), and measures with `wrk` at concurrency 8, for the engine's own endpoint and for the hub
over it (result cache off, the pass-through on):
  - the everyday shapes of bench/endpoint.py: a lookup, the same inside GRAPH ?g, a join with
    LIMIT 5, a lineage (transitive path from the latest citing decision);
  - a 10,000-row SELECT: p50 of sequential requests.
Needs `wrk` and Debian's virtuoso-opensource-7-bin (`scripts/engines`); docs/deploy.md quotes it.

    python bench/engines.py [TRIPLES=1000000] [--seconds 3] [--only oxigraph,virtuoso]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
from endpoint import GRAPH_LOOKUP, JOIN, LATEST_CITING, LINEAGE_TEMPLATE, LOOKUP, stop, wait, wrk  # noqa: E402
from generate import generate  # noqa: E402
from remote import BIG, pct, sequential  # noqa: E402
from serving import free_port, served  # noqa: E402

from sparql.builder import Update, fill, iri  # noqa: E402
from sparql.store import RemoteStore  # noqa: E402
from sparql.virtuoso import VirtuosoStore, virtuoso_ini  # noqa: E402

BIN = Path(sys.executable).parent
BASE = "http://bench.example.org/"
GRAPH = BASE + "graph/bench"
META = BASE + "graph/meta"
VOID_DATASET = ox.NamedNode("http://rdfs.org/ns/void#Dataset")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
LOADER = "exec=ld_dir('.', 'data.nt', NULL); rdf_loader_run(); checkpoint;"  # Virtuoso's bulk loader, through isql


def oxigraph_engine(tmp: Path, data: Path):
    exe = shutil.which("oxigraph") or str(BIN / "oxigraph")
    location = tmp / "oxigraph"
    t0 = time.perf_counter()
    subprocess.run([exe, "load", "--location", str(location), "--file", str(data), "--graph", GRAPH], check=True, capture_output=True)
    loaded = time.perf_counter() - t0
    port = free_port()
    proc = subprocess.Popen([exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait(url + "/query?query=" + quote("ASK {}"), proc, 300)
    store = RemoteStore(url + "/query", url + "/update")
    env = {"CHMKG_REMOTE_QUERY_URL": url + "/query", "CHMKG_REMOTE_UPDATE_URL": url + "/update"}
    return proc, store, env, url + "/query?union-default-graph&query=", loaded


def virtuoso_engine(tmp: Path, data: Path):
    exe, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    if not exe or not isql:
        raise SystemExit("Virtuoso is needed: bash scripts/engines (Debian's virtuoso-opensource-7-bin)")
    folder = tmp / "virtuoso"
    folder.mkdir()
    shutil.move(str(data), folder / "data.nt")
    http, sql = free_port(), free_port()
    (folder / "virtuoso.ini").write_text(virtuoso_ini(folder, http, sql, buffers=500_000))  # 4 GB of pages
    proc = subprocess.Popen([exe, "+foreground", "+configfile", str(folder / "virtuoso.ini")], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http}"
    wait(url + "/sparql?query=" + quote("ASK {}"), proc, 300)
    # the loader reads the graph from data.nt.graph beside the data, in the server's own folder ('.'):
    # the loader's command is a constant
    (folder / "data.nt.graph").write_text(GRAPH)
    t0 = time.perf_counter()
    subprocess.run([isql, "127.0.0.1:" + str(sql), "dba", "dba", LOADER], check=True, capture_output=True, timeout=7200)
    loaded = time.perf_counter() - t0
    shutil.move(str(folder / "data.nt"), data)
    store = VirtuosoStore(url + "/sparql", user="dba", password="dba", meta_graph=META)
    env = {"CHMKG_REMOTE_QUERY_URL": url + "/sparql", "CHMKG_REMOTE_ENGINE": "virtuoso",
           "CHMKG_REMOTE_USER": "dba", "CHMKG_REMOTE_PASSWORD": "dba"}
    return proc, store, env, url + "/sparql?query=", loaded


def measure(prefix: str, query: str, seconds: int) -> tuple[float, float, float, str]:
    """(req/s, p50 ms, p99 ms, how): wrk at c = 8, or for a query of more than half a second, three
    sequential requests (wrk would count it as timed out)."""
    url = prefix + quote(query)
    times = []
    with httpx.Client(timeout=600) as client:
        for _ in range(3):
            t0 = time.perf_counter()
            r = client.get(url, headers={"accept": "application/sparql-results+json"})
            if r.status_code != 200:  # the engine cannot answer it: said in the table
                print(f"{prefix}: {r.status_code} {r.text[:300]}", file=sys.stderr)
                return 0.0, float("nan"), float("nan"), f"refused {r.status_code}"
            times.append((time.perf_counter() - t0) * 1000)
            if times[0] < 500:
                break
    if times[0] < 500:
        return (*wrk(url, 8, seconds), "c=8")
    return 1000 / pct(times, 50), pct(times, 50), max(times), "c=1"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("triples", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=10, help="sequential 10,000-row requests")
    ap.add_argument("--only", default="oxigraph,virtuoso")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    rows = []
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        data = tmp / "data.nt"
        with data.open("w") as f:
            generate(args.triples, out=f)
        for engine in args.only.split(","):
            proc, store, env, direct, loaded = (oxigraph_engine if engine == "oxigraph" else virtuoso_engine)(tmp, data)
            try:
                store.update(Update().insert_data(iri(META), [(iri(GRAPH), RDF_TYPE, VOID_DATASET)]).text())
                start = store.select(LATEST_CITING)[0]["d"]
                shapes = {"lookup": LOOKUP, "graph": GRAPH_LOOKUP, "join": JOIN,
                          "lineage": str(fill(LINEAGE_TEMPLATE, start=start))}
                own = {k: measure(direct, q, args.seconds) for k, q in shapes.items()}
                with served(str(tmp / f"unused-{engine}"), BASE, wait=900, env={**env, "CHMKG_CACHE_ENTRIES": "0"}) as url:
                    hub = {k: measure(f"{url}/sparql?query=", q, args.seconds) for k, q in shapes.items()}
                    big, _ = sequential(url + "/sparql", BIG, args.requests, None)
                rows.append((engine, args.triples / loaded, own, hub, pct(big, 50)))
            finally:
                store.close()
                stop(proc)
    print(f"{args.triples:,} triples; wrk c=8 for {args.seconds} s per shape (c=1: three sequential requests of a slow one): "
          "req/s and p50 ms; hub cache off")
    print("| engine | bulk load triples/s | shape | engine req/s | engine p50 | hub req/s | hub p50 | hub/engine |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for engine, rate, own, hub, big in rows:
        for k in own:
            ratio = f"{hub[k][0] / own[k][0]:.2f}×" if own[k][0] else "–"
            print(f"| {engine} | {rate:,.0f} | {k} ({own[k][3]} / {hub[k][3]}) | {own[k][0]:,.0f} | {own[k][1]:.1f} | {hub[k][0]:,.0f} | "
                  f"{hub[k][1]:.1f} | {ratio} |")
        print(f"| {engine} | | 10,000 rows through the hub, p50 ms | | | | {big:.1f} | |")


if __name__ == "__main__":
    main()
