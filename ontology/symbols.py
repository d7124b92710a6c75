"""Decision symbols in the CBD grammar.

Roman numerals for COP 1–13 (X/15), Arabic from COP 14 (15/16); Cartagena Protocol decisions
BS-I … BS-VIII, then CP-9 onward; Nagoya Protocol NP-1 onward. One canonical form per decision,
whichever way a text writes it:

>>> parse_symbol("decision 10/15").canonical
'X/15'
>>> parse_symbol("COP 15 decision 16").canonical
'15/16'
>>> parse_symbol("BS-5/3").canonical, parse_symbol("CP-10/2").path
('BS-V/3', 'cp/10/2')
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass

from ontology.errors import SymbolError

_ROMAN = [(10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}

BODIES = {"cop": "COP", "cp": "COP-MOP (Cartagena)", "np": "COP-MOP (Nagoya)"}


def to_roman(n: int) -> str:
    """Roman numeral for 1 ≤ n < 40."""
    if not 1 <= n < 40:
        raise SymbolError(f"no Roman numeral for {n} in the CBD symbol grammar")
    out = []
    for value, letters in _ROMAN:
        while n >= value:
            out.append(letters)
            n -= value
    return "".join(out)


def from_roman(text: str) -> int:
    """Integer value of a Roman numeral (I … XXXIX); raises SymbolError on anything else."""
    text = text.upper()
    if not text or not re.fullmatch(r"X{0,3}(IX|IV|V?I{0,3})", text):
        raise SymbolError(f"{text!r} is not a Roman numeral")
    total = 0
    for i, ch in enumerate(text):
        v = _ROMAN_VALUES[ch]
        nxt = _ROMAN_VALUES[text[i + 1]] if i + 1 < len(text) else 0
        total += -v if v < nxt else v
    return total


@dataclass(frozen=True)
class Symbol:
    """A decision symbol: the governing body, its meeting number and the decision number."""

    body: str  # "cop", "cp" (Cartagena) or "np" (Nagoya)
    meeting: int
    number: int

    @property
    def canonical(self) -> str:
        if self.body == "cop":
            m = to_roman(self.meeting) if self.meeting <= 13 else str(self.meeting)
            return f"{m}/{self.number}"
        if self.body == "cp":
            if self.meeting <= 8:
                return f"BS-{to_roman(self.meeting)}/{self.number}"
            return f"CP-{self.meeting}/{self.number}"
        return f"NP-{self.meeting}/{self.number}"

    @property
    def path(self) -> str:
        """The path segment of the decision's IRI, e.g. ``cop/10/15``."""
        return f"{self.body}/{self.meeting}/{self.number}"


# "X/15", "10/15", "BS-V/3", "CP-10/2", "NP-2/4", "XV/8" (seeds write COP 15 decisions in Roman too)
_SHORT = re.compile(
    r"^(?:(?P<pfx>BS|CP|NP)\s*-\s*)?(?P<meeting>[IVX]+|\d{1,2})\s*/\s*(?P<number>\d{1,3})$", re.I
)
# "COP 10 decision 15", "COP-10 decision 15"
_LONG = re.compile(r"^(?P<pfx>COP|CP|NP|BS)[\s-]*(?P<meeting>[IVX]+|\d{1,2})\s+decision\s+(?P<number>\d{1,3})$", re.I)
_BODY_OF_PREFIX = {None: "cop", "COP": "cop", "BS": "cp", "CP": "cp", "NP": "np"}


@lru_cache(maxsize=8192)
def parse_symbol(text: str) -> Symbol:
    """Parse a decision symbol written in any of the forms the texts use (a Symbol is frozen: the parse is cached)."""
    raw = " ".join(text.split())
    s = re.sub(r"^(?:decisions?|d[ée]cision|decisi[oó]n)\s+", "", raw, flags=re.I)
    m = _SHORT.match(s) or _LONG.match(s)
    if not m:
        raise SymbolError(f"{text!r} is not a decision symbol (expected forms like X/15, 15/16, BS-V/3, CP-10/2, NP-2/4)")
    pfx = m.group("pfx").upper() if m.group("pfx") else None
    body = _BODY_OF_PREFIX[pfx]
    meeting_text = m.group("meeting")
    meeting = int(meeting_text) if meeting_text.isdigit() else from_roman(meeting_text)
    number = int(m.group("number"))
    if meeting < 1 or number < 1:
        raise SymbolError(f"{text!r}: meeting and decision numbers start at 1")
    return Symbol(body, meeting, number)


# The grammar of a canonical symbol, used by the shapes (sh:pattern) and the tests.
CANONICAL_PATTERN = (
    r"^((I|II|III|IV|V|VI|VII|VIII|IX|X|XI|XII|XIII)/[1-9][0-9]*"
    r"|(1[4-9]|[2-9][0-9])/[1-9][0-9]*"
    r"|BS-(I|II|III|IV|V|VI|VII|VIII)/[1-9][0-9]*"
    r"|CP-(9|[1-9][0-9])/[1-9][0-9]*"
    r"|NP-[1-9][0-9]*/[1-9][0-9]*)$"
)


def is_canonical(symbol: str) -> bool:
    return re.fullmatch(CANONICAL_PATTERN, symbol) is not None
