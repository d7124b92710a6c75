"""Review bench: a submission of a 20-page document and the editors' review, through the HTTP API of
a served hub, right after start-up and in steady state.

    python bench/review.py [STORE=var/store] [--pages 20] [--reviews 20]

The store (built by `chmkg build`, with the vocabularies) is copied to a temporary folder, served
with `chmkg serve`, and given an editor token. Measured: start-up to /healthz; the first submission
right after it (the tagger may still be warming up); steady-state submissions (a different 20-page
document each time, about 500 words a page); accepting one suggestion; reviewing ten in one call. The
hub is then restarted over the same folder, when its tagger loads the label patterns it cached.
Targets (issue 18): a review well under a second; a 20-page submission under a second after start-up.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from serving import BIN, served  # noqa: E402

BASE = "http://127.0.0.1:8000/"


def document(pages: int, n: int, seeds: Path) -> bytes:
    words = " ".join(p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))).split()
    body = " ".join(words[(i * 37) % len(words)] for i in range(pages * 500))
    return f"Bench document {n}\n\n{body}\n".encode()


def ms(seconds: list[float]) -> str:
    return f"{statistics.median(seconds) * 1000:,.0f}" if seconds else "–"


def run(store: str, token: str, pages: int, reviews: int, seeds: Path, label: str, first_n: int) -> list[tuple]:
    rows = []
    t0 = time.perf_counter()
    with served(store, BASE) as url:
        up = time.perf_counter() - t0
        auth = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, timeout=300, headers=auth) as c:
            t = time.perf_counter()
            r = c.post("/api/documents", files={"file": ("d.txt", document(pages, first_n, seeds), "text/plain")})
            first = time.perf_counter() - t
            assert r.status_code == 201, r.text
            steady = []
            for i in range(5):
                t = time.perf_counter()
                r = c.post("/api/documents", files={"file": ("d.txt", document(pages, first_n + 1 + i, seeds), "text/plain")})
                steady.append(time.perf_counter() - t)
                assert r.status_code == 201, r.text
            queue = c.get("/api/review").json()
            single = []
            for item in queue[:reviews]:
                t = time.perf_counter()
                r = c.post("/api/review", json={"action": "accept", "suggestion": item["suggestion"]})
                single.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
            batch = []
            rest = [q["suggestion"] for q in c.get("/api/review").json()]
            for start in range(0, min(len(rest), 30), 10):
                t = time.perf_counter()
                r = c.post("/api/review", json={"action": "reject", "suggestions": rest[start:start + 10]})
                batch.append(time.perf_counter() - t)
                assert r.status_code == 200, r.text
    rows.append((label, "start-up to /healthz", f"{up * 1000:,.0f}", ""))
    rows.append((label, f"first submission after start-up ({pages} pages)", f"{first * 1000:,.0f}", "< 1,000"))
    rows.append((label, f"submission, steady state ({pages} pages, p50 of 5)", ms(steady), "< 1,000"))
    rows.append((label, f"accept one suggestion (p50 of {len(single)})", ms(single), "well under 1,000"))
    rows.append((label, f"review ten in one call (p50 of {len(batch)})", ms(batch), ""))
    return rows


def main(store: Path, pages: int, reviews: int) -> None:
    seeds = HERE.parent.parent / "shared" / "seeds"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store, copy)
        hub_dir = store.parent / (store.name + "-hub")
        if (hub_dir / "models").is_dir():  # the trained tagger model, if any, goes with the copy
            shutil.copytree(hub_dir / "models", Path(tmp) / "store-hub" / "models")
        out = subprocess.run([str(BIN / "chmkg"), "--store", str(copy), "--base", BASE, "token", "create", "bench", "--role", "editor"],
                             capture_output=True, text=True, check=True).stdout
        token = next(w for w in out.split() if len(w) > 30)
        rows = run(str(copy), token, pages, reviews, seeds, "no tagger cache", 0)
        rows += run(str(copy), token, pages, reviews, seeds, "restart (cache)", 100)
    print("| hub | what | ms | target ms |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("store", nargs="?", default="var/store")
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--reviews", type=int, default=20)
    a = ap.parse_args()
    main(Path(a.store), a.pages, a.reviews)
