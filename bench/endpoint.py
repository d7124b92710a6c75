"""SPARQL service bench: the hub against `oxigraph serve` on the same generated store, in one run.

For everyday query shapes — a resource lookup, the same inside ``GRAPH ?g``, a two-pattern join
with LIMIT 5, and a lineage query (transitive path + kinds of link) — it measures requests/s and
p50/p99 latency at concurrency 1, 8 and 32 with `wrk` (Debian package `wrk`), against:
  - `oxigraph serve` (the reference),
  - the hub with its result cache off (every request evaluated: "uncached"),
  - the hub with its cache on, the same query repeated ("cached"),
each hub with one process (``--workers 1``) and with reader processes (``chmkg serve --workers N``),
and prints the hub/oxigraph ratios. Targets (issue 16): uncached ≥ 0.5×, cached ≥ 1.0× at every
concurrency, for every shape.

    python bench/endpoint.py 1000000 --seconds 5 [--workers 1,2] [--only lookup,graph]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from sparql.builder import fill  # noqa: E402

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
B = "http://bench.example.org/"
DECISION = ox.NamedNode(B + "decision/cop/50/7")
LOOKUP = str(fill("SELECT ?p ?o WHERE { $d ?p ?o }", d=DECISION))
LINEAGE_TEMPLATE = (
    "PREFIX eli: <http://data.europa.eu/eli/ontology#> PREFIX dcterms: <http://purl.org/dc/terms/> "
    "SELECT DISTINCT ?source ?kind ?target WHERE { "
    "{ SELECT DISTINCT ?source WHERE { $start (eli:cites|eli:amends|dcterms:replaces|eli:repeals)* ?source } } "
    'VALUES (?link ?kind) { (eli:cites "recalls") (eli:amends "amends") (dcterms:replaces "supersedes") (eli:repeals "retires") } '
    "?source ?link ?target } ORDER BY ?source ?target"
)
LINEAGE = str(fill(LINEAGE_TEMPLATE, start=ox.NamedNode(B + "decision/cop/3/2")))
# the latest decision that recalls another: the longest lineage the generated graph has, at any size
LATEST_CITING = ("SELECT ?d WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?x ; "
                 "<http://www.w3.org/ns/prov#wasGeneratedBy> ?m ; <https://w3id.org/chmkg/ns#decisionNumber> ?n . "
                 "?m <https://w3id.org/chmkg/ns#meetingNumber> ?mn } ORDER BY DESC(?mn) DESC(?n) LIMIT 1")


def lineage_query(store_path: str) -> str:
    """The lineage shape from the generated graph's latest citing decision (the store is not served yet)."""
    store = ox.Store(store_path)
    try:
        start = next(iter(store.query(LATEST_CITING, use_default_graph_as_union=True)))["d"]
    finally:
        del store
    return str(fill(LINEAGE_TEMPLATE, start=start))

GRAPH_LOOKUP = str(fill("SELECT ?g ?p ?o WHERE { GRAPH ?g { $d ?p ?o } }", d=DECISION))
JOIN = ("SELECT ?d ?title WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?e . "
        "?e <http://data.europa.eu/eli/ontology#title> ?title } LIMIT 5")
SHAPES = {"lookup": LOOKUP, "graph": GRAPH_LOOKUP, "join": JOIN, "lineage": LINEAGE}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait(url: str, proc: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while True:  # bounded wait for the server
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit(f"server at {url} did not start")
        time.sleep(0.2)


def settle(proc: subprocess.Popen, seconds: float = 300) -> None:
    """Wait (bounded) until the server's processes are idle: every reader past its start-up work."""
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:  # bounded
        procs = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
        for q in procs:
            q.cpu_percent(None)
        time.sleep(1.0)
        busy = 0.0
        for q in procs:
            try:
                busy += q.cpu_percent(None)
            except psutil.NoSuchProcess:
                pass
        if busy < 10:
            return


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def wrk(url: str, concurrency: int, seconds: int) -> tuple[float, float, float]:
    out = subprocess.run(
        ["wrk", f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{seconds}s", "--latency",
         "-H", "Accept: application/sparql-results+json", url],
        capture_output=True, text=True, check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} error responses\n{out}")

    def pct(p: str) -> float:
        value, unit = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    return rps, pct("50"), pct("99")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("triples", type=int, nargs="?", default=1_000_000)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--workers", default=f"1,{os.cpu_count() or 1}", help="comma-separated hub process counts")
    ap.add_argument("--only", default="", help="comma-separated shapes (lookup, graph, join, lineage)")
    args = ap.parse_args()
    queries = [(k, v) for k, v in SHAPES.items() if not args.only or k in args.only.split(",")]
    counts = sorted({max(1, int(w)) for w in args.workers.split(",")})
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install wrk")
    sys.path.insert(0, str(HERE))
    from generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.nt"
        with data.open("w") as f:
            n = generate(args.triples, out=f)
        subprocess.run([str(BIN / "oxigraph"), "load", "--location", f"{tmp}/ox", "--file", str(data), "--graph", "urn:bench"],
                       check=True, capture_output=True)
        subprocess.run([str(BIN / "chmkg"), "--store", f"{tmp}/hub/store", "load", str(data), "--graph", "bench"],
                       check=True, capture_output=True)
        queries = [(k, lineage_query(f"{tmp}/ox") if k == "lineage" else v) for k, v in queries]
        results: dict[tuple[str, str, int], tuple[float, float, float]] = {}
        targets: list[tuple[str, dict | None, int]] = [("oxigraph", None, 0)]
        for w in counts:
            targets += [(f"hub uncached ×{w}", {"CHMKG_CACHE_ENTRIES": "0"}, w), (f"hub cached ×{w}", {"CHMKG_CACHE_ENTRIES": "4096"}, w)]
        for name, env, w in targets:
            port = free_port()
            if env is None:
                proc = subprocess.Popen([str(BIN / "oxigraph"), "serve", "--location", f"{tmp}/ox", "--bind", f"127.0.0.1:{port}"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                endpoint = f"http://127.0.0.1:{port}/query?union-default-graph&query="
            else:
                proc = subprocess.Popen([str(BIN / "chmkg"), "--store", f"{tmp}/hub/store", "serve", "--port", str(port),
                                         "--no-build-if-missing", "--workers", str(w)], env={**os.environ, "CHMKG_RATE_LIMIT": "0", **env},
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                endpoint = f"http://127.0.0.1:{port}/sparql?query="
            try:
                wait(endpoint + quote("ASK {}"), proc)
                settle(proc)
                for qname, q in queries:
                    url = endpoint + quote(q)
                    check = httpx.get(url, headers={"accept": "application/sparql-results+json"}, timeout=60)
                    rows = len(check.json()["results"]["bindings"])
                    assert rows > 0, f"{name} {qname}: no rows"
                    wrk(url, 8, 2)  # warm-up, not counted: every process past its start-up work, caches filled
                    for c in (1, 8, 32):
                        results[(name, qname, c)] = wrk(url, c, args.seconds)
            finally:
                stop(proc)
    print(f"SPARQL bench on {n:,} triples, {args.seconds} s per cell (wrk, 127.0.0.1, this machine: {os.cpu_count()} cores)\n")
    print(f"{'query':8} | {'conc':>4} | {'target':16} | {'req/s':>8} | {'p50 ms':>7} | {'p99 ms':>7} | {'× oxigraph':>10}")
    print("-" * 79)
    for qname, _ in queries:
        for c in (1, 8, 32):
            ref = results[("oxigraph", qname, c)][0]
            for name, _, _ in targets:
                rps, p50, p99 = results[(name, qname, c)]
                print(f"{qname:8} | {c:>4} | {name:16} | {rps:>8,.0f} | {p50:>7.2f} | {p99:>7.2f} | {rps / ref:>10.2f}")
    print("\ntargets: hub uncached ≥ 0.5 × oxigraph; hub cached ≥ 1.0 × oxigraph (every shape, every concurrency)")


if __name__ == "__main__":
    main()
