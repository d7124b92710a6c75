"""Matchmaking, feeds and OAI-PMH bench.

1. Ranked matches for one need against 10k offers (and 10k needs indexed on the other side), in
   process, over a synthetic thesaurus of 2,000 concepts in a 3-level hierarchy: p50/p95 per query
   (target p95 < 50 ms).
2. A served hub (`chmkg serve`) holding the bundled data and N synthetic records: an Atom feed of
   100 entries (`/records?…&format=atom` pages of 25 → `/tracking/decisions?limit=100&format=atom`)
   and an OAI-PMH ListRecords page of 100 records, following resumption tokens (targets p95 < 30 ms
   and < 100 ms).

    python bench/matchmaking.py [offers=10000] [records=20000]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
BASE = "http://bench.example.org/"
WORDS = ("marine protected area coral reef forest restoration invasive species taxonomy wetland soil pollinator "
         "biosafety access benefit sharing genetic resources indicators monitoring training finance data urban "
         "fisheries mangrove drylands traditional knowledge").split()


from serving import served  # noqa: E402


def next_token(xml: bytes) -> str:
    import xml.etree.ElementTree as ET

    el = ET.fromstring(xml).find(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
    return el.text or "" if el is not None else ""


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def row(what: str, times: list[float], target: str) -> str:
    return f"{what:46} | {pct(times, 50):>7.2f} | {pct(times, 95):>7.2f} | {pct(times, 99):>7.2f} | {statistics.mean(times):>7.2f} | {target}"


def matching(n_offers: int) -> list[str]:
    from hub.matching import ConceptGraph, Matcher, Side

    rnd = random.Random(11)
    g = ConceptGraph()
    concepts = [f"http://voc.example/c{i}" for i in range(2000)]
    for i, c in enumerate(concepts[20:], start=20):
        g.add(c, "broader", concepts[i // 10])
    regions = ["Africa", "Asia-Pacific", "Europe", "Latin America and the Caribbean", "West Asia"]

    def side(kind: str, i: int) -> Side:
        words = " ".join(rnd.choice(WORDS) for _ in range(25))
        return Side(f"{BASE}{kind}/{i}", kind, f"{kind} {i} {rnd.choice(WORDS)}", words,
                    subjects=set(rnd.sample(concepts, 3)), targets={f"{BASE}scheme/gbf-targets/target-{rnd.randint(1, 23)}"},
                    support={rnd.choice(["training", "expertise", "technology", "data", "funding-advice"])},
                    countries={rnd.choice(["fr", "sn", "br", "vn", "ke"])}, regions={rnd.choice(regions)},
                    languages={rnd.choice(["en", "fr", "es"])})
    sides = [side("need", i) for i in range(n_offers)] + [side("offer", i) for i in range(n_offers)]
    t0 = time.perf_counter()
    m = Matcher(sides, g)
    built = time.perf_counter() - t0
    times = []
    for i in range(200):
        t0 = time.perf_counter()
        found = m.matches(f"{BASE}need/{rnd.randrange(n_offers)}", k=10)
        times.append((time.perf_counter() - t0) * 1000)
        assert found
    return [f"(matcher over {n_offers:,} needs + {n_offers:,} offers built in {built:.1f} s)",
            row(f"ranked matches for one need ({n_offers:,} offers)", times, "p95 < 50")]


def feeds_and_oai(n_records: int) -> list[str]:
    from hub.settings import Settings
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ParsedSource, checksum, ingest
    import pyoxigraph as ox

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/store"
        settings = Settings(base=BASE, store_path=path)
        store = EmbeddedStore(path)
        ingest(store, read_bundled(BASE), settings.graph("bundled"), settings.meta_graph)
        lines = []
        for i in range(n_records):
            r = ox.NamedNode(f"{BASE}record/bench/{i:06d}")
            for p, o in ((ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("https://w3id.org/chmkg/ns#Record")),
                         (ox.NamedNode("http://purl.org/dc/terms/title"), ox.Literal(f"Record {i} on {WORDS[i % len(WORDS)]}", language="en")),
                         (ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"), ox.Literal(f"Record {i}", language="en")),
                         (ox.NamedNode("http://purl.org/dc/terms/language"), ox.Literal("en")),
                         (ox.NamedNode("https://w3id.org/chmkg/ns#country"), ox.Literal(["FR", "SN", "BR"][i % 3]))):
                lines.append(f"{r} {p} {o} .")
        nt = ("\n".join(lines) + "\n").encode()
        ingest(store, ParsedSource("bench-records", "bench", "generated", checksum(nt), nt, "bench records"),
               settings.graph("bench-records"), settings.meta_graph)
        store.close()
        with served(path, BASE, wait=120) as url:
            with httpx.Client(base_url=url, timeout=120) as c:
                t0 = time.perf_counter()
                first = c.get("/oai", params={"verb": "ListRecords", "metadataPrefix": "oai_dc"})
                index_build = time.perf_counter() - t0
                feed, oai = [], []
                for _ in range(100):
                    t0 = time.perf_counter()
                    r = c.get("/tracking/decisions", params={"limit": 100, "format": "atom"})
                    feed.append((time.perf_counter() - t0) * 1000)
                    assert r.status_code == 200 and r.text.count("<entry>") == 100
                token = next_token(first.content)
                for _ in range(100):
                    t0 = time.perf_counter()
                    r = c.get("/oai", params={"verb": "ListRecords", "resumptionToken": token})
                    oai.append((time.perf_counter() - t0) * 1000)
                    token = next_token(r.content)
                    if not token:  # the last page
                        break
                    assert r.text.count("<record>") == 100, r.text[:500]
    out.append(f"(OAI index over {n_records:,} records + bundled built on the first request: {index_build * 1000:.0f} ms)")
    out.append(row("Atom feed of 100 entries (tracking list)", feed, "p95 < 30"))
    out.append(row("OAI-PMH ListRecords page of 100 (resumed)", oai, "p95 < 100"))
    return out


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    lines = matching(args[0] if args else 10_000) + feeds_and_oai(args[1] if len(args) > 1 else 20_000)
    print(f"{'what':46} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | {'mean ms':>7} | target")
    print("-" * 96)
    for line in lines:
        print(line)
