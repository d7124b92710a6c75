"""Load bench: validated `chmkg load` against raw pyoxigraph bulk_load, in one run.

For each size it generates the synthetic graph (bench/generate.py), then in separate processes
(so peak memory is per run) loads it (a) with raw `pyoxigraph.Store.bulk_load` and (b) through
`chmkg load` (parse → scoped validation with the shapes compiled to SPARQL → atomic write).
Prints triples/s, peak RSS and the ratio. Target: validated ≥ 0.5 × raw at 1M triples.

The two loads run as pairs, one right after the other, ``--repeat`` times (default 3): a busy
machine then slows both of a pair alike. The row shows the pair with the median ratio, and the
ratios of all pairs beside it.

    python bench/load.py 100000 1000000 [--repeat 3]
"""

from __future__ import annotations

import argparse
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


def main(sizes: list[int], repeat: int) -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = Path(tmp) / f"g{n}.nt"
            with data.open("w") as f:
                sys.path.insert(0, str(HERE))
                from generate import generate

                triples = generate(n, out=f)
            pairs = []
            for i in range(repeat):
                raw_s, raw_mb = run([PY, "-c", RAW, f"{tmp}/raw{n}-{i}", str(data)])
                val_s, val_mb = run([CHMKG, "--store", f"{tmp}/val{n}-{i}", "load", str(data), "--graph", "bench"])
                pairs.append((raw_s / val_s, raw_s, raw_mb, val_s, val_mb))
            ratios = sorted(p[0] for p in pairs)
            ratio, raw_s, raw_mb, val_s, val_mb = sorted(pairs)[len(pairs) // 2]
            spread = " ".join(f"{r:.2f}" for r in ratios)
            rows.append((triples, triples / raw_s, raw_mb, triples / val_s, val_mb, ratio, spread))
    print(f"{'triples':>10} | {'raw bulk_load t/s':>17} | {'raw peak MB':>11} | {'chmkg load t/s':>14} | "
          f"{'chmkg peak MB':>13} | {'ratio':>5} | all pairs")
    print("-" * 100)
    for t, rt, rm, vt, vm, ratio, spread in rows:
        print(f"{t:>10,} | {rt:>17,.0f} | {rm:>11,.0f} | {vt:>14,.0f} | {vm:>13,.0f} | {ratio:>5.2f} | {spread}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    ap.add_argument("--repeat", type=int, default=3, help="pairs of loads per size (the median pair is shown)")
    args = ap.parse_args()
    main(args.sizes, max(1, args.repeat))
