"""Every figure of the speed issue's table (issue 16) in one run: the SPARQL endpoint beside
`oxigraph serve` (lookup, `GRAPH ?g` lookup, join and lineage, uncached and cached, one process and
reader processes), page views (decision page, search, the other page kinds, the dashboard), tagging
end to end, and the validated load beside pyoxigraph's bulk load.

    python bench/all.py            # the table's sizes: 1M triples (about 25 minutes on 2 cores)
    python bench/all.py --quick    # 100k triples, shorter cells (about 5 minutes): for the README

Each part is its own script in bench/ (run alone for more options); this one runs them one after
the other, so that no two compete for the cores, and prints their tables in order.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def parts(quick: bool) -> list[tuple[str, list[str]]]:
    triples = "100000" if quick else "1000000"
    return [
        ("SPARQL endpoint (bench/endpoint.py)", ["endpoint.py", triples, "--seconds", "2" if quick else "5", "--workers", "1,2"]),
        ("pages (bench/pages.py)", ["pages.py", triples]),
        ("tagging (bench/tagging.py)", ["tagging.py", "--mb", "0.5" if quick else "2"]),
        ("validated load (bench/load.py)", ["load.py", triples]),
    ]


def main(quick: bool) -> int:
    failed = 0
    for title, args in parts(quick):
        print(f"\n## {title}\n", flush=True)
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, str(HERE / args[0]), *args[1:]], text=True, capture_output=True)
        print(r.stdout.rstrip())
        if r.returncode:
            failed += 1
            print(f"(exit {r.returncode}) {r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ''}")
        print(f"\n({time.perf_counter() - t0:,.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="100k triples and shorter cells")
    sys.exit(main(ap.parse_args().quick))
