"""Load bench: validated `chmkg load` against raw pyoxigraph bulk_load, in one run.

For each size it generates the synthetic graph (bench/generate.py), then in separate processes
(so peak memory is per run) loads it (a) with raw `pyoxigraph.Store.bulk_load` and (b) through
`chmkg load` (parse → scoped validation with the shapes compiled to SPARQL → atomic write).
Prints triples/s, peak RSS and the ratio. Target: validated ≥ 0.5 × raw at 1M triples.

    python bench/load.py 100000 1000000
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
PY = sys.executable
CHMKG = str(Path(PY).parent / "chmkg")


def run(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()[-2000:]}")
    return seconds, usage.ru_maxrss / 1024


RAW = (
    "import sys, pyoxigraph as ox; s = ox.Store(sys.argv[1]); "
    "s.bulk_load(path=sys.argv[2], format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode('urn:bench')); s.flush()"
)


def main(sizes: list[int]) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = Path(tmp) / f"g{n}.nt"
            with data.open("w") as f:
                sys.path.insert(0, str(HERE))
                from generate import generate

                triples = generate(n, out=f)
            raw_s, raw_mb = run([PY, "-c", RAW, f"{tmp}/raw{n}", str(data)])
            val_s, val_mb = run([CHMKG, "--store", f"{tmp}/val{n}", "load", str(data), "--graph", "bench"])
            rows.append((triples, triples / raw_s, raw_mb, triples / val_s, val_mb, raw_s / val_s))
    print(f"{'triples':>10} | {'raw bulk_load t/s':>17} | {'raw peak MB':>11} | {'chmkg load t/s':>14} | {'chmkg peak MB':>13} | {'ratio':>5}")
    print("-" * 86)
    for t, rt, rm, vt, vm, ratio in rows:
        print(f"{t:>10,} | {rt:>17,.0f} | {rm:>11,.0f} | {vt:>14,.0f} | {vm:>13,.0f} | {ratio:>5.2f}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [100_000, 1_000_000])
