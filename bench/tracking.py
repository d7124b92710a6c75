"""Decision-tracking bench: 10k decisions and ~200k elements (about 2M triples), served by `chmkg serve`.

Generates decisions of 50 COP meetings (200 each) with 20 operational or informational elements
apiece (every 200th decision has 60), each element with an act, an addressee among 40 actors and,
for half of them, a deadline meeting; one decision in twenty retires or supersedes an earlier one.
It loads them beside the bundled data, derives the tracking graph (timed), starts the hub and
measures, warm, over sequential requests (one client, keep-alive):
  - /tracking (the dashboard), /api/decisions filtered by meeting and status, and by actor and status,
  - a decision page with 60 elements (first views of different decisions, and repeated views),
  - /api/decisions/{symbol}/elements;
then text → structure (segmentation and classification) on a generated decision text.
Targets: /tracking and filtered /api/decisions p95 < 50 ms warm; a decision page of 60 elements
p95 < 30 ms; segmentation and classification >= 20k paragraphs/s.

    python bench/tracking.py [decisions] [elements-per-decision]
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serving import served  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
BASE = "http://bench.example.org/"
FIRST_MEETING = 17  # after the bundled meetings
ACTS = ["requests", "invites", "urges", "encourages", "decides", "welcomes", "notes", "recalls"]
N = 200


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def quads(decisions: int, per: int, seed: int = 7):
    from ontology import CHM, DCTERMS, ELI, PROV, RDF, SCHEMA, SKOS, XSD
    from ontology.iris import Minter
    from ontology.tracking import tracking_actors

    m = Minter(BASE)
    g = ox.NamedNode(BASE + "graph/bench-tracking")
    rnd = random.Random(seed)
    N_ = ox.NamedNode
    actors = [N_(m.actor(a.actor)) for a in tracking_actors().values()][:40]
    verbs = {k: N_(m.concept("operative-verb", k)) for k in ACTS}
    operational, informational = N_(m.concept("element-type", "operational")), N_(m.concept("element-type", "informational"))
    targets = [N_(m.concept("gbf-targets", f"target-{i}")) for i in range(1, 24)]
    meetings = max(1, decisions // 200)
    integer, date = N_(XSD.integer), N_(XSD.date)

    def q(s, p, o):
        return ox.Quad(s, N_(p), o, g)

    for k in range(meetings + 2):
        n = FIRST_MEETING + k
        mt = N_(m.meeting("cop", n))
        yield q(mt, RDF.type, N_(CHM.Meeting))
        yield q(mt, CHM.meetingCode, ox.Literal(f"COP-{n}"))
        yield q(mt, CHM.meetingNumber, ox.Literal(str(n), datatype=integer))
        yield q(mt, SKOS.prefLabel, ox.Literal(f"COP-{n}", language="en"))
        yield q(mt, SCHEMA.startDate, ox.Literal(f"{2010 + k}-10-01", datatype=date))
        yield q(mt, SCHEMA.endDate, ox.Literal(f"{2010 + k}-10-12", datatype=date))
        yield q(mt, PROV.wasAssociatedWith, N_(m.actor("cop")))
    made: list[ox.NamedNode] = []
    for i in range(decisions):
        meeting = FIRST_MEETING + i % meetings
        number = i // meetings + 1
        sym = f"{meeting}/{number}"
        d = N_(m.decision(sym))
        made.append(d)
        yield q(d, RDF.type, N_(CHM.Decision))
        yield q(d, RDF.type, N_(ELI.LegalResource))
        yield q(d, CHM.symbol, ox.Literal(sym))
        yield q(d, CHM.decisionNumber, ox.Literal(str(number), datatype=integer))
        yield q(d, ELI.title, ox.Literal(f"Synthetic decision {sym} on topic {i % 97}", language="en"))
        yield q(d, SKOS.prefLabel, ox.Literal(f"Decision {sym}", language="en"))
        yield q(d, PROV.wasGeneratedBy, N_(m.meeting("cop", meeting)))
        yield q(d, DCTERMS.subject, targets[i % len(targets)])
        count = 60 if i % 200 == 0 else per
        for j in range(1, count + 1):
            e = N_(m.decision_paragraph(sym, str(j)))
            yield q(e, RDF.type, N_(CHM.DecisionParagraph))
            yield q(e, ELI.is_part_of, d)
            yield q(e, ELI.number, ox.Literal(str(j)))
            yield q(e, CHM.position, ox.Literal(str(j), datatype=integer))
            verb = ACTS[rnd.randrange(len(ACTS))]
            yield q(e, CHM.elementType, informational if verb in ("welcomes", "notes", "recalls") else operational)
            a = N_(m.act(e.value, 1))
            yield q(e, CHM.hasAct, a)
            yield q(a, RDF.type, N_(CHM.Act))
            yield q(a, CHM.operativeVerb, verbs[verb])
            if verb in ("requests", "invites", "urges", "encourages"):
                who = actors[rnd.randrange(len(actors))]
                yield q(a, CHM.addressee, who)
                yield q(e, CHM.addressedTo, who)
                if rnd.random() < 0.5:
                    yield q(a, CHM.dueBy, N_(m.meeting("cop", meeting + 1 + rnd.randrange(2))))
        if i % 20 == 19 and len(made) > 400:
            target = made[rnd.randrange(len(made) - 300)]
            link = ELI.repeals if rnd.random() < 0.5 else DCTERMS.replaces
            yield q(N_(m.decision_paragraph(sym, "1")), link, target)


def load(store_path: str, decisions: int, per: int) -> tuple[int, float, float, int]:
    from hub.settings import Settings
    from hub.tracking import refresh
    from loaders.bundled import read_bundled
    from sparql.store import EmbeddedStore
    from writes.ingest import ingest

    settings = Settings(base=BASE, store_path=store_path)
    store = EmbeddedStore(store_path)
    try:
        ingest(store, read_bundled(BASE), settings.graph("bundled"), settings.meta_graph)
        t0 = time.perf_counter()
        store._store.bulk_extend(quads(decisions, per))  # the bench data as is: the reads are measured here
        loaded = time.perf_counter() - t0
        triples = store.count(BASE + "graph/bench-tracking")
        t0 = time.perf_counter()
        source, result = refresh(store, settings)
        derived = time.perf_counter() - t0
        return triples, loaded, derived, result.triples
    finally:
        store.close()


def timed(client: httpx.Client, urls: list[str], n: int = N) -> list[float]:
    out = []
    for i in range(n):
        url = urls[i % len(urls)]
        t0 = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - t0) * 1000)
        if r.status_code != 200:
            raise SystemExit(f"{url}: {r.status_code} {r.text[:200]}")
    return out


def segmentation(texts: int = 200, paragraphs: int = 100) -> tuple[float, float, int]:
    """(paragraphs/s segmenting and classifying generated decision texts, paragraphs/s classifying only,
    elements): ``texts`` decisions of ``paragraphs`` numbered paragraphs, each with lettered sub-paragraphs
    every third paragraph."""
    from tagging.structure import classify_all, segment, segment_text

    sentences = [
        "Requests the Executive Secretary, subject to the availability of resources, to prepare a report on progress for consideration by the Subsidiary Body on Implementation at its fifth meeting;",
        "Invites Parties, other Governments and relevant organizations to submit their views on the clearing-house mechanism;",
        "Urges Parties to strengthen their national clearing-house mechanisms by 2030;",
        "Decides to retire decisions II/3 and III/4;",
        "Welcomes the work programme for the clearing-house mechanism for 2024-2030 contained in document CBD/SBI/4/7;",
        "Encourages the Global Environment Facility to provide financial resources for capacity-building:",
    ]
    docs = []
    for t in range(texts):
        lines = [f"15/{t + 1}. Synthetic decision {t}", "The Conference of the Parties,", "Recalling decision X/15,",
                 "Noting with appreciation the report of the Executive Secretary,"]
        for i in range(1, paragraphs + 1):
            lines.append(f"{i}. {sentences[(i + t) % len(sentences)]}")
            if i % 3 == 0:
                lines += ["(a) To develop a knowledge network;", "(b) To report to the Conference of the Parties at its seventeenth meeting;"]
        docs.append("\n".join(lines))
    segment_text(docs[0])  # pipelines built once
    t0 = time.perf_counter()
    n = sum(len(segment_text(d)) for d in docs)
    whole = n / (time.perf_counter() - t0)
    segmented = [segment(d) for d in docs]
    t0 = time.perf_counter()
    for els in segmented:
        classify_all(els)
    classify_only = n / (time.perf_counter() - t0)
    return whole, classify_only, n


def main(decisions: int, per: int) -> None:
    rows: list[tuple[str, list[float] | None, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = f"{tmp}/store"
        triples, loaded, derived, tracking_triples = load(store, decisions, per)
        with served(store, BASE) as url:
            meetings = max(1, decisions // 200)
            with httpx.Client(base_url=url, timeout=120) as client:
                t0 = time.perf_counter()
                client.get("/api/decisions", params={"limit": 1})
                index_build = time.perf_counter() - t0
                dash = timed(client, ["/tracking"])
                by_meeting = timed(client, [f"/api/decisions?meeting=COP-{FIRST_MEETING + k}&status=active&limit=100"
                                            for k in range(meetings)])
                by_actor = timed(client, [f"/api/decisions?actor={a}&status=elapsed&limit=100"
                                          for a in ("executive-secretary", "parties", "gef", "sbstta", "unep")])
                lists = timed(client, [f"/tracking/decisions?meeting=COP-{FIRST_MEETING + k}" for k in range(meetings)])
                big = [f"/decision/cop/{FIRST_MEETING + i % meetings}/{i // meetings + 1}.html" for i in range(0, decisions, 200)]
                first = timed(client, big, n=len(big))
                repeated = timed(client, big[:1])
                elements = timed(client, [f"/api/decisions/{FIRST_MEETING + i % meetings}/{i // meetings + 1}/elements"
                                          for i in range(1, decisions, max(1, decisions // N))])
    rows += [("/tracking (dashboard)", dash, "p95 < 50"), ("/api/decisions?meeting=&status=", by_meeting, "p95 < 50"),
             ("/api/decisions?actor=&status=", by_actor, "p95 < 50"), ("/tracking/decisions?meeting= (HTML)", lists, ""),
             ("decision page, 60 elements, first view", first, "p95 < 30"), ("decision page, 60 elements, repeated", repeated, "p95 < 30"),
             ("/api/decisions/{symbol}/elements (20)", elements, "")]
    whole, classify_only, elements = segmentation()
    print(f"data: {decisions:,} decisions, ~{decisions * per:,} elements, {triples:,} triples (bulk-loaded in {loaded:.1f} s)")
    print(f"derive + validated load of the tracking graph: {derived:.1f} s ({tracking_triples:,} triples); "
          f"tracking index build on first request: {index_build * 1000:.0f} ms\n")
    print(f"{'what':42} | {'p50 ms':>7} | {'p95 ms':>7} | {'p99 ms':>7} | {'mean ms':>7} | target")
    print("-" * 90)
    for what, times, target in rows:
        print(f"{what:42} | {pct(times, 50):>7.2f} | {pct(times, 95):>7.2f} | {pct(times, 99):>7.2f} | {statistics.mean(times):>7.2f} | {target}")
    print(f"\ntext → structure ({elements:,} elements of 200 decision texts): {whole:,.0f} paragraphs/s segmented and classified; "
          f"{classify_only:,.0f} paragraphs/s classified only (target >= 20,000)")


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    main(args[0] if args else 10_000, args[1] if len(args) > 1 else 20)
