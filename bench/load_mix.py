"""Load bench: a mix of page views, searches, SPARQL lookups, lineage queries and occasional writes
on a 1M-triple store, at concurrency 8, 32 and 128 for a fixed duration each, with `wrk` on
127.0.0.1; then the fairness check: one client floods while another is served.

    python bench/load_mix.py [TRIPLES] [--seconds 10]

Mix (uniformly drawn per request): 40 % decision pages (a different decision each time), 20 %
searches, 25 % SPARQL lookups (bound subject), 15 % lineage (saved query); plus one Graph Store
write every 2 s from a separate client. Prints requests/s, p50/p99 and the count of answers by
status. Target: no answer other than 2xx, 3xx and the intended 429/503.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
BASE = "http://bench.example.org/"
LUA = r"""
local paths = {}
counts = {}
init = function(args)
  for line in io.lines(args[1]) do paths[#paths + 1] = line end
  math.randomseed(os.time() + tonumber(args[2]) + math.floor(os.clock() * 1000000))
end
request = function()
  return wrk.format("GET", paths[math.random(#paths)], {["Accept"] = "text/html,application/sparql-results+json"})
end
response = function(status, headers, body)
  counts[status] = (counts[status] or 0) + 1
end
setup = function(thread) table.insert(threads, thread) end
threads = {}
"""
LUA_STATUS = r"""
done = function(summary, latency, requests)
  io.write(string.format("p50_ms %.2f\np99_ms %.2f\n", latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for status, n in pairs(c) do io.write(string.format("status %d %d\n", status, n)) end
  end
end
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(store: str, port: int, env: dict) -> subprocess.Popen:
    proc = subprocess.Popen([str(BIN / "chmkg"), "--store", store, "--base", BASE, "serve", "--port", str(port), "--no-build-if-missing"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **env})
    deadline = time.monotonic() + 120
    while True:  # bounded wait for the server
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("the hub did not start")
        time.sleep(0.2)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def paths(url: str) -> list[str]:
    with httpx.Client(base_url=url, timeout=120) as c:
        c.get("/search", params={"q": "warm"})
        rows = c.get("/sparql", params={"query": "PREFIX chm: <https://w3id.org/chmkg/ns#> SELECT ?d WHERE { ?d a chm:Decision } LIMIT 3000"},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    decisions = [r["d"]["value"] for r in rows]
    rnd = random.Random(7)
    out = []
    words = ["decision on biodiversity", "XX/7", "national report 12", "COP-50", "forest 10", "marine 3", "capacity"]
    for _ in range(4000):
        d = rnd.choice(decisions)
        roll = rnd.random()
        if roll < 0.40:
            out.append("/" + d[len(BASE):] + ".html")
        elif roll < 0.60:
            out.append("/search?q=" + quote(rnd.choice(words) + f" {rnd.randint(1, 60)}"))
        elif roll < 0.85:
            out.append("/sparql?query=" + quote(f"SELECT ?p ?o WHERE {{ <{d}> ?p ?o }}"))
        else:
            out.append("/api/queries/lineage-up?decision=" + quote(d))
    return out


def writer(url: str, token: str, stop_at: float, results: list[int]) -> None:
    i = 0
    with httpx.Client(timeout=120) as c:
        while time.monotonic() < stop_at:
            body = f"<{BASE}bench-write/{i}> <{BASE}bench-write/p> \"{i}\" .".encode()
            r = c.put(url + "/gsp", params={"graph": f"{BASE}graph/bench-write"}, content=body,
                      headers={"Authorization": f"Bearer {token}", "Content-Type": "application/n-triples"})
            results.append(r.status_code)
            i += 1
            time.sleep(2)


def wrk(url: str, conc: int, seconds: int, script: Path, path_file: Path, headers: list[str] | None = None) -> dict:
    cmd = ["wrk", f"-t{min(conc, 2)}", f"-c{conc}", f"-d{seconds}s", "--timeout", "30s", "-s", str(script)]
    for h in headers or []:
        cmd += ["-H", h]
    out = subprocess.run([*cmd, url, "--", str(path_file), str(conc)], capture_output=True, text=True, check=True).stdout
    res = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
           "p50": float(re.search(r"p50_ms ([\d.]+)", out).group(1)), "p99": float(re.search(r"p99_ms ([\d.]+)", out).group(1)),
           "status": {}}
    for status, n in re.findall(r"status (\d+) (\d+)", out):
        res["status"][int(status)] = res["status"].get(int(status), 0) + int(n)
    return res


def main(triples: int, seconds: int) -> None:
    if not shutil.which("wrk"):
        raise SystemExit("needs `wrk` (apt-get install wrk)")
    sys.path.insert(0, str(HERE))
    from generate import generate

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.nt"
        with data.open("w") as f:
            n = generate(triples, out=f)
        store = f"{tmp}/store"
        subprocess.run([str(BIN / "chmkg"), "--store", store, "--base", BASE, "load", str(data), "--graph", "bench"], check=True, capture_output=True)
        token = subprocess.run([str(BIN / "chmkg"), "--store", store, "token", "create", "bench", "--role", "editor"],
                               check=True, capture_output=True, text=True).stdout.strip()
        script = Path(tmp) / "mix.lua"
        script.write_text(LUA + LUA_STATUS)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        print(f"store: {n:,} triples; mix: 40% decision pages, 20% searches, 25% SPARQL lookups, 15% lineage; "
              f"a Graph Store write every 2 s; {seconds} s per concurrency\n")
        print("| concurrency | req/s | p50 ms | p99 ms | answers by status | writes (status) |")
        print("|---|---|---|---|---|---|")
        proc = serve(store, port, {"CHMKG_RATE_LIMIT": "0"})
        try:
            path_file = Path(tmp) / "paths.txt"
            path_file.write_text("\n".join(paths(url)) + "\n")
            for conc in (8, 32, 128):
                writes: list[int] = []
                w = threading.Thread(target=writer, args=(url, token, time.monotonic() + seconds, writes), daemon=True)
                w.start()
                res = wrk(url, conc, seconds, script, path_file)
                w.join(timeout=130)
                statuses = ", ".join(f"{k}: {v:,}" for k, v in sorted(res["status"].items()))
                print(f"| {conc} | {res['rps']:,.0f} | {res['p50']:.1f} | {res['p99']:.1f} | {statuses} | "
                      f"{len(writes)} ({', '.join(sorted({str(s) for s in writes}))}) |")
        finally:
            stop(proc)

        # fairness: with the rate limit on, one client floods; another, polite, is still served
        proc = serve(store, port, {"CHMKG_RATE_LIMIT": "50", "CHMKG_RATE_BURST": "100"})
        try:
            flood_token = subprocess.run([str(BIN / "chmkg"), "--store", store, "token", "create", "flood", "--role", "reader"],
                                         capture_output=True, text=True).stdout.strip() or token
            polite: list[tuple[int, float]] = []

            def polite_client() -> None:
                end = time.monotonic() + seconds
                with httpx.Client(timeout=30) as c:
                    while time.monotonic() < end:
                        t0 = time.perf_counter()
                        r = c.get(url + "/sparql", params={"query": f"ASK {{ <{BASE}decision/cop/20/1> ?p ?o }}"},
                                  headers={"Authorization": f"Bearer {token}", "Accept": "application/sparql-results+json"})
                        polite.append((r.status_code, (time.perf_counter() - t0) * 1000))
                        time.sleep(0.1)

            flood_paths = Path(tmp) / "flood.txt"  # cheap requests, so the flood is faster than the limit
            flood_paths.write_text("\n".join(p for p in path_file.read_text().splitlines() if p.startswith("/sparql")) + "\n")
            t = threading.Thread(target=polite_client, daemon=True)
            t.start()
            res = wrk(url, 32, seconds, script, flood_paths, headers=[f"Authorization: Bearer {flood_token}"])
            t.join(timeout=60)
        finally:
            stop(proc)
        ok = [ms for s, ms in polite if s == 200]
        flood = ", ".join(f"{k}: {v:,}" for k, v in sorted(res["status"].items()))
        print(f"\nfairness (rate limit 50/s, burst 100 per client): a client flooding SPARQL lookups at c=32 got {flood}; "
              f"the polite client (10 req/s) got {len(ok)}/{len(polite)} answered 200, "
              f"p50 {statistics.median(ok):.1f} ms, max {max(ok):.1f} ms" if ok else "\nfairness: the polite client got nothing")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("triples", nargs="?", type=int, default=1_000_000)
    ap.add_argument("--seconds", type=int, default=10)
    a = ap.parse_args()
    main(a.triples, a.seconds)
