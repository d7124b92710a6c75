"""The decision-tracking vocabularies the project writes: the acts a decision element performs
(``ontology/data/acts.csv``) and the actors it is addressed to (``ontology/data/decision_actors.csv``,
the 41 codes of the CBD decision-tracking tool with labels and the ways texts name them in English,
French and Spanish).

Both the loaders (which publish them as SKOS schemes) and the text classifier
(:mod:`tagging.structure`) read them from here, so the concept a classified act points at is the
concept the graph holds.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

LANGS = ("en", "fr", "es")


@dataclass(frozen=True)
class ActKind:
    code: str
    labels: dict[str, str]
    addresses: str          # "yes": the act is addressed to actors; "that": only "decides that X shall"; "" none
    link: str               # the specific property linking the element to what it acts on ("chm:establishes") or ""
    forms: dict[str, tuple[str, ...]]      # operative forms per language ("requests", "also requests" …)
    preamble: dict[str, tuple[str, ...]]   # participles of preambular paragraphs ("recalling" …)


@dataclass(frozen=True)
class TrackingActor:
    code: str               # the decision-tracking tool's code (``executive-secretary``, ``SBSTTA`` …)
    actor: str              # the hub's actor key (``actor/<key>``)
    kind: str               # body, organization, post, collective
    labels: dict[str, str]
    patterns: dict[str, tuple[str, ...]]


def _rows(name: str) -> list[dict[str, str]]:
    text = files("ontology").joinpath("data", name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _split(value: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in value.split("|") if v.strip())


@cache
def act_kinds() -> dict[str, ActKind]:
    out = {}
    for r in _rows("acts.csv"):
        out[r["code"]] = ActKind(r["code"], {lang: r[lang] for lang in LANGS}, r["addresses"], r["link"],
                                 {lang: _split(r[f"forms_{lang}"]) for lang in LANGS},
                                 {lang: _split(r[f"preamble_{lang}"]) for lang in LANGS})
    return out


@cache
def tracking_actors() -> dict[str, TrackingActor]:
    out = {}
    for r in _rows("decision_actors.csv"):
        out[r["code"]] = TrackingActor(r["code"], r["actor"], r["kind"], {lang: r[lang] for lang in LANGS},
                                       {lang: _split(r[f"patterns_{lang}"]) for lang in LANGS})
    return out


@cache
def actor_by_code() -> dict[str, TrackingActor]:
    """Codes as the tracker and harvested trees write them, case-insensitively (``sbstta`` = ``SBSTTA``)."""
    return {code.lower(): a for code, a in tracking_actors().items()}


def actor_key(code: str) -> str | None:
    """The hub's actor key for a decision-tracking actor code, or None when the code is unknown."""
    a = actor_by_code().get(code.strip().lower())
    return a.actor if a else None
