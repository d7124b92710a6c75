"""Thesaurus bench: import time per vocabulary (read → skosify → validated load), the full quality
report over all imported schemes, the time to check one editor change per vocabulary, and the
autocomplete and hierarchy latencies of the Skosmos-compatible API, in one run.

    python bench/vocabularies.py [SHARED_DATA]

Targets: the full quality report in under 5 s for all schemes; autocomplete p95 under 20 ms.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(shared: Path) -> None:
    from writes.ingest import ingest
    from sparql.store import EmbeddedStore
    from thesaurus.importers import READERS, read_vocabulary
    from thesaurus.quality import check_stored

    base = "http://127.0.0.1:8000/"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedStore(Path(tmp) / "store")
        graphs = []
        for name in READERS:
            t0 = time.perf_counter()
            source, report = read_vocabulary(name, shared)
            t1 = time.perf_counter()
            g = f"{base}graph/thesaurus-{name}"
            ingest(store, source, g, base + "graph/meta")
            t2 = time.perf_counter()
            graphs.append(g)
            rows.append((name, report.concepts, report.triples, t1 - t0, t2 - t1))
        t0 = time.perf_counter()
        checks = [check_stored(store, g) for g in graphs]
        total = time.perf_counter() - t0
        edits = editor_checks(store, base)
        store.close()
        latencies = autocomplete(Path(tmp) / "store")
    print(f"{'vocabulary':10} | {'concepts':>8} | {'triples':>8} | {'read+skosify s':>14} | {'validated load s':>16}")
    print("-" * 68)
    for name, c, t, read, load in rows:
        print(f"{name:10} | {c:>8,} | {t:>8,} | {read:>14.2f} | {load:>16.2f}")
    print()
    for r in checks:
        print(f"quality report {r.graph.rsplit('/', 1)[-1]:22} {r.concepts:>6,} concepts  {r.seconds:>6.2f} s")
    print(f"quality report, all schemes: {total:.2f} s (target < 5 s)")
    for name, seconds in edits:
        print(f"editor change checked (shapes + quality) on {name:9} {seconds * 1000:8.0f} ms")
    for what, times in latencies.items():
        times.sort()
        print(f"{what:44} p50 {times[len(times) // 2]:6.2f} ms  p95 {times[int(len(times) * 0.95)]:6.2f} ms  p99 {times[int(len(times) * 0.99)]:6.2f} ms")


def editor_checks(store, base: str) -> list[tuple[str, float]]:
    """Time to check one editor change (an altLabel) before it becomes a draft, per vocabulary."""
    from thesaurus import editing as ed
    from thesaurus.importers import READERS

    out = []
    for name in READERS:
        g = f"{base}graph/thesaurus-{name}"
        concept = store.select(f"SELECT ?c WHERE {{ GRAPH <{g}> {{ ?c a <http://www.w3.org/2004/02/skos/core#Concept> }} }} LIMIT 1",
                               union=False)[0]["c"].value
        t0 = time.perf_counter()
        ed.propose(store, ed.ConceptEdit(concept, 0, alt={"en": ["bench alternative label"]}), "bench", base,
                   base + "graph/" + ed.HISTORY, base + "graph/thesaurus-")
        out.append((name, time.perf_counter() - t0))
    return out


def autocomplete(store_path: Path) -> dict[str, list[float]]:
    """Autocomplete (prefix search) and hierarchy (children) through the Skosmos API, in process."""
    import warnings

    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

    from hub.web.app import create_app
    from hub.settings import Settings

    app = create_app(Settings(store_path=str(store_path)))
    out: dict[str, list[float]] = {"autocomplete /rest/v1/search?query=<prefix>*": [], "hierarchy /rest/v1/gemet/children": []}
    prefixes = ["wat", "for", "bio", "pol", "cli", "soi", "agr", "fis", "air", "pro", "eau", "forêt"]
    with TestClient(app) as client:
        client.get("/rest/v1/search", params={"query": "warm*"})  # builds the label index once
        for i in range(300):
            t0 = time.perf_counter()
            client.get("/rest/v1/search", params={"query": prefixes[i % len(prefixes)] + "*", "maxhits": 10})
            out["autocomplete /rest/v1/search?query=<prefix>*"].append((time.perf_counter() - t0) * 1000)
        for i in range(100):
            t0 = time.perf_counter()
            client.get("/rest/v1/gemet/children", params={"uri": f"http://www.eionet.europa.eu/gemet/concept/{[100, 2212, 4124, 625, 2663][i % 5]}"})
            out["hierarchy /rest/v1/gemet/children"].append((time.perf_counter() - t0) * 1000)
    return out


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parent.parent / "shared" / "data")
