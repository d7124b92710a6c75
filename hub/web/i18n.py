"""Languages of the pages: the interface in the six UN languages (gettext catalogues read with Babel);
labels picked by language with fallback.

The language comes from ``?lang=``, then the ``lang`` cookie the language switch sets, then
``Accept-Language``; English when none of them names a supported language.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pyoxigraph as ox

LANGS = ("en", "fr", "es", "ar", "ru", "zh")  # the six UN languages
DEFAULT = "en"
RTL = frozenset({"ar"})
LANG_NAMES = {"en": "English", "fr": "Français", "es": "Español", "ar": "العربية", "ru": "Русский", "zh": "中文"}

# the interface's words: one gettext catalogue per language (hub/web/locale/<lang>/LC_MESSAGES/messages.po),
# each message with its key as context (msgctxt), the English text as msgid and the translation as msgstr
LOCALE_DIR = "locale"


def read_catalogue(lang: str) -> dict[str, str]:
    """The translated messages of ``lang`` by key (empty and fuzzy translations left out)."""
    from babel.messages.pofile import read_po

    with files("hub.web").joinpath(LOCALE_DIR, lang, "LC_MESSAGES", "messages.po").open("rb") as f:
        catalogue = read_po(f, locale=lang)
    return {m.context: m.string for m in catalogue if m.id and m.context and m.string and not m.fuzzy}


def _interface() -> dict[str, dict[str, str]]:
    english = read_catalogue(DEFAULT)
    # a message not yet translated shows in English (tests/test_i18n.py fails while one is missing)
    return {lang: english if lang == DEFAULT else {**english, **read_catalogue(lang)} for lang in LANGS}


UI: dict[str, dict[str, str]] = _interface()


def direction(lang: str) -> str:
    return "rtl" if lang in RTL else "ltr"


def choose(query_lang: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query_lang, cookie):
        if candidate and candidate.lower() in LANGS:
            return candidate.lower()
    best: tuple[float, str] | None = None
    for part in (accept_language or "").split(","):
        bits = part.strip().split(";")
        tag = bits[0].strip().lower().split("-")[0]
        q = 1.0
        for b in bits[1:]:
            if b.strip().startswith("q="):
                try:
                    q = float(b.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag in LANGS and q > 0 and (best is None or q > best[0]):
            best = (q, tag)
    return best[1] if best else DEFAULT


def pick(values: list[ox.Literal], lang: str) -> ox.Literal | None:
    """The value in ``lang``, else English, else one without a language, else any."""
    by_lang: dict[str, ox.Literal] = {}
    for v in values:
        by_lang.setdefault(v.language or "", v)
    for key in (lang, DEFAULT, ""):
        if key in by_lang:
            return by_lang[key]
    return values[0] if values else None


@lru_cache(maxsize=1)
def ontology_labels() -> dict[str, dict[str, str]]:
    """rdfs:label of every class and property declared in ontology/chm.ttl, by language."""
    data = files("ontology").joinpath("chm.ttl").read_bytes()
    out: dict[str, dict[str, str]] = {}
    for t in ox.parse(data, ox.RdfFormat.TURTLE):
        if t.predicate.value == "http://www.w3.org/2000/01/rdf-schema#label" and isinstance(t.object, ox.Literal):
            out.setdefault(t.subject.value, {})[t.object.language or ""] = t.object.value
    return out


def term_label(iri: str, lang: str) -> str:
    labels = ontology_labels().get(iri)
    if labels:
        return labels.get(lang) or labels.get(DEFAULT) or next(iter(labels.values()))
    tail = iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1]
    return tail.replace("_", " ")
