"""Deterministic generator of a CBD-shaped synthetic graph of about N triples (N-Triples).

Parties, COP meetings, decisions citing earlier decisions of their topic thread, paragraphs, and records whose subjects
come from a 5,000-concept thesaurus with en/fr/es labels. The same N and seed give the same bytes.

    python bench/generate.py 100000 > /tmp/g100k.nt
"""

from __future__ import annotations

import random
import sys

B = "http://bench.example.org/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
CHM = "https://w3id.org/chmkg/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
ELI = "http://data.europa.eu/eli/ontology#"
DCT = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "https://schema.org/"
FOAF = "http://xmlns.com/foaf/0.1/"
ORG = "http://www.w3.org/ns/org#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ROMAN = ["", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII", "XIII"]
WORDS = "biodiversity forest marine species genetic protected area restoration knowledge capacity finance " \
        "pollution invasive wetland soil pollinator ecosystem traditional access benefit sharing".split()


def lit(text: str, lang: str | None = None, dt: str | None = None) -> str:
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"@{lang}' if lang else f'"{text}"^^<{dt}>' if dt else f'"{text}"'


def generate(n: int, seed: int = 42, out=sys.stdout) -> int:
    rnd = random.Random(seed)
    count = 0

    def t(s: str, p: str, o: str) -> None:
        nonlocal count
        out.write(f"<{s}> <{p}> {o} .\n")
        count += 1

    scheme = B + "scheme/thesaurus"
    t(scheme, RDF, f"<{SKOS}ConceptScheme>")
    t(scheme, SKOS + "prefLabel", lit("Synthetic thesaurus", "en"))
    for i in range(5000):
        c = f"{B}concept/{i}"
        t(c, RDF, f"<{SKOS}Concept>")
        t(c, SKOS + "inScheme", f"<{scheme}>")
        w = f"{WORDS[i % len(WORDS)]} {i}"
        t(c, SKOS + "prefLabel", lit(w, "en"))
        t(c, SKOS + "prefLabel", lit(f"{w} (fr)", "fr"))
        t(c, SKOS + "prefLabel", lit(f"{w} (es)", "es"))
        if i >= 50:
            t(c, SKOS + "broader", f"<{B}concept/{rnd.randrange(50)}>")
    cop = B + "actor/cop"
    t(cop, RDF, f"<{FOAF}Agent>")
    t(cop, SKOS + "prefLabel", lit("Conference of the Parties", "en"))
    for p in range(196):
        a = f"{B}party/{p}"
        t(a, RDF, f"<{FOAF}Agent>")
        t(a, RDF, f"<{ORG}FormalOrganization>")
        t(a, SKOS + "prefLabel", lit(f"Party {p}", "en"))
    meetings = 99
    for m in range(1, meetings + 1):
        mt = f"{B}meeting/cop/{m}"
        t(mt, RDF, f"<{CHM}Meeting>")
        t(mt, CHM + "meetingNumber", lit(str(m), dt=XSD + "integer"))
        t(mt, SCHEMA + "startDate", lit(f"{1994 + m // 2:04d}-{1 + m % 12:02d}-10", dt=XSD + "date"))
        t(mt, PROV + "wasAssociatedWith", f"<{cop}>")
        t(mt, SKOS + "prefLabel", lit(f"COP-{m}", "en"))
    remaining = max(n - count, 0)
    # per decision ~8 triples + 2 paragraphs x 4; per record ~6 triples: half the budget each
    n_decisions = max(remaining // 2 // 16, 1)
    n_records = max(remaining // 2 // 6, 1)
    per_meeting = n_decisions // meetings + 1
    decisions = []
    threads: dict[int, list[str]] = {}
    for d in range(n_decisions):
        m = 1 + d // per_meeting
        number = 1 + d % per_meeting
        symbol = f"{ROMAN[m] if m <= 13 else m}/{number}"
        iri = f"{B}decision/cop/{m}/{number}"
        t(iri, RDF, f"<{CHM}Decision>")
        t(iri, CHM + "symbol", lit(symbol))
        t(iri, CHM + "decisionNumber", lit(str(number), dt=XSD + "integer"))
        t(iri, ELI + "title", lit(f"Decision on {rnd.choice(WORDS)} {d}", "en"))
        t(iri, PROV + "wasGeneratedBy", f"<{B}meeting/cop/{m}>")
        t(iri, DCT + "subject", f"<{B}concept/{rnd.randrange(5000)}>")
        # decisions recall earlier decisions of their own topic (CBD decisions form topic threads:
        # the CHM decisions I/3 → II/3 → … → 15/16); 200 threads, so a decision's lineage is its
        # thread's earlier part, not the whole history
        thread = threads.setdefault(d % 200, [])
        if thread:
            t(iri, ELI + "cites", f"<{thread[-1]}>")
            t(iri, ELI + "cites", f"<{rnd.choice(thread)}>")
        thread.append(iri)
        for para in (1, 2):
            p = f"{iri}/para/{para}"
            t(p, RDF, f"<{CHM}DecisionParagraph>")
            t(p, ELI + "number", lit(str(para)))
            t(p, ELI + "is_part_of", f"<{iri}>")
            t(iri, ELI + "has_part", f"<{p}>")
        decisions.append(iri)
    for r in range(n_records):
        rec = f"{B}record/{r}"
        t(rec, RDF, f"<{CHM}Record>")
        t(rec, DCT + "title", lit(f"National report {r}", rnd.choice(("en", "fr", "es"))))
        t(rec, DCT + "language", lit(rnd.choice(("en", "fr", "es"))))
        t(rec, DCT + "subject", f"<{B}concept/{rnd.randrange(5000)}>")
        t(rec, DCT + "subject", f"<{B}concept/{rnd.randrange(5000)}>")
        t(rec, DCT + "references", f"<{rnd.choice(decisions)}>")
    return count


if __name__ == "__main__":
    total = generate(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 42)
    print(f"{total} triples", file=sys.stderr)
