"""Find every reference a CBD text makes — decisions and their paragraphs, Convention articles,
Aichi and KMGBF targets, meetings, UN document symbols, recommendations — and resolve each to the
hub's IRI for it.

Each pattern is written for the forms the real texts use (see tests/fixtures/references/):

>>> [r.key for r in extract_references("paragraphs 1–4 and 7 of decision VII/33")]
['VII/33 para 1', 'VII/33 para 2', 'VII/33 para 3', 'VII/33 para 4', 'VII/33 para 7']
>>> [r.key for r in extract_references("Article 18.3 and Article 8(j)")]
['Article 18.3', 'Article 8(j)']

Extraction is pure text work; :class:`Resolver` then maps each reference to an IRI, down to the
paragraph when the hub has it, and says so when it cannot (kept, listed as unresolved).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ontology.errors import SymbolError
from ontology.iris import Minter
from ontology.symbols import parse_symbol

KINDS = ("decision", "article", "target", "meeting", "document", "recommendation")

# -- building blocks ----------------------------------------------------------------------------
_ROM = r"(?:X{0,3}(?:IX|IV|V?I{0,3}))"
# a decision symbol: prefixed (BS-V/3, CP-10/2, NP-2/4), Roman (X/15) or Arabic (15/16)
_SYM = rf"(?:(?:BS|CP|NP)\s?-\s?(?:{_ROM}|\d{{1,2}})/\d{{1,3}}|{_ROM}/\d{{1,3}}|\d{{1,2}}/\d{{1,3}})"
_SYM_STRONG = rf"\b(?:(?:BS|CP|NP)-(?:{_ROM}|\d{{1,2}})/\d{{1,3}}|(?:[IVX]{{2,}}|[IVX])/\d{{1,3}})\b"
_AND = r"(?:\s*,\s*(?:and\s+|et\s+|y\s+)?|\s+(?:and|et|y|or|ou|o)\s+)"
_THRU = r"\s*(?:–|—|-|to|à|a)\s*"
_PARA = r"\d{1,3}(?:\s?\(\s?[a-z]{1,4}\s?\)|\s?[a-z]\))?(?:\s?\((?:[ivx]{1,5})\))?"
_PARA_LIST = rf"{_PARA}(?:(?:{_THRU}|{_AND}){_PARA})*"
_DEC_WORD = r"(?:[Dd]ecisions?|[Dd]écisions?|[Dd]ecisi[oó]n(?:es)?)"
_PARA_WORD = r"(?:[Pp]aragraphs?|[Pp]aragraphes?|[Pp][aá]rrafos?|paras?\.)"
_OF = r"\s+(?:of|de\s+la|de\s+las?|del?|de\s+l['’]\s*)\s*"

ORDINALS = {w: i for i, w in enumerate(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"], start=1)}
for _tens, _tn in (("twenty", 20), ("thirty", 30)):
    for _w, _i in list(ORDINALS.items())[:9]:
        ORDINALS[f"{_tens}-{_w}"] = _tn + _i
ORDINALS["thirtieth"] = 30
_FR = ["première", "deuxième", "troisième", "quatrième", "cinquième", "sixième", "septième", "huitième", "neuvième",
       "dixième", "onzième", "douzième", "treizième", "quatorzième", "quinzième", "seizième", "dix-septième",
       "dix-huitième", "dix-neuvième", "vingtième"]
_ES = ["primera", "segunda", "tercera", "cuarta", "quinta", "sexta", "séptima", "octava", "novena", "décima",
       "undécima", "duodécima", "decimotercera", "decimocuarta", "decimoquinta", "decimosexta", "decimoséptima",
       "decimoctava", "decimonovena", "vigésima"]
for _i, (_f, _e) in enumerate(zip(_FR, _ES, strict=True), start=1):
    ORDINALS[_f] = ORDINALS[_e] = _i
ORDINALS["premier"] = ORDINALS["1re"] = ORDINALS["1ère"] = 1
for _tens, _tn, _fr, _es in (("vingt", 20, "vingt", "vigésima"), ("trente", 30, "trente", "trigésima")):
    for _i, (_f, _e) in enumerate(zip(_FR[:9], _ES[:9], strict=True), start=1):
        ORDINALS[f"{_fr} et unième" if _i == 1 else f"{_fr}-{_f}"] = _tn + _i
        ORDINALS[f"{_es} {_e}"] = ORDINALS[f"{_es}{_e}"] = _tn + _i
    ORDINALS["trentième" if _tn == 30 else "vingtième"] = _tn
    ORDINALS["trigésima" if _tn == 30 else "vigésima"] = _tn
ORDINALS["undécima"] = ORDINALS["decimoprimera"] = ORDINALS["décimo primera"] = 11
ORDINALS["decimosegunda"] = 12
for _n in range(1, 31):  # "15th meeting"
    ORDINALS[f"{_n}{'st' if _n % 10 == 1 and _n != 11 else 'nd' if _n % 10 == 2 and _n != 12 else 'rd' if _n % 10 == 3 and _n != 13 else 'th'}"] = _n
_ORD = "|".join(re.escape(o) for o in sorted(ORDINALS, key=len, reverse=True))

BODY_NAMES = {  # how the texts name a body → the hub's meeting key
    "conference of the parties": "cop",
    "subsidiary body on implementation": "sbi",
    "subsidiary body on scientific, technical and technological advice": "sbstta",
    "ad hoc open-ended working group on review of implementation of the convention": "wgri",
    "working group on review of implementation": "wgri",
    "working group on review of implementation of the convention": "wgri",
    "ad hoc open-ended working group on article 8(j) and related provisions": "wg8j",
    "working group on article 8(j) and related provisions": "wg8j",
    "conference of the parties serving as the meeting of the parties to the cartagena protocol on biosafety": "cp-mop",
    "conference of the parties serving as the meeting of the parties to the cartagena protocol": "cp-mop",
    "conference of the parties serving as the meeting of the parties to the nagoya protocol on access and benefit-sharing": "np-mop",
    "conference of the parties serving as the meeting of the parties to the nagoya protocol": "np-mop",
    "conférence des parties": "cop",
    "organe subsidiaire chargé de fournir des avis scientifiques, techniques et technologiques": "sbstta",
    "organe subsidiaire chargé de l'application": "sbi",
    "organe subsidiaire chargé de l’application": "sbi",
    "conférence des parties siégeant en tant que réunion des parties au protocole de cartagena": "cp-mop",
    "conférence des parties siégeant en tant que réunion des parties au protocole de nagoya": "np-mop",
    "conferencia de las partes": "cop",
    "órgano subsidiario de asesoramiento científico, técnico y tecnológico": "sbstta",
    "órgano subsidiario sobre la aplicación": "sbi",
    "conferencia de las partes que actúa como reunión de las partes en el protocolo de cartagena": "cp-mop",
    "conferencia de las partes que actúa como reunión de las partes en el protocolo de nagoya": "np-mop",
    "groupe de travail spécial à composition non limitée sur l'examen de l'application de la convention": "wgri",
    "groupe de travail sur l'examen de l'application de la convention": "wgri",
    "groupe de travail sur l'examen de l'application": "wgri",
    "groupe de travail spécial à composition non limitée sur l'article 8 j) et les dispositions connexes": "wg8j",
    "groupe de travail sur l'article 8 j) et les dispositions connexes": "wg8j",
    "grupo de trabajo especial de composición abierta sobre la revisión de la aplicación del convenio": "wgri",
    "grupo de trabajo sobre la revisión de la aplicación del convenio": "wgri",
    "grupo de trabajo sobre la revisión de la aplicación": "wgri",
    "grupo de trabajo especial de composición abierta sobre el artículo 8 j) y disposiciones conexas": "wg8j",
    "grupo de trabajo sobre el artículo 8 j) y disposiciones conexas": "wg8j",
    "cop": "cop", "sbstta": "sbstta", "sbi": "sbi", "wgri": "wgri", "cop-mop": "cp-mop", "cp-mop": "cp-mop", "np-mop": "np-mop",
    "cop/mop": "cp-mop",
}
_BODY = "|".join(re.sub(r"['’]", "['’]", re.escape(b).replace(r"\ ", r"\s+"))
                 for b in sorted(BODY_NAMES, key=len, reverse=True))
_MEETING = r"(?:(?:resumed\s+)?meeting|(?:réunion|reunión)(?:\s+(?:extraordinaire|extraordinaria))?)"
_ANNEX = r"(?:[Aa]nnex(?:e)?|[Aa]nexo)(?:\s+(?P<annex>[IVX]{1,5}|\d{1,2})\b)?"
BODY_CODES = {"cop": "cop", "sbi": "sbi", "sbstta": "sbstta", "wgri": "wgri", "cp-mop": "cp-mop", "mop": "cp-mop",
              "np-mop": "np-mop", "cop-mop": "cp-mop", "wg8j": "wg8j"}
INSTRUMENTS = {"cartagena": "cartagena", "nagoya": "nagoya", "convention": "cbd"}

class Anchored:
    """A pattern tried only around the places a cheap literal anchor occurs.

    Over a long text, ``re`` tries a pattern that starts with an alternation at every position;
    searching for the anchor (a literal such as ``meeting of the``) first and then matching in a
    window around it gives the same matches several times faster.
    """

    def __init__(self, anchor: str, pattern: re.Pattern[str], back: int, ahead: int = 300) -> None:
        self.anchor = re.compile(anchor)
        self.pattern = pattern
        self.back, self.ahead = back, ahead

    def finditer(self, text: str):
        last = 0
        for a in self.anchor.finditer(text):
            if a.start() < last:
                continue
            m = self.pattern.search(text, max(last, a.start() - self.back), min(len(text), a.end() + self.ahead))
            if m and m.start() <= a.start() < m.end():
                yield m
                last = m.end()


PATTERNS: list[tuple[str, re.Pattern[str] | Anchored]] = [
    # UN document symbols first: decisions and recommendations inside them are read from the symbol
    ("document", re.compile(r"\b(?:UNEP/)?CBD(?:/[A-Za-z0-9][A-Za-z0-9\-]*(?:\.\d+)?)+")),
    # recommendation 4/2 of the Subsidiary Body on Implementation; SBSTTA recommendation 24/1; recommendation SBI-4/2
    ("recommendation", Anchored(r"(?i:recomm|recomend)", re.compile(
        r"\b(?:(?P<pre>SBSTTA|SBI|WGRI)\s+)?(?:[Rr]ecommendations?|[Rr]ecommandations?|[Rr]ecomendaci[oó]n(?:es)?)\s+"
        r"(?:(?P<body2>SBSTTA|SBI|WGRI)[- ])?(?P<sym>(?:[IVX]+|\d{1,2})/\d{1,3})"
        rf"(?:\s+(?:of\s+the|de\s+l['’]|du|de\s+la|del)\s*(?P<body3>{_BODY}))?", re.IGNORECASE), 10, 400)),
    # paragraph 22 of annex I to decision X/2; paragraphe 22 de l'annexe à la décision X/2; párrafo 22 del anexo de la decisión X/2
    ("annex-paragraphs", Anchored(r"(?i:anne|anexo)", re.compile(
        rf"{_PARA_WORD}\s+(?P<paras>{_PARA_LIST})\s+(?:of\s+(?:the\s+)?|de\s+l['’]\s*|del\s+){_ANNEX}\s+"
        rf"(?:to|of|à|de|a)\s+(?:la\s+)?(?:COP\s+)?{_DEC_WORD}\s+(?P<sym>{_SYM})\b"), 80, 120)),
    # decision X/2, annex, paragraph 22; décision X/2, annexe I, paragraphe 3; decisión X/2, anexo, párrafo 22
    ("decision-annex-paragraphs", Anchored(r"(?i:anne|anexo)", re.compile(
        rf"{_DEC_WORD}\s+(?P<sym>{_SYM}),\s*{_ANNEX},\s*{_PARA_WORD}\s+(?P<paras>{_PARA_LIST})"), 40, 80)),
    # annex I to decision X/2; the annex to decision 14/8; l'annexe de la décision 15/4; el anexo de la decisión 14/8
    ("annex-of-decision", Anchored(r"(?i:anne|anexo)", re.compile(
        rf"\b{_ANNEX}\s+(?:to|of|à|de|a)\s+(?:la\s+)?(?:COP\s+)?{_DEC_WORD}\s+(?P<sym>{_SYM})\b"), 10, 60)),
    # decision 14/8, annex; décision 15/4, annexe II
    ("decision-annex", Anchored(r"(?i:anne|anexo)", re.compile(rf"{_DEC_WORD}\s+(?P<sym>{_SYM}),\s*{_ANNEX}\b(?!,\s*{_PARA_WORD})"), 40, 20)),
    # paragraph 9 (f) of decision 15/16; paragraphs 1–4 and 7 of decision VII/33
    ("decision-paragraphs", Anchored(r"[Dd][eé]cisi", re.compile(rf"{_PARA_WORD}\s+(?P<paras>{_PARA_LIST}){_OF}(?:COP\s+)?{_DEC_WORD}\s+(?P<sym>{_SYM})\b"), 80)),
    # decision 15/16, paragraph 9  /  decision X/2, annex, paragraph 22 (annex paragraphs stay at the decision)
    ("decision-then-paragraphs", re.compile(rf"{_DEC_WORD}\s+(?P<sym>{_SYM}),\s*{_PARA_WORD}\s+(?P<paras>{_PARA_LIST})")),
    # decisions 15/8 and 15/14; decision X/15; COP decision 14/8
    ("decisions", re.compile(rf"{_DEC_WORD}\s+(?P<syms>{_SYM}(?:\s[A-H](?![\w/]))?(?:{_AND}{_SYM}(?:\s[A-H](?![\w/]))?)*)\b")),
    # a symbol standing alone in a form that cannot be a date or a fraction
    ("decision-symbol", Anchored("/", re.compile(_SYM_STRONG), 12, 6)),
    # paragraph 3 of Article 18
    ("paragraph-of-article", Anchored(r"[Aa]rt[ií]", re.compile(
        rf"{_PARA_WORD}\s+(?P<para>\d{{1,2}}){_OF}[Aa]rt[ií]?[ck]?[uú]?l[eo]s?\s+(?P<art>\d{{1,2}})"
        r"(?:\s+(?:of\s+the|du|del)\s+(?P<instr>Cartagena|Nagoya)\s+Protocol[eo]?|\s+(?:du\s+Protocole|del\s+Protocolo)\s+de\s+(?P<instr2>Cartagena|Nagoya))?"), 40)),
    # Article 18.3; Article 18(3); Article 8(j); Article 18, paragraph 3; Articles 16 to 19
    ("article", re.compile(
        r"\b(?:[Aa]rticles?|[Aa]rt[ií]culos?|[Aa]rt\.)\s+(?P<list>\d{1,2}(?:[.(]\s?[0-9a-z]{1,2}\)?|\s[a-z]\)|\s\(\d{1,2}\))?"
        r"(?:(?:\s*(?:–|—|to|à|a)\s*|\s*,\s*(?:and\s+)?|\s+(?:and|et|y)\s+)\d{1,2}(?:[.(]\s?[0-9a-z]{1,2}\)?|\s[a-z]\)|\s\(\d{1,2}\))?)*)"
        r"(?:,\s*(?:paragraph|paragraphe|p[aá]rrafo)\s+(?P<para>\d{1,2}),?)?"
        r"(?:\s+(?:of\s+the|du|del)\s+(?P<instr>Cartagena|Nagoya)\s+Protocol[eo]?|\s+(?:du\s+Protocole|del\s+Protocolo)\s+de\s+(?P<instr2>Cartagena|Nagoya))?")),
    # Aichi Biodiversity Target 11; Aichi Targets 5 and 15; objectif d'Aichi 11; meta de Aichi 11
    ("aichi", Anchored(r"Aichi", re.compile(r"\b(?:Aichi\s+(?:Biodiversity\s+)?[Tt]argets?|[Oo]bjectifs?\s+d['’]Aichi(?:\s+pour\s+la\s+biodiversit[ée])?"
                         r"|[Mm]etas?\s+de\s+Aichi(?:\s+para\s+la\s+Diversidad\s+Biol[oó]gica)?)\s+(?P<list>\d{1,2}(?:(?:\s*,\s*|\s+(?:and|et|y|to|à|a)\s+|\s*–\s*)\d{1,2})*)"), 40)),
    # GBF/KMGBF target 3; target 3 of the Kunming-Montreal Global Biodiversity Framework
    ("gbf", Anchored(r"GBF|Framework", re.compile(r"\b(?:K?M?GBF|Global\s+Biodiversity\s+Framework)\s+[Tt]argets?\s+(?P<list>\d{1,2}(?:(?:\s*,\s*|\s+(?:and|to)\s+|\s*–\s*)\d{1,2})*)"), 32)),
    ("gbf-of", Anchored(r"Framework|Cadre|Marco", re.compile(r"\b(?:[Tt]argets?|[Oo]bjectifs?|[Mm]etas?)\s+(?P<list>\d{1,2}(?:(?:\s*,\s*|\s+(?:and|et|y|to|à|a)\s+|\s*–\s*)\d{1,2})*)"
                          r"\s+(?:of\s+the|du|del)\s+(?:Kunming[-‑–]Montr[eé]al\s+)?(?:Global\s+Biodiversity\s+Framework|Cadre\s+mondial|Marco\s+Mundial)"), 140)),
    # COP 12, COP-15, COP15, SBI-4, SBSTTA 25, CP-MOP 10, NP-MOP 4
    ("meeting-code", re.compile(r"\b(?P<body>COP[- ]MOP|CP[- ]MOP|NP[- ]MOP|COP|SBSTTA|SBI|WGRI)[- ]?(?P<n>\d{1,2})\b(?!\s*/|\s+decision)")),
    # the fifth meeting of the Working Group on Review of Implementation; the seventeenth meeting of SBSTTA;
    # la quinzième réunion de la Conférence des Parties; la decimoquinta reunión de la Conferencia de las Partes
    ("meeting-ordinal", Anchored(r"(?i:meeting\s+of|réunion\s+d|reunión\s+de)", re.compile(
        rf"\b(?P<ord>{_ORD})\s+{_MEETING}\s+(?:of|de\s+la|du|de\s+l['’]|de|del)\s*(?:the\s+|la\s+|el\s+)?(?P<body>{_BODY})\b",
        re.IGNORECASE), 60, 200)),
    # the Conference of the Parties, at its second meeting; the SBI at its fourth meeting; at its fifteenth
    # meeting, the Conference of the Parties; la Conférence des Parties, à sa deuxième réunion; la
    # Conferencia de las Partes, en su segunda reunión — the body is read next to the words (see _read)
    ("meeting-at-its", Anchored(r"(?i:\b(?:at|à|en)\s+(?:its|sa|su)\s)", re.compile(
        rf"\b(?:[Aa]t|[Àà]|[Ee]n)\s+(?:its|sa|su)\s+(?P<ord>{_ORD})\s+{_MEETING}", re.IGNORECASE), 4, 60)),
]


@dataclass
class Reference:
    """One reference found in a text; ``iri`` and ``status`` are filled by :class:`Resolver`."""

    kind: str  # decision, article, target, meeting, document, recommendation
    key: str  # canonical form: "X/15", "15/16 para 9 (f)", "Article 18.3", "GBF target 3", "COP-12", "CBD/SBI/4/7"
    text: str  # as written
    start: int
    end: int
    parts: dict[str, str | int] = field(default_factory=dict)
    iri: str | None = None
    status: str = "unresolved"  # resolved | minted | unresolved
    note: str = ""


def _expand(items: str, pattern: str) -> list[str]:
    """"1–4 and 7" → ["1", "2", "3", "4", "7"]; lettered paragraphs are kept as written."""
    found = [(m.group(0), m.start(), m.end()) for m in re.finditer(pattern, items)]
    out: list[str] = []
    for i, (value, _start, end) in enumerate(found):
        out.append(value)
        if i + 1 < len(found):
            between = items[end:found[i + 1][1]]
            nxt = found[i + 1][0]
            if re.fullmatch(_THRU, between) and value.isdigit() and nxt.isdigit() and int(value) < int(nxt) <= int(value) + 50:
                out.extend(str(n) for n in range(int(value) + 1, int(nxt)))
    return out


def _para_key(p: str) -> str:
    """"9(f)" / "9 (f)" / "9 f)" → "9 (f)"."""
    m = re.fullmatch(r"(\d+)\s?\(?\s?([a-z]{1,4})?\s?\)?\s?(?:\(([ivx]+)\))?", p.strip())
    if not m:
        return p.strip()
    return m.group(1) + (f" ({m.group(2)})" if m.group(2) else "") + (f" ({m.group(3)})" if m.group(3) else "")


def _decision(sym_text: str) -> str | None:
    try:
        return parse_symbol(sym_text.replace(" ", "")).canonical
    except SymbolError:
        return None


def _document(symbol: str, start: int) -> list[Reference]:
    symbol = symbol.rstrip(".-")
    parts = symbol.split("/")
    upper = [p.upper() for p in parts]
    if "DEC" in upper:
        i = upper.index("DEC")
        tail = parts[i + 1:]
        body = "/".join(upper[:i])
        if len(tail) >= 2:
            prefix = "CP-" if ("CP" in body or "BS" in body) else "NP-" if "NP" in body else ""
            canonical = _decision(f"{prefix}{tail[0]}/{tail[1]}")
            if canonical:
                return [Reference("decision", canonical, symbol, start, start + len(symbol), {"symbol": canonical, "document": symbol})]
    if "REC" in upper:
        i = upper.index("REC")
        tail = parts[i + 1:]
        if len(tail) >= 2:
            return [Reference("recommendation", symbol, symbol, start, start + len(symbol), {"document": symbol})]
    if len(parts) < 3:
        return []
    return [Reference("document", symbol, symbol, start, start + len(symbol), {"document": symbol})]


def extract_references(text: str) -> list[Reference]:
    """Every reference in ``text``, in order of appearance; overlapping finds keep the first, longest."""
    found: list[Reference] = []
    starts: list[int] = []  # the spans taken so far, sorted and disjoint
    ends: list[int] = []

    def free(start: int, end: int) -> bool:
        i = bisect.bisect_right(starts, start)
        if i and ends[i - 1] > start:
            return False
        return i == len(starts) or starts[i] >= end

    for name, pattern in PATTERNS:
        for m in pattern.finditer(text):
            if not free(m.start(), m.end()):
                continue
            refs = _read(name, m)
            if refs:
                i = bisect.bisect_right(starts, m.start())
                starts.insert(i, m.start())
                ends.insert(i, m.end())
                found.extend(refs)
    found.sort(key=lambda r: r.start)  # stable: a list keeps its written order
    return found


def _read(name: str, m: re.Match[str]) -> list[Reference]:
    start, end, text = m.start(), m.end(), m.group(0)
    if name == "document":
        return _document(text, start)
    if name in ("annex-paragraphs", "decision-annex-paragraphs", "annex-of-decision", "decision-annex"):
        sym = _decision(m.group("sym"))
        if not sym:
            return []
        annex = m.group("annex") or ""
        head = f"{sym} annex" + (f" {annex}" if annex else "")
        if "paras" not in m.groupdict():
            return [Reference("decision", head, text, start, end, {"symbol": sym, "annex": annex})]
        return [Reference("decision", f"{head} para {_para_key(p)}", text, start, end,
                          {"symbol": sym, "annex": annex, "paragraph": _para_key(p)}) for p in _expand(m.group("paras"), _PARA)]
    if name in ("decision-paragraphs", "decision-then-paragraphs"):
        sym = _decision(m.group("sym"))
        if not sym:
            return []
        if name == "decision-then-paragraphs" and re.search(r"annex", text, re.IGNORECASE):
            return [Reference("decision", sym, text, start, end, {"symbol": sym})]
        paras = _expand(m.group("paras"), _PARA)
        return [Reference("decision", f"{sym} para {_para_key(p)}", text, start, end,
                          {"symbol": sym, "paragraph": _para_key(p)}) for p in paras]
    if name == "decisions":
        syms = [s for s in (_decision(x) for x in re.findall(_SYM, m.group("syms"))) if s]
        return [Reference("decision", s, text, start, end, {"symbol": s}) for s in syms]
    if name == "decision-symbol":
        sym = _decision(text)
        return [Reference("decision", sym, text, start, end, {"symbol": sym})] if sym else []
    if name == "article":
        instr = INSTRUMENTS.get((m.group("instr") or m.group("instr2") or "convention").lower(), "cbd")
        refs = []
        item_re = r"\d{1,2}(?:[.(]\s?[0-9a-z]{1,2}\)?|\s[a-z]\)|\s\(\d{1,2}\))?"
        items = re.findall(item_re, m.group("list"))
        numbers = _expand(m.group("list"), item_re) if len(items) > 1 else items
        for item in numbers:
            a = re.match(r"(\d{1,2})(?:\s?[.(\s]\s?([0-9a-z]{1,2})\)?)?", item)
            assert a is not None
            number, para = int(a.group(1)), a.group(2) or (m.group("para") if len(numbers) == 1 else None)
            key = f"Article {number}" + ((f".{para}" if para.isdigit() else f"({para})") if para else "")
            if instr != "cbd":
                key += f" of the {instr.capitalize()} Protocol"
            refs.append(Reference("article", key, text, start, end, {"article": number, "paragraph": para or "", "instrument": instr}))
        return refs
    if name == "paragraph-of-article":
        instr = INSTRUMENTS.get((m.group("instr") or m.group("instr2") or "convention").lower(), "cbd")
        number, para = int(m.group("art")), m.group("para")
        key = f"Article {number}.{para}" + (f" of the {instr.capitalize()} Protocol" if instr != "cbd" else "")
        return [Reference("article", key, text, start, end, {"article": number, "paragraph": para, "instrument": instr})]
    if name in ("aichi", "gbf", "gbf-of"):
        family = "aichi" if name == "aichi" else "gbf"
        nums = [n for n in _expand(m.group("list"), r"\d{1,2}") if 1 <= int(n) <= (20 if family == "aichi" else 23)]
        label = "Aichi Biodiversity Target" if family == "aichi" else "GBF target"
        return [Reference("target", f"{label} {n}", text, start, end, {"family": family, "number": int(n)}) for n in nums]
    if name == "meeting-code":
        body = BODY_CODES.get(re.sub(r"[\s-]+", "-", m.group("body").lower()), "cop")
        n = int(m.group("n"))
        return [Reference("meeting", f"{body.upper()}-{n}", text, start, end, {"body": body, "number": n})]
    if name == "meeting-at-its":
        body = _body_next_to(m.string, start, end)
        if not body:  # "the views expressed at its first meeting": whose meeting the text does not say here
            return []
        n = ORDINALS[" ".join(m.group("ord").lower().split())]
        return [Reference("meeting", f"{body.upper()}-{n}", text, start, end, {"body": body, "number": n})]
    if name == "meeting-ordinal":
        body = _body_key(m.group("body"))
        n = ORDINALS[" ".join(m.group("ord").lower().split())]
        return [Reference("meeting", f"{body.upper()}-{n}", text, start, end, {"body": body, "number": n})]
    if name == "recommendation":
        named = m.group("pre") or m.group("body2") or m.group("body3")
        body = _body_key(named) if named else _body_before(m.string, start) or _body_after(m.string, end)
        if body not in ("sbi", "sbstta", "wgri", "wg8j"):
            body = ""
        if not body:  # the body is not named: kept, but it cannot be resolved
            return [Reference("recommendation", f"recommendation {m.group('sym')}", text, start, end, {})]
        meeting, number = m.group("sym").split("/")
        try:
            meeting_n = int(meeting) if meeting.isdigit() else _roman(meeting)
        except SymbolError:  # "IIII/2": not a meeting number; kept as text, never resolved
            return [Reference("recommendation", f"recommendation {m.group('sym')}", text, start, end, {})]
        symbol = f"{body.upper()}-{meeting_n}/{int(number)}"
        doc = f"CBD/{body.upper()}/REC/{meeting_n}/{int(number)}"
        return [Reference("recommendation", symbol, text, start, end, {"document": doc, "body": body})]
    raise ValueError(name)


def _body_key(name: str) -> str:
    return BODY_NAMES.get(" ".join(name.lower().replace("’", "'").split()), BODY_NAMES.get(" ".join(name.lower().split()), ""))


_BODY_RE = re.compile(rf"\b(?:{_BODY})\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.;:!?]\s+(?=[A-Z«\"(])|\n\s*\n")


def _body_before(text: str, start: int) -> str:
    """The body a sentence names before ``start`` ("the Working Group …, in recommendation 5/11"), or ""."""
    window = text[max(0, start - 400):start]
    ends = list(_SENTENCE_END.finditer(window))
    if ends:
        window = window[ends[-1].end():]
    found = list(_BODY_RE.finditer(window))
    return _body_key(found[-1].group(0)) if found else ""


_BODY_BEFORE = re.compile(rf"(?P<body>{_BODY})(?:\s*\([A-Za-z0-9 -]{{2,12}}\))?\s*,?\s*(?:(?:in|en|dans)\s+\S+\s+)?$", re.IGNORECASE)
_BODY_AFTER = re.compile(rf"\s*,?\s*(?:[^.;]{{0,60}}?,\s*)?(?:the|la|el|le|l['’])\s*(?P<body>{_BODY})\b", re.IGNORECASE)


def _body_after(text: str, end: int) -> str:
    """The body named right after ("in its recommendation 3/13, the Subsidiary Body on Implementation"), or ""."""
    after = _BODY_AFTER.match(text, end, min(len(text), end + 400))
    return _body_key(after.group("body")) if after else ""


def _body_next_to(text: str, start: int, end: int) -> str:
    """The body whose meeting "at its … meeting" is: named right before ("the Conference of the Parties,
    at its …") or right after ("At its second meeting, in its decision II/3, the Conference of the Parties")."""
    before = _BODY_BEFORE.search(text[max(0, start - 320):start])
    if before:
        return _body_key(before.group("body"))
    return _body_after(text, end)


def _roman(text: str) -> int:
    from ontology.symbols import from_roman

    return from_roman(text)


class Resolver:
    """Maps references to the hub's IRIs; ``known`` is the set of IRIs the store describes."""

    def __init__(self, minter: Minter, known: Iterable[str]) -> None:
        self.m = minter
        self.known = set(known)

    def resolve(self, refs: list[Reference]) -> list[Reference]:
        for r in refs:
            self._one(r)
        return refs

    def _annex(self, r: Reference) -> None:
        """An annex, or a paragraph of it: the annex's own node when the hub has the decision's structure
        (an annex written without a number is the decision's only annex, "1" or "I")."""
        m, p = self.m, r.parts
        sym, para = str(p["symbol"]), str(p.get("paragraph") or "")
        annexes = [str(p["annex"])] if p.get("annex") else ["1", "I"]
        tries = []
        if para:
            tries += [(m.decision_annex(sym, a, para), "") for a in annexes]
            tries += [(m.decision_annex(sym, a, para.split(" ")[0]), f"sub-paragraph {para} not in the hub; linked to its paragraph")
                      for a in annexes if " " in para]
        tries += [(m.decision_annex(sym, a), f"paragraph {para} of the annex not in the hub; linked to the annex" if para else "")
                  for a in annexes]
        tries.append((m.decision(sym), f"the annex of decision {sym} is not in the hub; linked to the decision"))
        for iri, note in tries:
            if iri in self.known:
                r.iri, r.status, r.note = iri, "resolved", note
                return
        r.note = f"decision {sym} is not in the hub"

    def _one(self, r: Reference) -> None:
        m, p = self.m, r.parts
        if r.kind == "decision" and "annex" in p:
            self._annex(r)
        elif r.kind == "decision":
            whole = m.decision(str(p["symbol"]))
            if p.get("paragraph"):
                para = m.decision_paragraph(str(p["symbol"]), str(p["paragraph"]))
                if para in self.known:
                    r.iri, r.status = para, "resolved"
                    return
                top = m.decision_paragraph(str(p["symbol"]), str(p["paragraph"]).split(" ")[0])
                if top in self.known:
                    r.iri, r.status, r.note = top, "resolved", f"sub-paragraph {p['paragraph']} not in the hub; linked to its paragraph"
                    return
                if whole in self.known:
                    r.iri, r.status, r.note = whole, "resolved", f"paragraph {p['paragraph']} not in the hub; linked to the decision"
                    return
            if whole in self.known:
                r.iri, r.status = whole, "resolved"
            else:
                r.note = f"decision {p['symbol']} is not in the hub"
        elif r.kind == "article":
            instr = str(p["instrument"])
            whole = m.article(int(p["article"]), instrument=instr)
            if p.get("paragraph"):
                para = m.article(int(p["article"]), str(p["paragraph"]), instrument=instr)
                if para in self.known:
                    r.iri, r.status = para, "resolved"
                    return
                r.note = f"paragraph {p['paragraph']} of article {p['article']} not in the hub; linked to the article"
            if whole in self.known:
                r.iri, r.status = whole, "resolved"
            else:
                r.note = f"{r.key} is not in the hub"
        elif r.kind == "target":
            scheme = "aichi-targets" if p["family"] == "aichi" else "gbf-targets"
            iri = m.concept(scheme, f"target-{p['number']}")
            if iri in self.known:
                r.iri, r.status = iri, "resolved"
            else:
                r.note = f"{r.key} is not in the hub"
        elif r.kind == "meeting":
            iri = m.meeting(str(p["body"]), int(p["number"]))
            if iri in self.known:
                r.iri, r.status = iri, "resolved"
            else:
                r.note = f"meeting {r.key} is not in the hub"
        elif not p.get("document"):
            r.note = "the recommendation does not name its body"
        else:  # documents and recommendations are identified by their UN symbol: the hub mints their IRI
            r.iri = m.document(str(p["document"]))
            r.status = "resolved" if r.iri in self.known else "minted"
