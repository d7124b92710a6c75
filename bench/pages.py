"""Page bench: a decision page and a search, at 100k and 1M triples, beside the raw DESCRIBE time.

For each size it generates the synthetic graph (bench/generate.py), loads it with `chmkg load`,
serves it with `chmkg serve`, and measures:
  - latency p50/p95/p99 over sequential requests (one client, keep-alive),
  - pages/s at concurrency 8 with `wrk` (if installed),
for a decision page — first views (a different decision each request, rendered from the store) and
repeated views (the same page, served from the page cache every write empties) — and a search
(`/search?q=…`: about 170 queries asked once each, and five asked again and again), beside the raw `DESCRIBE` of a decision in pyoxigraph on the same store.
Targets at 1M triples: decision page p50 < 10 ms and p99 < 50 ms; search p95 < 20 ms; a chart page
(the dashboard) p95 < 100 ms.

    python bench/pages.py 100000 1000000
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import WORDS  # noqa: E402
BIN = Path(sys.executable).parent
BASE = "http://bench.example.org/"
DECISION = "decision/cop/50/7"
SEARCHES = ["decision on biodiversity", "XX/7", "national report 12", "COP-50", "forest 10"]
# queries asked once each (the answers to recent queries are kept per write generation: these are not)
FRESH_SEARCHES = ([f"decision on {w}" for w in WORDS] + list(WORDS) + [f"national report {i}" for i in range(100, 140)]
                  + [f"XX/{k}" for k in range(1, 30)] + [f"COP-{m}" for m in range(1, 40)] + [f"{w} {i}" for i, w in enumerate(WORDS)])
N = 300


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def timed(client: httpx.Client, urls: list[str], n: int = N) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        r = client.get(urls[i % len(urls)])
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{urls[i % len(urls)]}: {r.status_code}")
    return out


def wrk_rps(url: str) -> float | None:
    if not shutil.which("wrk"):
        return None
    out = subprocess.run(["wrk", "-t2", "-c8", "-d5s", url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url}: error responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def raw_describe(store_path: str) -> list[float]:
    import pyoxigraph as ox

    store = ox.Store(store_path)
    q = f"DESCRIBE <{BASE}{DECISION}>"
    times = []
    for _ in range(N):
        t0 = time.perf_counter()
        list(store.query(q, use_default_graph_as_union=True))
        times.append((time.perf_counter() - t0) * 1000)
    del store
    return times


def main(sizes: list[int]) -> None:
    sys.path.insert(0, str(HERE))
    from generate import generate
    from serving import served

    rows = []
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data.nt"
            with data.open("w") as f:
                triples = generate(n, out=f)
            store = f"{tmp}/store"
            subprocess.run([str(BIN / "chmkg"), "--store", store, "--base", BASE, "load", str(data), "--graph", "bench"],
                           check=True, capture_output=True)
            with served(store, BASE, wait=120) as url:
                with httpx.Client(base_url=url, timeout=60) as client:
                    t0 = time.perf_counter()
                    client.get("/search", params={"q": "warm"})  # builds the index once per write generation
                    index_build = time.perf_counter() - t0
                    page_urls = [f"/{DECISION}.html"]
                    first_urls = [f"/decision/cop/{m}/{k}.html" for k in range(1, 21) for m in range(20, 35)]
                    search_urls = [f"/search?q={quote(q)}" for q in SEARCHES]
                    first = timed(client, first_urls)
                    timed(client, page_urls[:1] * 20)
                    page = timed(client, page_urls)
                    search = timed(client, search_urls)
                    fresh = timed(client, [f"/search?q={quote(q)}" for q in FRESH_SEARCHES], len(FRESH_SEARCHES))
                    kinds = {  # first views of other kinds of page: a different resource each request
                        "meeting page": [f"/meeting/cop/{m}.html" for m in range(1, 31)],
                        "concept page (thesaurus)": [f"/concept/{i * 97}.html" for i in range(30)],
                        "party page (actor)": [f"/party/{p}.html" for p in range(30)],
                        "record page": [f"/record/{r * 31}.html" for r in range(30)],
                        "decision list (index, paged)": [f"/decisions?page={k}" for k in range(1, 31)],
                        "tracking (decisions by status)": ["/tracking", "/tracking?lang=fr", "/tracking?lang=es"] * 10,
                    }
                    kind_times = {kind: timed(client, urls, len(urls)) for kind, urls in kinds.items()}
                    dash_urls = ["/dashboard", "/dashboard?lang=fr", "/dashboard?lang=es"]
                    dash_first = timed(client, dash_urls)  # the figures and drawings, once per write generation and language
                    dash = timed(client, dash_urls * 30)
                page_rps = wrk_rps(url + page_urls[0])
                search_rps = wrk_rps(url + search_urls[0])
            describe = raw_describe(store)
            rows.append((triples, "decision page, first view (rendered)", first, None))
            rows.append((triples, "decision page, repeated (cached)", page, page_rps))
            rows.append((triples, "search, each query once (not cached)", fresh, None))
            rows.append((triples, "search, five queries repeated", search, search_rps))
            for kind, times in kind_times.items():
                rows.append((triples, kind, times, None))
            rows.append((triples, "dashboard, first view per language", dash_first, None))
            rows.append((triples, "dashboard (charts and maps), warm", dash, None))
            rows.append((triples, "raw DESCRIBE", describe, None))
            rows.append((triples, f"(search index build {index_build * 1000:.0f} ms)", None, None))
    print(f"{'triples':>10} | {'what':38} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | {'mean ms':>7} | {'pages/s c=8':>11}")
    print("-" * 101)
    for triples, what, times, rps in rows:
        if times is None:
            print(f"{triples:>10,} | {what:38} |")
            continue
        print(f"{triples:>10,} | {what:38} | {pct(times, 50):>7.2f} | {pct(times, 95):>7.2f} | {pct(times, 99):>7.2f} | "
              f"{statistics.mean(times):>7.2f} | {('%11.0f' % rps) if rps else '':>11}")
    print("\ntargets at 1M: decision page p50 < 10 ms, p99 < 50 ms; every page type p95 < 50 ms; search p95 < 20 ms; "
          "a chart page p95 < 100 ms")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
