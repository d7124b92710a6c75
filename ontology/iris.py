"""Minting the hub's IRIs: readable paths under one configurable base.

>>> m = Minter("http://127.0.0.1:8000/")
>>> m.decision("X/15")
'http://127.0.0.1:8000/decision/cop/10/15'
>>> m.decision_paragraph("XI/2", "14 (a)")
'http://127.0.0.1:8000/decision/cop/11/2/para/14-a'
>>> m.article(18, 3)
'http://127.0.0.1:8000/instrument/cbd/article/18/para/3'
"""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import quote

from ontology.errors import ChmError
from ontology.symbols import parse_symbol


@lru_cache(maxsize=65536)
def _segment(value: str) -> str:
    return quote(value, safe="-._~")


@lru_cache(maxsize=65536)
def slug(text: str) -> str:
    """A lowercase path segment: letters, digits and hyphens."""
    s = re.sub(r"[^0-9a-z]+", "-", text.lower()).strip("-")
    if not s:
        raise ChmError(f"cannot make an IRI segment from {text!r}")
    return s


@lru_cache(maxsize=65536)
def paragraph_slug(para: str) -> str:
    """``"14 (a)"`` → ``"14-a"``, ``"9(f)"`` → ``"9-f"``, ``"1"`` → ``"1"``."""
    return slug(para.replace("(", " ").replace(")", " "))


class Minter:
    """Mints IRIs for every kind of entity the hub holds."""

    def __init__(self, base: str) -> None:
        if not re.match(r"^https?://[^\s/]+(/[^\s]*)?$", base):
            raise ChmError(f"the base IRI must be an absolute http(s) IRI, got {base!r}")
        self.base = base if base.endswith("/") else base + "/"

    def _iri(self, *segments: str | int) -> str:
        return self.base + "/".join(_segment(str(s)) for s in segments)

    # instruments and articles
    def instrument(self, code: str) -> str:
        return self._iri("instrument", code)

    def article(self, number: int, paragraph: int | str | None = None, instrument: str = "cbd") -> str:
        if paragraph is None:
            return self._iri("instrument", instrument, "article", number)
        return self._iri("instrument", instrument, "article", number, "para", paragraph_slug(str(paragraph)))

    # decisions
    def decision(self, symbol: str) -> str:
        return self.base + "decision/" + parse_symbol(symbol).path

    def decision_paragraph(self, symbol: str, paragraph: str) -> str:
        return self.decision(symbol) + "/para/" + paragraph_slug(paragraph)

    def decision_section(self, symbol: str, section: str) -> str:
        return self.decision(symbol) + "/section/" + slug(section)

    def decision_annex(self, symbol: str, annex: int | str, paragraph: str | None = None) -> str:
        node = self.decision(symbol) + "/annex/" + slug(str(annex))
        return node + "/para/" + paragraph_slug(paragraph) if paragraph else node

    def decision_preamble(self, symbol: str, index: int) -> str:
        return self.decision(symbol) + f"/preamble/{int(index)}"

    def request(self, symbol: str, paragraph: str, index: int = 1) -> str:
        return self.decision_paragraph(symbol, paragraph) + f"/request/{index}"

    def act(self, element: str, index: int = 1) -> str:
        """The n-th act of a decision element (an IRI the element minted): ``…/para/3/act/1``."""
        return f"{element}/act/{int(index)}"

    def status_assessment(self, element: str) -> str:
        """The derived tracking status of a decision or element: ``…/para/3/status``."""
        return f"{element}/status"

    # meetings and bodies
    def meeting(self, body: str, number: int) -> str:
        return self._iri("meeting", slug(body), number)

    def actor(self, key: str) -> str:
        return self._iri("actor", slug(key))

    def network(self, key: str) -> str:
        return self._iri("network", slug(key))

    def membership(self, network: str, member: str) -> str:
        return self._iri("network", slug(network), "member", slug(member))

    def place(self, key: str) -> str:
        return self._iri("place", slug(key))

    # schemes and concepts
    def scheme(self, key: str) -> str:
        return self._iri("scheme", slug(key))

    def concept(self, scheme: str, key: str) -> str:
        return self._iri("scheme", slug(scheme), slug(key))

    # work programmes
    def work_programme(self, key: str) -> str:
        return self._iri("work-programme", slug(key))

    def wp_part(self, programme: str, kind: str, code: str) -> str:
        return self._iri("work-programme", slug(programme), kind, slug(code))

    # records, graphs, documents
    def record(self, key: str) -> str:
        return self._iri("record", slug(key))

    def document(self, symbol: str) -> str:
        return self._iri("document", slug(symbol))

    def country(self, code: str) -> str:
        """A State or territory by its ISO 3166-1 two-letter code (``country/co``)."""
        return self._iri("country", slug(code))

    def party_membership(self, code: str, instrument: str) -> str:
        """A country's membership of the Parties to an instrument (``country/co/party/cbd``)."""
        return self.country(code) + "/party/" + slug(instrument)

    def form(self, key: str, *parts: str) -> str:
        return self._iri("form", slug(key), *(slug(p) for p in parts))

    def notification(self, number: str) -> str:
        return self._iri("notification", slug(number))

    def graph(self, name: str) -> str:
        return self._iri("graph", slug(name))

    def tool(self, key: str) -> str:
        return self._iri("tool", slug(key))
