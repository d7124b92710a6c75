"""Named queries kept as .rq files in ``sparql/queries``.

Each file starts with a header of ``#`` comments::

    # title: Decision lineage upward
    # description: What a decision recalls, amends, supersedes … back to the articles.
    # param: decision iri — the decision to start from
    # columns: source kind target

Parameters are typed (iri, string, int) and bound, never pasted into the query text.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files

import pyoxigraph as ox

from ontology.errors import BadParameter, UnknownQueryError
from ontology.errors import InvalidIri
from sparql.builder import iri
from sparql.store import Row, Store
from sparql.terms import Term

log = logging.getLogger(__name__)
TYPES = ("iri", "string", "int")


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    description: str
    required: bool = True


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    description: str
    text: str
    params: tuple[Param, ...] = field(default_factory=tuple)
    columns: tuple[str, ...] = field(default_factory=tuple)

    def bind(self, values: dict[str, str]) -> dict[str, Term]:
        unknown = set(values) - {p.name for p in self.params}
        if unknown:
            raise BadParameter(f"query {self.name!r} has no parameter {', '.join(sorted(unknown))}")
        out: dict[str, Term] = {}
        for p in self.params:
            if p.name not in values:
                if p.required:
                    raise BadParameter(f"query {self.name!r} needs the parameter {p.name!r} ({p.type})")
                continue
            raw = values[p.name]
            if p.type == "iri":
                try:
                    out[p.name] = iri(raw, "value")
                except InvalidIri as e:
                    raise BadParameter(f"parameter {p.name!r} must be an IRI: {e.message}") from None
            elif p.type == "int":
                if not re.fullmatch(r"-?\d+", raw):
                    raise BadParameter(f"parameter {p.name!r} must be an integer, got {raw!r}")
                out[p.name] = ox.Literal(raw, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
            else:
                out[p.name] = ox.Literal(raw)
        return out


def parse_header(name: str, text: str) -> NamedQuery:
    meta: dict[str, str] = {}
    params: list[Param] = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        key, _, value = line.lstrip("# ").partition(":")
        key, value = key.strip(), value.strip()
        if key == "param":
            m = re.match(r"^(\w+)\s+(\w+)(\?)?\s*(?:—|-)?\s*(.*)$", value)
            if not m or m.group(2) not in TYPES:
                raise ValueError(f"{name}.rq: bad param line {value!r}")
            params.append(Param(m.group(1), m.group(2), m.group(4), required=not m.group(3)))
        else:
            meta[key] = value
    return NamedQuery(
        name=name,
        title=meta.get("title", name),
        description=meta.get("description", ""),
        text=text,
        params=tuple(params),
        columns=tuple(meta.get("columns", "").split()),
    )


@lru_cache(maxsize=1)
def catalogue() -> dict[str, NamedQuery]:
    """Every named query, by name."""
    out = {}
    for entry in sorted(files("sparql").joinpath("queries").iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".rq"):
            name = entry.name[:-3]
            out[name] = parse_header(name, entry.read_text(encoding="utf-8"))
    return out


def get(name: str) -> NamedQuery:
    try:
        return catalogue()[name]
    except KeyError:
        raise UnknownQueryError(f"no named query {name!r} (known: {', '.join(catalogue())})") from None


def run_table(store: Store, name: str, values: dict[str, str] | None = None,
              limit: int | None = None) -> tuple[list[str], list[Row]]:
    """Run a named query; its columns and rows (at most ``limit``)."""
    q = get(name)
    bindings = q.bind(values or {})
    t0 = time.perf_counter()
    columns, rows = store.select_table(q.text, bindings, limit=limit)
    log.debug("query %s: %d rows in %.1f ms", name, len(rows), (time.perf_counter() - t0) * 1000)
    return [c for c in columns if c not in bindings], rows


def run(store: Store, name: str, values: dict[str, str] | None = None) -> list[Row]:
    return run_table(store, name, values)[1]
