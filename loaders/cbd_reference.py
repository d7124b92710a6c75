"""Readers for ../shared/data/cbd-reference: target texts and the Convention's article texts.

They attach the full official texts (``chm:fullText``) to the bundled target concepts and
articles, read from the source files at load time (the texts are never copied into the repo).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from writes.ingest import ParsedSource, checksum
from loaders.rdf import read_bytes
from loaders.triples import TripleSet, lit
from ontology import CHM, ELI, RDF, SKOS
from ontology.errors import SourceError
from ontology.iris import Minter

_PARAGRAPH = re.compile(r"(?m)^\s*(\d+)\.\s+")
_LETTERED = re.compile(r"(?m)^\s*\(?([a-z])\)\s*")


def _json(path: Path) -> object:
    try:
        return json.loads(read_bytes(path))
    except json.JSONDecodeError as e:
        raise SourceError(f"{path}: not valid JSON (line {e.lineno}, column {e.colno}: {e.msg})") from None


def read_targets(folder: Path, base: str) -> ParsedSource:
    """Full texts of the Aichi goals and targets and of the KMGBF goals and targets."""
    folder = Path(folder)
    m = Minter(base)
    t = TripleSet()
    raw = b""
    names = ("aichi_strategic_goals.json", "aichi_targets_short_text.json", "gbf_goals.json", "gbf_targets.json")
    for name in names:
        raw += read_bytes(folder / name)
    goals = _json(folder / "aichi_strategic_goals.json")
    for g in goals["goals"]:  # type: ignore[index]
        t.add(m.concept("aichi-targets", f"goal-{g['goal']}"), CHM.fullText, lit(g["text"]["en"], "en"))
    for item in _json(folder / "aichi_targets_short_text.json"):  # type: ignore[union-attr]
        t.add(m.concept("aichi-targets", f"target-{int(item['index'])}"), CHM.fullText, lit(item["description"], "en"))
    for item in _json(folder / "gbf_goals.json"):  # type: ignore[union-attr]
        code = item["identifier"].rsplit("-", 1)[1]
        text = (item.get("longDescription") or {}).get("en") or item.get("description")
        t.add(m.concept("gbf-targets", f"goal-{code}"), CHM.fullText, lit(text, "en"))
    for item in _json(folder / "gbf_targets.json"):  # type: ignore[union-attr]
        number = int(item["identifier"].rsplit("-", 1)[1])
        text = (item.get("longDescription") or {}).get("en") or item.get("description")
        t.add(m.concept("gbf-targets", f"target-{number}"), CHM.fullText, lit(text, "en"))
        for lang, short in (item.get("shortTitle") or {}).items():
            if lang != "en":
                t.add(m.concept("gbf-targets", f"target-{number}"), SKOS.altLabel, lit(short, lang))
    return ParsedSource("targets-text", "cbd-targets", str(folder), checksum(raw + m.base.encode()), t.ntriples(),
                        "Full texts of the Aichi and KMGBF goals and targets")


def split_paragraphs(text: str) -> list[tuple[str, str]]:
    """Numbered paragraphs ``1.  …`` of an article text, else its lettered items ``a) …`` (Article 8(j)
    is item j of Article 8); [] when the article has neither."""
    starts = list(_PARAGRAPH.finditer(text))
    if not starts or starts[0].group(1) != "1":
        starts = list(_LETTERED.finditer(text))
        if not starts or starts[0].group(1) != "a":
            return []
    out = []
    for i, match in enumerate(starts):
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        out.append((match.group(1), text[match.end():end].strip()))
    return out


def read_convention(folder: Path, base: str) -> ParsedSource:
    """Article texts of the Convention (and their numbered paragraphs) from cbd_articles_en.json."""
    path = Path(folder) / "cbd_articles_en.json"
    data = _json(path)
    m = Minter(base)
    t = TripleSet()
    articles = data.get("articles") if isinstance(data, dict) else None
    if not articles:
        raise SourceError(f"{path}: no 'articles' list")
    for art in articles:
        number = int(art["number"])
        a = m.article(number)
        t.add(a, CHM.fullText, lit(art["text"].strip(), "en"))
        for para, text in split_paragraphs(art["text"]):
            p = m.article(number, para)
            t.add(p, RDF.type, ELI.LegalResourceSubdivision)
            t.add(p, RDF.type, CHM.ArticleParagraph)
            t.add(p, ELI.number, lit(para))
            t.add(p, ELI.is_part_of, a)
            t.add(a, ELI.has_part, p)
            t.add(p, CHM.fullText, lit(text, "en"))
    return ParsedSource("convention-text", "convention-text", str(path), checksum(read_bytes(path) + m.base.encode()),
                        t.ntriples(), "Text of the Convention on Biological Diversity, by article and paragraph")
