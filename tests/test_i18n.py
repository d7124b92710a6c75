"""The interface in the six UN languages: one gettext catalogue per language (read with Babel), every
message translated in every catalogue, every word a template or a view uses present in them, and no
untranslated text written into the public templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from hub.web import i18n

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "hub" / "web"
TEMPLATES = WEB / "templates"
# every page: what visitors see and the editors' and administrators' tools
PAGES = sorted(p.stem for p in TEMPLATES.glob("*.html"))
NOT_WORDS = {"SPARQL", "CSV", "JSON", "txt", "md", "html", "pdf", "docx", "MB", "PROV", "Turtle", "Triples"}  # names, not words


def catalogue(lang: str):
    with (WEB / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f, locale=lang)


def messages(lang: str) -> dict[str, tuple[str, str]]:
    """key → (English msgid, translation) of the catalogue of ``lang``."""
    return {m.context: (m.id, m.string) for m in catalogue(lang) if m.id and m.context}


def used_keys() -> tuple[set[str], set[str]]:
    """The message keys the templates and the web layer's code use, and the prefixes of keys they build."""
    keys: set[str] = set()
    prefixes: set[str] = set()
    for p in TEMPLATES.glob("*.html"):
        src = p.read_text(encoding="utf-8")
        keys |= set(re.findall(r"\bt\.([a-z_][a-z0-9_]*)", src)) - {"get"}
        keys |= set(re.findall(r"""\bt(?:\[|\.get\()['"]([^'"]+)['"]\s*[\],)]""", src))
        prefixes |= set(re.findall(r"""\bt(?:\[|\.get\()['"]([^'"]+)['"]\s*\+""", src))
    for p in WEB.rglob("*.py"):
        src = p.read_text(encoding="utf-8")
        keys |= set(re.findall(r"""\b(?:ui|t)\[["']([a-z_][a-z0-9_ -]*)["']\]""", src))
        keys |= set(re.findall(r"""["']ui:([a-z_]+)["']""", src))  # breadcrumbs name their index by key
    return keys, prefixes


def test_there_are_six_catalogues_each_in_its_language():
    assert i18n.LANGS == ("en", "fr", "es", "ar", "ru", "zh")
    for lang in i18n.LANGS:
        cat = catalogue(lang)
        assert str(cat.locale) == lang and len(cat) > 200
    assert i18n.direction("ar") == "rtl" and i18n.direction("zh") == "ltr"


@pytest.mark.parametrize("lang", [x for x in i18n.LANGS if x != "en"])
def test_every_message_is_translated_in_every_catalogue_with_its_placeholders(lang):
    english, other = messages("en"), messages(lang)
    assert set(other) == set(english), sorted(set(english) ^ set(other))
    untranslated = [k for k, (_id, text) in other.items() if not text.strip()]
    assert not untranslated, untranslated
    fuzzy = [m.context for m in catalogue(lang) if m.id and m.fuzzy]
    assert not fuzzy, fuzzy
    for key, (msgid, text) in other.items():
        assert msgid == english[key][0], key  # the same English source in every catalogue
        assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", msgid)), (key, text)
        if lang in ("ar", "ru", "zh") and re.search(r"[A-Za-z]{4,}", msgid) and key not in ("editor", "search_label", "add_subject",
                                                                                              "countries_field", "party_source", "review_keys"):
            assert not re.fullmatch(r"[\x00-\x7f…–—’]+", text), (key, text)  # written in its own script, not left in English


def test_every_word_the_templates_and_views_use_is_in_every_catalogue():
    keys, prefixes = used_keys()
    assert {"hub", "dashboard", "fallback", "st_active"} <= keys | {p + "active" for p in prefixes}
    assert {"st_", "k_"} <= prefixes
    for lang in i18n.LANGS:
        have = {k for k, (_id, text) in messages(lang).items() if text.strip()} if lang != "en" else set(messages("en"))
        missing = sorted(keys - have)
        assert not missing, f"{lang}: {missing}"
    from hub.tracking import STATUSES

    for lang in i18n.LANGS:
        assert all("st_" + s in i18n.UI[lang] for s in STATUSES)


def _literal_text(src: str) -> list[str]:
    s = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", src, flags=re.S)
    s = re.sub(r"<script.*?</script>|<code>.*?</code>|<pre[^>]*>.*?</pre>|<textarea[^>]*>.*?</textarea>", " ", s, flags=re.S)  # code is not prose
    found: list[str] = []

    class Reader(HTMLParser):
        def handle_data(self, data: str) -> None:
            found.extend(w for w in re.findall(r"[^\W\d_]{3,}", data) if w not in NOT_WORDS)

        def handle_starttag(self, tag: str, attrs: list) -> None:
            for name, value in attrs:
                if name in ("title", "aria-label", "alt") and value:  # a placeholder shows an example value
                    found.extend(w for w in re.findall(r"[^\W\d_]{3,}", value) if w not in NOT_WORDS and not value.startswith("http"))
    Reader().feed(s)
    return found


@pytest.mark.parametrize("name", PAGES)
def test_templates_write_no_words_outside_the_catalogues(name):
    assert _literal_text((TEMPLATES / f"{name}.html").read_text(encoding="utf-8")) == []


def test_the_literal_text_check_finds_words():
    assert _literal_text('<p>{{ t.hub }} Thesaurus changes</p><a aria-label="breadcrumb">JSON</a>') == ["Thesaurus", "changes", "breadcrumb"]
    assert _literal_text("<p><code>chmkg harvest SOURCE</code> {{ t.run }}</p>") == []
    assert len(PAGES) >= 25
