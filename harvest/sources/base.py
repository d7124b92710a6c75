"""What a harvest source is: it lists and fetches records, and maps each to triples."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
import json
import re
from functools import lru_cache
from html import unescape
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import pyoxigraph as ox
from bs4 import BeautifulSoup

from harvest.client import Client
from loaders.triples import TripleSet, iri, lit
from ontology import DCTERMS, RDF, RDFS, SKOS, XSD
from ontology.iris import Minter
from harvest.state import Known

LANGS = ("en", "fr", "es", "ar", "ru", "zh")


@dataclass
class Item:
    """One record as fetched. ``payload`` None with ``unchanged`` True: the source said it has not changed."""

    key: str
    payload: Any = None
    revision: str | None = None
    etag: str | None = None
    modified: str | None = None
    url: str = ""
    unchanged: bool = False
    error: str | None = None  # fetched but unusable (an HTTP error after retries, a body that is not a record)
    cursor: Any = None  # where a resumed run starts to see this item again


@dataclass
class FetchContext:
    since: datetime | None = None
    full: bool = False
    limit: int | None = None
    known: dict[str, Known] = field(default_factory=dict)
    cursor: Any = None  # a checkpoint to resume from
    options: dict[str, str] = field(default_factory=dict)


@dataclass
class Mapped:
    """A record's triples: its own (about the nodes it owns) and shared ones (schemes, concepts, actors)
    that other records may state too."""

    own: TripleSet = field(default_factory=TripleSet)
    shared: TripleSet = field(default_factory=TripleSet)
    subjects: list[str] = field(default_factory=list)


class Source(ABC):
    name: ClassVar[str]
    title: ClassVar[str]
    default_url: ClassVar[str]
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, base: str, options: dict[str, str] | None = None) -> None:
        self.m = Minter(base)
        self.options = options or {}

    @abstractmethod
    def items(self, client: Client, ctx: FetchContext) -> Iterator[Item]:
        """The source's records, in a stable order, each with the cursor a resumed run restarts from."""

    @abstractmethod
    def map(self, item: Item) -> Mapped:
        """A fetched record's triples under the hub's IRIs; a ChmError names why it cannot be mapped."""

    # helpers the sources share
    def provenance(self, mapped: Mapped, node: str, identifier: str, url: str | None, revision: str | None = None) -> None:
        mapped.own.add(node, DCTERMS.identifier, lit(identifier))
        if url and re.match(r"^https?://[^\s<>\"{}|\\^`]+$", url):
            mapped.own.add(node, RDFS.seeAlso, iri(url))
        if revision:
            from ontology import CHM

            mapped.own.add(node, CHM.sourceRevision, lit(revision))


@lru_cache(maxsize=1024)
def _language(code: str) -> bool:
    return re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]+)*", code) is not None


def lstrings(value: Any) -> list[tuple[str, str]]:
    """``{"en": "…", "fr": "…"}`` → [(lang, text)] for the non-empty texts with a language code."""
    if isinstance(value, dict):
        return [(lang.lower(), " ".join(text.split())) for lang, text in value.items()
                if isinstance(lang, str) and _language(lang) and isinstance(text, str) and text.strip()]
    return []


_TAG = re.compile(r"<[^<>]*>")
_INLINE = re.compile(r"</?(?:em|strong|b|i|u|span|sup|sub|a)\b[^<>]*>", re.I)
_HIDDEN = re.compile(r"<(script|style|template)\b.*?</\1\s*>", re.I | re.S)
# possessive (Python ≥ 3.11): runs of text are taken whole and never given back, so a fragment is read once
_SIMPLE = re.compile(r"^(?:[^<>&]++|<(?:/?(?:p|em|strong|b|i|u|span|sup|sub|br|a|li|ul|ol|div|h[1-6])\b[^<>]*+)>|&[#\w]++;)*+$", re.I)


def html_text(html: str) -> str:
    """Visible text of an HTML fragment, whitespace collapsed. The decision tracker's fragments (p, em,
    strong, a, lists …) take a fast path; anything else goes through BeautifulSoup."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    if _SIMPLE.match(html):
        return " ".join(unescape(_TAG.sub(" ", _INLINE.sub("", html))).split())
    return " ".join(BeautifulSoup(_HIDDEN.sub(" ", html), "html.parser").get_text(" ").split())


def strings(value: Any) -> list[str]:
    """A list of strings from a value that may be a list, one string, or a comma-separated string."""
    if isinstance(value, list):
        return [v.strip() for v in value if isinstance(v, str) and v.strip()]
    if isinstance(value, str) and value.strip():
        return [v.strip() for v in value.split(",") if v.strip()]
    return []


def digest(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


def date_literal(value: Any) -> ox.Literal | None:
    """An xsd:date or xsd:dateTime from an ISO string, or OData's ``/Date(ms)/``."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    odata = re.fullmatch(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/", value)
    if odata:
        from datetime import timezone

        when = datetime.fromtimestamp(int(odata.group(1)) / 1000, tz=timezone.utc)
        return lit(when.strftime("%Y-%m-%dT%H:%M:%SZ"), datatype=XSD.dateTime)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return lit(value, datatype=XSD.date)
    m = re.fullmatch(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", value)
    if m:
        time = m.group(2) if len(m.group(2)) == 8 else m.group(2) + ":00"
        zone = m.group(4) or ""
        if zone and zone != "Z" and ":" not in zone:
            zone = zone[:3] + ":" + zone[3:]
        return lit(f"{m.group(1)}T{time}{zone}", datatype=XSD.dateTime)
    return None


def record_type(m: Minter, t: TripleSet, code: str, label: str) -> str:
    """The record-type concept (shared triples), as the CHM record reader makes it."""
    c = m.concept("record-type", code)
    t.add(c, RDF.type, SKOS.Concept)
    t.add(c, SKOS.inScheme, m.scheme("record-type"))
    t.add(c, SKOS.prefLabel, lit(label, "en"))
    t.add(m.scheme("record-type"), RDF.type, SKOS.ConceptScheme)
    t.add(m.scheme("record-type"), SKOS.prefLabel, lit("CHM record types", "en"))
    return c


def subject_concept(m: Minter, t: TripleSet, identifier: str) -> str:
    """A CBD thesaurus term (CBD-SUBJECT-…, or any domain's identifier) as the hub's concept; targets and
    goals resolve to the hub's Aichi and KMGBF concepts."""
    from loaders.chm_records import cbd_subject, term_concept

    return term_concept(m, identifier) or cbd_subject(m, t, identifier)
