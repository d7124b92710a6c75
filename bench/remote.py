"""Remote-store bench: the hub over `oxigraph serve`, with and without the pass-through, beside the store.

Generates the synthetic graph (bench/generate.py), loads it into `oxigraph serve`, serves the hub in
remote mode twice (``remote_passthrough`` on, then off; result cache off, so every request reaches
the store) and measures, for each and for the store itself:
  - a 10,000-row SELECT (LIMIT 10000, the anonymous row cap): latency p50/p95 over sequential
    requests and the hub's RSS growth over them (the answer is streamed on, not held);
  - a 100-row SELECT: requests/s at concurrency 8 with `wrk` (Debian package `wrk`), if installed.

    python bench/remote.py [TRIPLES=200000] [--requests 40]
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
import psutil

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from endpoint import stop, wrk  # noqa: E402
from generate import generate  # noqa: E402
from serving import free_port, served  # noqa: E402

BIN = Path(sys.executable).parent
BASE = "http://bench.example.org/"
BIG = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10000"
SMALL = "SELECT ?s ?o WHERE { ?s <http://data.europa.eu/eli/ontology#title> ?o } LIMIT 100"
JSON = {"accept": "application/sparql-results+json"}


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def sequential(url: str, query: str, n: int, pid: int | None, extra: dict | None = None) -> tuple[list[float], float]:
    """Latencies (ms) of n requests, and the RSS growth (MB) of process ``pid`` over them."""
    proc = psutil.Process(pid) if pid else None
    start = proc.memory_info().rss if proc else 0
    peak = start
    times = []
    with httpx.Client(timeout=120) as client:
        for _ in range(n):
            t0 = time.perf_counter()
            r = client.get(url, params={"query": query, **(extra or {})}, headers=JSON)
            if not r.content.count(b'"s"') >= min(100, 10_000):
                raise SystemExit(f"{url}: an answer without rows")
            times.append((time.perf_counter() - t0) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"{url}: {r.status_code} {r.text[:200]}")
            if proc:
                peak = max(peak, proc.memory_info().rss)
    return times, (peak - start) / 2**20


def main(triples: int, requests: int) -> None:
    exe = shutil.which("oxigraph") or str(BIN / "oxigraph")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.nt"
        with data.open("w") as f:
            generate(triples, out=f)
        location = Path(tmp) / "oxigraph"
        # into a named graph, as the hub keeps everything: the hub asks for the union default graph
        subprocess.run([exe, "load", "--location", str(location), "--file", str(data), "--graph", BASE + "graph/bench"],
                       check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen([exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        store = f"http://127.0.0.1:{port}"
        try:
            for _ in range(300):  # bounded wait for the store
                try:
                    httpx.get(store + "/query", params={"query": "ASK {}"}, timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            direct = store + "/query?union-default-graph"
            big, _ = sequential(store + "/query", BIG, requests, None, {"union-default-graph": ""})
            rows.append(("oxigraph serve itself", big, None, wrk(f"{direct}&query={quote(SMALL)}", 8, 3)))
            for passthrough in (True, False):
                env = {"CHMKG_REMOTE_QUERY_URL": store + "/query", "CHMKG_REMOTE_UPDATE_URL": store + "/update",
                       "CHMKG_REMOTE_PASSTHROUGH": str(passthrough).lower(), "CHMKG_CACHE_ENTRIES": "0"}
                with served(str(Path(tmp) / "unused"), BASE, wait=180, env=env) as url:
                    pid = next(p.pid for p in psutil.process_iter(["cmdline"])
                               if p.info["cmdline"] and "serve" in p.info["cmdline"] and url.rsplit(":", 1)[1] in p.info["cmdline"])
                    big, growth = sequential(url + "/sparql", BIG, requests, pid)
                    rps = wrk(f"{url}/sparql?query={quote(SMALL)}", 8, 3)
                    rows.append((f"hub, pass-through {'on' if passthrough else 'off'}", big, growth, rps))
        finally:
            stop(server)
    print(f"{triples:,} triples; cache off; {requests} sequential requests for 10,000 rows; wrk c=8 on 100 rows")
    print(f"| {'what':28} | 10k rows p50 ms | p95 ms | hub RSS growth MB | 100 rows req/s c=8 |")
    print("| --- | --- | --- | --- | --- |")
    for what, times, growth, rps in rows:
        rate = rps[0] if isinstance(rps, tuple) else rps
        print(f"| {what:28} | {pct(times, 50):15.1f} | {pct(times, 95):6.1f} | {'' if growth is None else f'{growth:17.0f}'} | "
              f"{'' if rate is None else f'{rate:18,.0f}'} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("triples", nargs="?", type=int, default=200_000)
    ap.add_argument("--requests", type=int, default=40)
    args = ap.parse_args()
    main(args.triples, args.requests)
