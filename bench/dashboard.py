"""Dashboard bench: `/dashboard` (charts and maps) on a built store, served by `chmkg serve`.

The store (default `var/store`, built by `chmkg build` with the party status of ../shared) is copied to
a temporary folder and served. Measured per language: the first view (the figures read and every chart
and map drawn by vl-convert, once per write generation and language; the first of all also starts
vl-convert's engine) and warm views (p50/p95/p99 over sequential requests), with the page's size.
Target (issue 15): a chart page p95 < 100 ms warm.

    python bench/dashboard.py [STORE=var/store] [--views 60]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serving import served  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000


def main(store: Path, views: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store, copy)
        with served(str(copy), BASE) as url, httpx.Client(base_url=url, timeout=120) as c:
            for lang in ("en", "fr", "es"):
                t = time.perf_counter()
                r = c.get("/dashboard", params={"lang": lang})
                first = time.perf_counter() - t
                assert r.status_code == 200, r.status_code
                warm = []
                for _ in range(views):
                    t = time.perf_counter()
                    c.get("/dashboard", params={"lang": lang}).raise_for_status()
                    warm.append(time.perf_counter() - t)
                rows.append((lang, first * 1000, pct(warm, 50), pct(warm, 95), pct(warm, 99), statistics.mean(warm) * 1000,
                             len(r.content) / 1024, r.text.count('class="vl-chart"')))
    print("| language | first view ms | warm p50 ms | warm p95 ms | warm p99 ms | warm mean ms | page KB | charts |")
    print("|---|---|---|---|---|---|---|---|")
    for lang, first, p50, p95, p99, mean, kb, charts in rows:
        print(f"| {lang} | {first:,.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {mean:.1f} | {kb:,.0f} | {charts} |")
    print("\ntarget: a chart page p95 < 100 ms (warm)")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", default="var/store")
    ap.add_argument("--views", type=int, default=60)
    a = ap.parse_args()
    main(Path(a.store), a.views)
