"""Decision text → structure: segment a decision into preamble, sections, annexes, paragraphs,
sub-paragraphs and items with their numbering, then classify each element — the act it performs
(requests, invites, decides, establishes …), the actors it is addressed to, its deadline (a meeting
or a year) and the references it makes.

>>> els = segment_text("The Conference of the Parties,\\nRecalling decision XI/2,\\n"
...                    "1. Requests the Executive Secretary to report to the Subsidiary Body on "
...                    "Implementation at its fourth meeting;")
>>> [(e.kind, e.number, [a.code for a in e.acts]) for e in els]
[('preamble', '1', ['recalls']), ('paragraph', '1', ['requests'])]
>>> els[1].acts[0].actors, els[1].deadline.meeting
(['executive-secretary'], ('sbi', 4))

Segmentation is line and numbering work (``1.``, ``(a)`` or ``a)``, ``(i)``, ``Annex``, ``A.``
headings; inline ``: (a) …; (b) …`` lists are split). Classification runs spaCy on blank pipelines
per language (en, fr, es): a PhraseMatcher over the act forms of ``ontology/data/acts.csv`` and one
over the actor vocabulary of ``ontology/data/decision_actors.csv``. Only the head of an element is
tokenised (acts and addressees open the sentence); deadlines and references are found by patterns
over the whole text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import spacy
from spacy.attrs import IS_PUNCT, LOWER
from spacy.language import Language
from spacy.matcher import PhraseMatcher

from ontology.tracking import LANGS, act_kinds, tracking_actors
from tagging.references import ORDINALS, Reference, extract_references
from tagging.tagger import create_simple_tokenizer  # noqa: F401  (registers chmkg.simple_tokenizer.v1)

HEAD_CHARS = 320  # the act and its addressees open an element; only this much is tokenised


@dataclass
class Act:
    code: str                                   # an act of ontology/data/acts.csv
    actors: list[str] = field(default_factory=list)  # decision-tracking actor codes, in text order
    inherited: bool = False                     # a sub-paragraph continuing its parent's sentence

    def to_dict(self) -> dict:
        return {"act": self.code, "actors": self.actors, "inherited": self.inherited}


@dataclass
class Deadline:
    meeting: tuple[str, int] | None = None      # ("cop", 16)
    year: int | None = None
    text: str = ""

    def to_dict(self) -> dict:
        return {"meeting": f"{self.meeting[0]}-{self.meeting[1]}" if self.meeting else None, "year": self.year, "text": self.text}


@dataclass
class Element:
    kind: str                 # preamble, section, annex, paragraph, subparagraph, item
    number: str               # "3", "9 (f)", "9 (f) (i)", "A", "I"; preambles are numbered 1, 2 … in order
    text: str
    parent: int | None = None  # index of the enclosing element (paragraph, section or annex)
    annex: str | None = None
    section: str | None = None
    acts: list[Act] = field(default_factory=list)
    deadline: Deadline | None = None
    references: list[Reference] = field(default_factory=list)

    @property
    def actors(self) -> list[str]:
        seen: dict[str, None] = {}
        for a in self.acts:
            seen.update(dict.fromkeys(a.actors))
        return list(seen)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "number": self.number, "text": self.text, "parent": self.parent, "annex": self.annex,
                "section": self.section, "acts": [a.to_dict() for a in self.acts],
                "deadline": self.deadline.to_dict() if self.deadline else None,
                "references": [r.key for r in self.references]}


# -- segmentation --------------------------------------------------------------------------------
_PARA = re.compile(r"^(\d{1,3})\s*\.\s+(.+)$", re.S)
_LETTER = re.compile(r"^\(?([a-z]{1,2})\)\s+(.+)$", re.S)
_ROMAN = re.compile(r"^\(([ivxl]{1,6})\)\s+(.+)$", re.S)
_ANNEX = re.compile(r"^(?:ANNEX|Annex|ANNEXE|Annexe|ANEXO|Anexo)(?:\s+([IVX]{1,5}|\d{1,2}))?\s*[.:]?\s*(.*)$")
_SECTION = re.compile(r"^([A-Z]|[IVX]{1,5})\s*\.\s+(\S.{0,200})$")
_HEADER = re.compile(r"^(?:(?:Decision|Décision|Decisión|DECISION)\s+)?(?:(?:BS|CP|NP)-)?(?:[IVX]{1,5}|\d{1,2})/\d{1,3}\b|"
                     r"^(?:The Conference of the Parties|La Conférence des Parties|La Conferencia de las Partes|"
                     r"The Conference of the Parties serving as the meeting of the Parties|"
                     r"The Subsidiary Body|L'Organe subsidiaire|El Órgano Subsidiario)[^.;]{0,200},?$")
_INLINE = re.compile(r"(?:(?<=:)|(?<=;)|(?<=; and)|(?<=; et)|(?<=; y))\s+\(([a-z]{1,2})\)\s+")
_ROMANS = {"i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "xiii", "xiv", "xv", "xvi", "xvii",
           "xviii", "xix", "xx"}


def _is_roman(token: str, last_letter: str | None) -> bool:
    """``(i)`` after ``(h)`` is a letter; otherwise a token of roman numerals is an item."""
    if token not in _ROMANS:
        return False
    return not (last_letter and len(token) == 1 and ord(token) == ord(last_letter) + 1)


def html_to_text(html: str) -> str:
    """Block elements become lines; the rest is kept as text."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    for br in soup.find_all("br"):
        br.replace_with("\n")
    return soup.get_text("\n")


def _lines(text: str) -> list[str]:
    out: list[str] = []
    for raw in text.replace("\r", "\n").split("\n"):
        line = re.sub(r"\s+", " ", raw).strip()
        if line:
            out.append(line)
    return out


def segment(text: str) -> list[Element]:
    """The elements of a decision text, in order (no classification)."""
    els: list[Element] = []
    annex: str | None = None
    section: str | None = None
    section_idx: int | None = None
    annex_idx: int | None = None
    para_idx: int | None = None
    letter_idx: int | None = None
    last_letter: str | None = None
    preambles = 0
    started = False  # past the first numbered paragraph

    def container() -> int | None:
        return section_idx if section_idx is not None else annex_idx

    def add(kind: str, number: str, body: str, parent: int | None) -> int:
        els.append(Element(kind, number, body, parent, annex, section))
        return len(els) - 1

    def paragraph_with_inline(num: str, body: str) -> None:
        nonlocal para_idx, letter_idx, last_letter
        parts = _INLINE.split(body)
        para_idx = add("paragraph", num, parts[0].strip(), container())
        letter_idx, last_letter = None, None
        for letter, sub in zip(parts[1::2], parts[2::2]):
            letter_idx = add("subparagraph", f"{num} ({letter})", sub.strip().rstrip(";").strip(), para_idx)
            last_letter = letter

    for line in _lines(text):
        m = _ANNEX.match(line)
        if m and (len(line) < 120):
            annex = m.group(1) or "1"
            section, section_idx, para_idx, letter_idx, last_letter = None, None, None, None, None
            annex_idx = add("annex", annex, m.group(2).strip() or line, None)
            started = True
            continue
        m = _PARA.match(line)
        if m:
            started = True
            paragraph_with_inline(m.group(1), m.group(2))
            continue
        m = _ROMAN.match(line)
        if m and para_idx is not None and _is_roman(m.group(1), last_letter):
            parent = letter_idx if letter_idx is not None else para_idx
            add("item", f"{els[parent].number} ({m.group(1)})", m.group(2), parent)
            continue
        m = _LETTER.match(line)
        if m and para_idx is not None:
            last_letter = m.group(1)
            letter_idx = add("subparagraph", f"{els[para_idx].number} ({last_letter})", m.group(2), para_idx)
            continue
        m = _SECTION.match(line)
        if m and len(line) < 200 and not line.endswith((";", ",")):
            section = m.group(1)
            section_idx = add("section", section, m.group(2), annex_idx)
            para_idx, letter_idx, last_letter = None, None, None
            started = True
            continue
        if not started:
            if _HEADER.match(line):
                continue
            preambles += 1
            add("preamble", str(preambles), line, None)
            continue
        if els:  # a continuation line
            els[-1].text = f"{els[-1].text} {line}"
    return els


# -- classification --------------------------------------------------------------------------------
class _Lang:
    """One language's matchers over the act forms and the actor patterns."""

    def __init__(self, lang: str) -> None:
        # the tagger's tokenizer: the same cuts for patterns and texts, several times faster than the defaults
        self.nlp: Language = spacy.blank(lang, config={"nlp": {"tokenizer": {"@tokenizers": "chmkg.simple_tokenizer.v1"}}})
        self.acts = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.preamble = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        self.actors = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        for kind in act_kinds().values():
            if kind.forms[lang]:
                self.acts.add(kind.code, [self.nlp.make_doc(f) for f in kind.forms[lang]])
            if kind.preamble[lang]:
                self.preamble.add(kind.code, [self.nlp.make_doc(f) for f in kind.preamble[lang]])
        for a in tracking_actors().values():
            pats = set(a.patterns[lang]) | set(a.patterns["en"] if lang != "en" else ())
            self.actors.add(a.code, [self.nlp.make_doc(p) for p in sorted(pats)])
        s = self.nlp.vocab.strings
        self.names = {s[k]: k for k in list(act_kinds()) + list(tracking_actors())}
        # the word that ends the list of addressees: "to" (en), "de"/"d'"/"à" (fr), "que"/"a" (es)
        h = self._hashes
        self.stops = h({"en": {"to", "that", "in"}, "fr": {"de", "d'", "d’", "à", "afin"}, "es": {"que", "a", "para"}}[lang])
        self.conj = h({"en": {"and", ";"}, "fr": {"et", ";"}, "es": {"y", ";", "e"}}[lang])
        self.that = h({"that", "que"})
        self.lead = h({"en": {"also", "further", "the", "conference", "of", "parties", ",", "hereby", "1", "and"},
                     "fr": {"également", "en", "outre", "la", "conférence", "des", "parties", ",", "et"},
                     "es": {"también", "además", "la", "conferencia", "de", "las", "partes", ",", "y"}}[lang])
        self.shall = h({"en": {"shall", "will", "should", "to"}, "fr": {"doit", "devra", "devrait", "va"},
                        "es": {"deberá", "debe", "debería", "va"}}[lang])

    def _hashes(self, words: set[str]) -> frozenset[int]:
        return frozenset(self.nlp.vocab.strings.add(w) for w in words)


@cache
def _lang(lang: str) -> _Lang:
    return _Lang(lang if lang in LANGS else "en")


_FR_ORD = {w: i for i, w in enumerate(
    ["première", "deuxième", "troisième", "quatrième", "cinquième", "sixième", "septième", "huitième", "neuvième", "dixième",
     "onzième", "douzième", "treizième", "quatorzième", "quinzième", "seizième", "dix-septième", "dix-huitième",
     "dix-neuvième", "vingtième"], start=1)}
_FR_ORD["premier"] = 1
_ES_ORD = {w: i for i, w in enumerate(
    ["primera", "segunda", "tercera", "cuarta", "quinta", "sexta", "séptima", "octava", "novena", "décima", "undécima",
     "duodécima", "decimotercera", "decimocuarta", "decimoquinta", "decimosexta", "decimoséptima", "decimoctava",
     "decimonovena", "vigésima"], start=1)}
_ALL_ORD = {**ORDINALS, **_FR_ORD, **_ES_ORD}
_ORD_RE = "|".join(sorted(map(re.escape, _ALL_ORD), key=len, reverse=True))
_BODIES = [
    (r"Conference of the Parties serving as the meeting of the Parties to the Cartagena Protocol|CP-MOP|COP-MOP", "cp-mop"),
    (r"Conference of the Parties serving as the meeting of the Parties to the Nagoya Protocol|NP-MOP", "np-mop"),
    (r"Subsidiary Body on Scientific, Technical and Technological Advice|SBSTTA|Organe subsidiaire chargé de fournir des avis "
     r"scientifiques, techniques et technologiques|Órgano Subsidiario de Asesoramiento Científico, Técnico y Tecnológico|OSACTT", "sbstta"),
    (r"Subsidiary Body on Implementation|SBI|Organe subsidiaire chargé de l'application|Órgano Subsidiario sobre la Aplicación|OSA", "sbi"),
    (r"Working Group on Review of Implementation(?: of the Convention)?|WGRI", "wgri"),
    (r"Working Group on Article 8\s?\(j\)(?: and [Rr]elated [Pp]rovisions)?|WG8J", "wg8j"),
    (r"Conference of the Parties|Conférence des Parties|Conferencia de las Partes|COP", "cop"),
]
_BODY_RE = re.compile("|".join(f"(?P<b{i}>{p})" for i, (p, _) in enumerate(_BODIES)))
_MEETING_RE = re.compile(
    rf"\b(?:its|the|sa|la|su)\s+(?P<ord>{_ORD_RE}|\d{{1,2}}(?:st|nd|rd|th|e|ª|a)?)\s+(?:meeting|réunion|reunión)"
    rf"(?:\s+(?:of|de)\s+(?:the|la|l'|las)?\s*(?P<after>{_BODY_RE.pattern}))?", re.I)
_CODE_MEETING_RE = re.compile(r"\b(COP|SBI|SBSTTA|CP-MOP|NP-MOP)[- ](\d{1,2})\b")
_MONTHS = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|janvier|février|mars|"
           r"avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|"
           r"agosto|septiembre|octubre|noviembre|diciembre)")
_YEAR_RE = re.compile(r"\b(?:by|before|until|no later than|d'ici(?: à| a| au| le)?|avant(?: le)?|para|antes de(?:l)?|a más tardar el|a más tardar en)\s+"
                      rf"(?:the end of\s+|fin\s+|finales de\s+)?(?:\d{{1,2}}(?:er)?\s+(?:de\s+)?{_MONTHS}\s+(?:de\s+)?|{_MONTHS}\s+)?(20[0-9]{{2}})\b", re.I)


def _body_of(m: re.Match[str]) -> str:
    for i, (_, key) in enumerate(_BODIES):
        if m.group(f"b{i}"):
            return key
    return "cop"


def find_deadline(text: str, own_body: str = "cop") -> Deadline | None:
    """The meeting (or year) an element sets as its deadline: ``at its fourth meeting`` after a body's
    name, ``the sixteenth meeting of the Conference of the Parties``, ``COP-16``, ``by 2030``."""
    low = text.lower()
    meetings = _MEETING_RE.finditer(text) if ("meeting" in low or "réunion" in low or "reunión" in low) else ()
    for m in meetings:
        raw = m.group("ord").lower()
        digits = re.match(r"\d+", raw)
        n = _ALL_ORD.get(raw) or (int(digits.group()) if digits else 0)
        if not n:
            continue
        if m.group("after"):
            body = _body_of(_BODY_RE.match(m.group("after")))
        else:  # "at its fourth meeting": the body named last before it in the sentence, else the decision's own
            sentence_start = max(text.rfind(";", 0, m.start()), text.rfind(". ", 0, m.start()), 0)
            before = list(_BODY_RE.finditer(text, sentence_start, m.start()))
            body = _body_of(before[-1]) if before else own_body
        return Deadline(meeting=(body, n), text=m.group(0))
    m = _CODE_MEETING_RE.search(text) if ("COP" in text or "SB" in text or "MOP" in text) else None
    if m:
        return Deadline(meeting=(m.group(1).lower(), int(m.group(2))), text=m.group(0))
    m = _YEAR_RE.search(text) if "20" in text else None
    if m:
        return Deadline(year=int(m.group(1)), text=m.group(0))
    return None


def _spans(matcher: PhraseMatcher, doc) -> list[tuple[int, int, int]]:
    """(label, start, end) of the longest matches, without overlaps, in text order."""
    found = sorted(matcher(doc), key=lambda x: (x[1], x[1] - x[2]))
    out: list[tuple[int, int, int]] = []
    end = -1
    for k, s, e in found:
        if s >= end:
            out.append((k, s, e))
            end = e
    return out


def classify(el: Element, lang: str = "en", parent: Element | None = None, own_body: str = "cop") -> Element:
    """Fill an element's acts, deadline and references (in place; returns it)."""
    L = _lang(lang)
    strings = L.nlp.vocab.strings
    el.acts = []
    if el.kind in ("paragraph", "subparagraph", "item", "preamble"):
        doc = L.nlp.make_doc(el.text[:HEAD_CHARS])
        arr = doc.to_array([LOWER, IS_PUNCT]).tolist()  # hashes: no Token objects made
        low = [a[0] for a in arr]
        punct = [a[1] for a in arr]
        if el.kind == "preamble":
            spans = [sp for sp in _spans(L.preamble, doc) if sp[1] <= 2] or [sp for sp in _spans(L.acts, doc) if sp[1] <= 2]
            if spans:
                el.acts.append(Act(strings[spans[0][0]]))
        else:
            chosen: list[tuple[int, int, int]] = []
            for sp in _spans(L.acts, doc):
                k, start, end = sp
                if not chosen:
                    if start == 0 or all(w in L.lead or p for w, p in zip(low[:start], punct[:start])):
                        chosen.append(sp)
                    elif start > 12:
                        break
                elif low[start - 1] in L.conj or low[start] in L.conj or (
                        start >= 2 and low[start - 2] in L.conj and punct[start - 1]):
                    chosen.append(sp)
            if chosen:
                actors = _spans(L.actors, doc)
                for i, (k, start, end) in enumerate(chosen):
                    code = strings[k]
                    kind = act_kinds()[code]
                    act = Act(code)
                    stop = chosen[i + 1][1] if i + 1 < len(chosen) else len(doc)
                    if kind.addresses == "yes":
                        act.actors = _addressees(L, low, end, stop, actors, strings)
                    elif kind.addresses == "that":
                        act.actors = _that_actors(L, low, end, actors, strings)
                    el.acts.append(act)
            elif parent is not None and el.kind in ("subparagraph", "item") and parent.acts:
                el.acts = [Act(a.code, list(a.actors), inherited=True) for a in parent.acts]
    if el.kind not in ("section", "annex", "preamble"):
        el.deadline = find_deadline(el.text, own_body)
    el.references = extract_references(el.text) if _MAY_REFER.search(el.text) else []
    return el


# what every reference the extractor knows contains (a symbol's slash, an article, a target, a meeting):
# the extractor runs only on elements that have one
_MAY_REFER = re.compile(r"/|[Aa]rt[ií]culo|[Aa]rticle|[Tt]arget|[Mm]eta |[Oo]bjectif|meeting|r[ée]union|COP|SBI|SBSTTA|MOP")


def _addressees(L: _Lang, low: list[str], start: int, end: int, actors: list, strings) -> list[str]:
    """The actors named right after the verb, up to the word that opens what is asked ("to", "de", "que")."""
    out: list[str] = []
    i = start
    for k, s, e in actors:
        if s < start or s >= end:
            continue
        # a stop word between the verb (or the last actor) and this actor ends the list
        if out and any(w in L.stops for w in low[i:s]):
            break
        if s - i > 12:
            break
        code = strings[k]
        if code not in out:
            out.append(code)
        i = e
    return out


def _that_actors(L: _Lang, low: list[str], start: int, actors: list, strings) -> list[str]:
    """``decides that the Executive Secretary shall …``: the actor that follows ``that``/``que``."""
    if start >= len(low) or low[start] not in L.that:
        return []
    for k, s, e in actors:
        if start < s <= start + 3 and e < len(low) and low[e] in L.shall:
            return [strings[k]]
    return []


def classify_all(els: list[Element], lang: str = "en", own_body: str = "cop") -> list[Element]:
    for el in els:
        classify(el, lang, els[el.parent] if el.parent is not None else None, own_body)
    return els


def segment_text(text: str, lang: str = "en", own_body: str = "cop") -> list[Element]:
    """Segment and classify a decision text (plain text; HTML is read as text first)."""
    if "<" in text[:2000] and re.search(r"</(?:p|div|li|td|span)>", text[:20000]):
        text = html_to_text(text)
    return classify_all(segment(text), lang, own_body)


def detect_language(text: str) -> str:
    """en, fr or es from the commonest function words (decision texts are long enough for this)."""
    words = re.findall(r"[a-zàâçéèêëîïôûùüÿñóíúá']+", text[:5000].lower())
    score = {"en": sum(w in ("the", "of", "and", "to") for w in words),
             "fr": sum(w in ("le", "les", "des", "du", "et", "la") for w in words),
             "es": sum(w in ("el", "los", "las", "del", "y", "que") for w in words)}
    return max(score, key=score.get)
