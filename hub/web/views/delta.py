"""A thesaurus change as an editor reads it: one row per removed or added statement, with the
property by its name and the value as text (with its language) or as a link, instead of N-Triples."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox

from hub.web.i18n import term_label


@dataclass
class DeltaRow:
    sign: str           # "−" removed, "+" added
    property: str       # the property's name ("" when the line could not be read)
    value: str
    href: str | None = None
    lang: str | None = None
    raw: str = ""       # the N-Triples line


def delta_rows(removed: list[str], added: list[str], lang: str) -> list[DeltaRow]:
    rows: list[DeltaRow] = []
    for sign, lines in (("−", removed), ("+", added)):
        for line in lines:
            try:
                triples = list(ox.parse(line.encode("utf-8"), ox.RdfFormat.N_TRIPLES))
            except (SyntaxError, ValueError):
                triples = []
            if len(triples) != 1:
                rows.append(DeltaRow(sign, "", line, raw=line))
                continue
            t = triples[0]
            o = t.object
            rows.append(DeltaRow(sign, term_label(t.predicate.value, lang), o.value,
                                 href=o.value if isinstance(o, ox.NamedNode) else None,
                                 lang=o.language if isinstance(o, ox.Literal) else None, raw=line))
    return rows


def delta_iris(changes) -> set[str]:
    """The IRIs the changes' statements point at (for their labels)."""
    return {r.href for c in changes for r in delta_rows(c.removed, c.added, "en") if r.href}


__all__ = ["DeltaRow", "delta_iris", "delta_rows"]
