"""UN meeting documents as entities: what a document symbol says about the document.

>>> f = document_facts("UNEP/CBD/COP/11/31")
>>> f.body, f.meeting, f.kind
('cop', 11, 'working document')
>>> document_facts("UNEP/CBD/WGRI/5/3/Add.1").kind
'addendum'
>>> document_facts("CBD/SBI/4/INF/12").kind
'information document'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ontology import CHM, DCTERMS, RDF, SKOS
from ontology.iris import Minter
from ontology.triples import TripleSet, lit

_BODIES = {"COP": "cop", "SBSTTA": "sbstta", "SBI": "sbi", "WGRI": "wgri", "WG8J": "wg8j", "BS": "cp-mop",
           "CP": "cp-mop", "NP": "np-mop", "COP-MOP": "cp-mop", "MOP": "cp-mop"}
_SYMBOL = re.compile(r"^(?:UNEP/)?CBD/(?P<body>[A-Z0-9-]+?)(?:/(?:MOP|COP-MOP))?/(?P<n>[IVX]+|\d{1,2})/(?P<rest>.+)$", re.I)
SIX_LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")


@dataclass(frozen=True)
class DocumentFacts:
    symbol: str
    body: str | None
    meeting: int | None
    kind: str


def _roman(text: str) -> int:
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for a, b in zip(text, text[1:] + " "):
        v = values[a]
        total += -v if b in values and values[b] > v else v
    return total


def document_facts(symbol: str) -> DocumentFacts:
    """The body, meeting and kind of document a UN symbol names (what the symbol does not say is None)."""
    s = re.sub(r"\s+", "", symbol)
    up = s.upper()
    kind = ("information document" if "/INF/" in up else "recommendation" if "/REC/" in up or "/RECOMMENDATION/" in up
            else "corrigendum" if "CORR" in up else "revision" if "/REV." in up or "REV." in up.rsplit("/", 1)[-1]
            else "addendum" if "ADD." in up else "report" if up.endswith("/REP") or "/REP/" in up else "working document")
    m = _SYMBOL.match(s)
    if not m:
        return DocumentFacts(s, None, None, kind)
    body = _BODIES.get(m.group("body").upper())
    n = m.group("n")
    number = int(n) if n.isdigit() else _roman(n.upper())
    return DocumentFacts(s, body, number, kind)


def add_document(t: TripleSet, m: Minter, symbol: str, title: str = "", languages: tuple[str, ...] = (),
                 lang: str = "en", labelled: bool = True) -> str:
    """Declare a document with its symbol, kind, meeting and language versions; returns its IRI.
    ``labelled=False`` for a document only named in passing (a source's reference): its symbol is its
    identifier, and the label stays with whoever knows its title."""
    f = document_facts(symbol)
    d = m.document(f.symbol)
    t.add(d, RDF.type, CHM.Document)
    t.add(d, DCTERMS.identifier, lit(f.symbol))
    if labelled or title:
        t.add(d, SKOS.prefLabel, lit(f"{f.symbol}: {title}" if title else f.symbol, lang))
    if title:
        t.add(d, DCTERMS.title, lit(title, lang))
    t.add(d, CHM.documentType, lit(f.kind))
    if f.body and f.meeting:
        t.add(d, CHM.forMeeting, m.meeting(f.body, f.meeting))
    for code in languages:
        t.add(d, CHM.languageVersion, lit(code))
    return d
