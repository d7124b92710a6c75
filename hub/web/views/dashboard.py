"""The dashboard (`/dashboard`, work programme action 2.2.E): charts and maps of what the hub knows,
each with the table behind it.

Charts are Vega-Lite specifications rendered to SVG on the server by ``vl-convert-python`` (Vega and
Vega-Lite bundled in the wheel: no script in the page, no CDN). Every bar and country that stands for
a list links to it, and carries an ``aria-label`` with its numbers. The world map draws the Natural
Earth countries of the ``world-atlas`` npm package, vendored in ``static/vendor/world-atlas``; a
country is joined to it by its ISO 3166-1 numeric code (``pycountry``).

The figures are read with constant queries; the page (figures and drawings, per language) is
computed once per write generation (:meth:`hub.service.Hub.derived`).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib.resources import files
from urllib.parse import urlencode

from markupsafe import escape

from ontology.iris import Minter
from sparql.builder import prefixed
from sparql.store import Store

CHART_WIDTH = 560
MAP_WIDTH = 760
TOP_ACTORS = 15
TOP_COUNTRIES = 20

PARTY_STATUS = prefixed("""SELECT ?code ?body ?role WHERE {
  ?ms a org:Membership ; org:member ?country ; org:organization ?body ; chm:nodeRole ?role .
  ?country skos:notation ?code . FILTER(STRLEN(?code) = 2)
}""")
RECORDS_BY_COUNTRY = prefixed("""SELECT ?code (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a chm:Record ; chm:country ?code } GROUP BY ?code""")
RECORDS_BY_REGION = prefixed("""SELECT ?region (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a chm:Record ; chm:region ?region } GROUP BY ?region""")
RECORD_SUBJECTS = prefixed("""SELECT ?s (COUNT(DISTINCT ?r) AS ?n) WHERE { ?r a chm:Record ; dcterms:subject ?s } GROUP BY ?s""")
COUNTRY_NAMES = prefixed("""SELECT ?code ?name WHERE { ?c a foaf:Agent ; skos:notation ?code ; skos:prefLabel ?name .
  FILTER(STRLEN(?code) = 2) }""")

# what a country is Party to, as the map colours it (the CBD first: a Protocol's Parties are the CBD's)
PARTY_CLASSES = ("cbd-cp-np", "cbd-cp", "cbd-np", "cbd", "signatory", "none")
PARTY_COLOURS = {"cbd-cp-np": "#1b6b3a", "cbd-cp": "#3f9a5b", "cbd-np": "#6fb27a", "cbd": "#a8d5a2",
                 "signatory": "#e0c36a", "none": "#d8d8d8"}
BODIES = {"cop": "cbd", "cp-mop": "cp", "np-mop": "np"}


@dataclass
class Dashboard:
    """The figures and their drawings (SVG) in one language."""

    statuses: list[str]
    meetings: list[tuple[str, Counter]]
    status_totals: Counter
    actors: list[tuple[str, str, int]]            # (label, link key, requests)
    targets: list[tuple[str, str, str, int, int]]  # (family, iri, label, decisions, records)
    countries: list[dict]                          # code, name, party class, instruments, records
    regions: list[tuple[str, int]]
    charts: dict[str, str] = field(default_factory=dict)

    @property
    def party_counts(self) -> Counter:
        return Counter(c["party"] for c in self.countries)


@cache
def world_topology() -> dict:
    """The vendored Natural Earth countries (TopoJSON, 1:110m)."""
    return json.loads(files("hub.web").joinpath("static/vendor/world-atlas/countries-110m.json").read_text(encoding="utf-8"))


@cache
def numeric_code(alpha2: str) -> str:
    """ISO 3166-1 numeric code of a two-letter code, as world-atlas writes it ("076"), or ""."""
    import pycountry

    country = pycountry.countries.get(alpha_2=alpha2.upper())
    return getattr(country, "numeric", "") if country else ""


def _number(iri: str) -> int:
    m = re.search(r"(\d+)$", iri)
    return int(m.group(1)) if m else 10_000


def collect(store: Store, base: str, index, lang: str, labels_of) -> Dashboard:
    """The figures: decisions per meeting and status and requests per actor from the tracking index,
    targets covered by decisions and records, party status and records per country, records per region."""
    m = Minter(base)
    board = index.dashboard()
    totals: Counter = Counter()
    for _code, counts in board["meetings"]:
        totals.update(counts)
    actors = [(index.labels.get(a, a.rsplit("/", 1)[-1]), index.actor_keys.get(a, a), sum(c.values()))
              for a, c in board["actors"][:TOP_ACTORS]]

    families = (("KMGBF", m.scheme("gbf-targets") + "/target-"), ("Aichi", m.scheme("aichi-targets") + "/target-"))
    decided = {t: sum(c.values()) for t, c in board["targets"]}
    recorded = {r["s"].value: int(r["n"].value) for r in store.select(RECORD_SUBJECTS)}
    covered = {t for t in (*decided, *recorded) if any(t.startswith(p) for _f, p in families)}
    target_labels = labels_of(covered, lang) if covered else {}
    targets = []
    for family, prefix in families:
        for t in sorted((t for t in covered if t.startswith(prefix)), key=_number):
            label = target_labels.get(t, t.rsplit("/", 1)[-1])
            targets.append((family, t, label, decided.get(t, 0), recorded.get(t, 0)))

    parties: dict[str, set[str]] = {}
    signed: set[str] = set()
    for r in store.select(PARTY_STATUS):
        code, body = r["code"].value.upper(), BODIES.get(r["body"].value.rsplit("/", 1)[-1])
        if body is None:
            continue
        if r["role"].value.endswith("#Party"):
            parties.setdefault(code, set()).add(body)
        else:
            signed.add(code)
    records = {r["code"].value.upper(): int(r["n"].value) for r in store.select(RECORDS_BY_COUNTRY)}
    by_language: dict[str, dict[str, str]] = {}
    for r in store.select(COUNTRY_NAMES):
        by_language.setdefault(r["name"].language or "", {}).setdefault(r["code"].value.upper(), r["name"].value)
    names = {**by_language.get("en", {}), **by_language.get(lang, {})}
    countries = []
    for code in sorted(set(parties) | signed | set(records), key=lambda c: names.get(c, c)):
        of = parties.get(code, set())
        party = ("cbd-" + "-".join(b for b in ("cp", "np") if b in of)).rstrip("-") if "cbd" in of else (
            "signatory" if code in signed or of else "none")
        countries.append({"code": code, "iri": m.country(code), "name": names.get(code, code), "party": party, "numeric": numeric_code(code),
                          "instruments": sorted(of, key=("cbd", "cp", "np").index), "records": records.get(code, 0)})
    regions = sorted(((r["region"].value, int(r["n"].value)) for r in store.select(RECORDS_BY_REGION)), key=lambda x: (-x[1], x[0]))
    return Dashboard(board["statuses"], board["meetings"], totals, actors, targets, countries, regions)


# -- drawings -----------------------------------------------------------------------------------
def _spec(description: str, **spec) -> dict:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "description": description,
            "background": None, "config": {"view": {"stroke": None}, "font": "system-ui, sans-serif",
                                           "axis": {"labelFontSize": 11, "titleFontSize": 11}, "legend": {"labelFontSize": 11}},
            **spec}


VEGA_BASE = 'xlink:href="https://vega.github.io/vega-datasets/'  # the base vl-convert's loader puts before a link
LOCALES = {"fr": "fr-FR", "es": "es-ES", "ru": "ru-RU", "zh": "zh-CN", "ar": "ar-001"}


def _svg(spec: dict, lang: str = "en", inline: bool = True) -> str:
    import vl_convert as vlc

    # allowed_base_urls=[]: nothing is ever fetched (the data are in the spec); numbers in the page's language
    svg = vlc.vegalite_to_svg(spec, allowed_base_urls=[], format_locale=LOCALES.get(lang, "en-US"))
    svg = svg.replace(VEGA_BASE, 'xlink:href="')  # the links stay the hub's own, relative to the page
    if not inline:  # a document of its own (an <img>): well-formed XML, named by the page's alt text
        return svg
    # scale with the page (the drawing keeps its viewBox), and name the figure for assistive technology
    return svg.replace("<svg ", '<svg role="img" aria-label="' + str(escape(spec["description"])) + '" class="vl-chart" ', 1)


def draw(d: Dashboard, t: dict, status_colours: dict[str, str], href, lang: str = "en") -> dict[str, str]:
    """Every chart of the page as SVG, with the words of the page's language ``t``; ``href`` gives the
    page of an IRI. Each mark that stands for a list links to it (``href``) and says what it counts
    (``description``, its ``aria-label``)."""
    def decisions(**f: str) -> str:
        return "/tracking/decisions?" + urlencode(f)

    def bars(description: str, rows: list[dict], y_title: str, x_title: str, step: int, **encoding) -> str:
        return _svg(_spec(description, width=CHART_WIDTH, height={"step": step}, data={"values": rows}, mark={"type": "bar"},
                          encoding={"y": {"field": "y", "type": "nominal", "sort": None, "title": y_title or None, "axis": {"labelLimit": 260}},
                                    "x": {"field": "n", "type": "quantitative", "aggregate": "sum", "title": x_title},
                                    "href": {"field": "url"}, "description": {"field": "desc"}, **encoding}), lang)

    statuses = [s for s in d.statuses if d.status_totals.get(s)]
    status_scale = {"domain": [t.get("st_" + s, s) for s in statuses], "range": [status_colours.get(s, "#777") for s in statuses]}
    charts: dict[str, str] = {}
    rows = [{"y": code, "status": t.get("st_" + s, s), "n": n, "url": decisions(meeting=code, status=s), "order": statuses.index(s),
             "desc": f"{code}: {t.get('st_' + s, s)}, {n} {t['decisions'].lower()}"}
            for code, counts in d.meetings for s, n in counts.items() if n and s in statuses]
    if rows:
        charts["meetings"] = bars(t["by_meeting"], rows, "", t["decisions"], 14, order={"field": "order"},
                                  color={"field": "status", "type": "nominal", "scale": status_scale, "title": t["status"]})
    rows = [{"y": t.get("st_" + s, s), "n": d.status_totals[s], "url": decisions(status=s),
             "desc": f"{t.get('st_' + s, s)}: {d.status_totals[s]} {t['decisions'].lower()}"} for s in statuses]
    if rows:
        charts["statuses"] = bars(t["dash_statuses"], rows, "", t["decisions"], 22,
                                  color={"field": "y", "type": "nominal", "scale": status_scale, "legend": None})
    rows = [{"y": label, "n": n, "url": decisions(actor=key), "desc": f"{label}: {n}"} for label, key, n in d.actors]
    if rows:
        charts["actors"] = bars(t["by_actor"], rows, "", t["dash_requests"], 18, color={"value": "#4f7fb8"})
    rows = [{"y": ("KMGBF " if family == "KMGBF" else "Aichi ") + str(_number(iri)), "kind": kind, "n": n,
             "url": decisions(target=iri) if kind == t["decisions"] else href(iri), "desc": f"{label}: {n} {kind.lower()}"}
            for family, iri, label, nd, nr in d.targets for kind, n in ((t["decisions"], nd), (t["dash_records"], nr)) if n]
    if rows:
        charts["targets"] = bars(t["dash_targets"], rows, "", t["dash_count"], 16, color={
            "field": "kind", "type": "nominal", "title": None,
            "scale": {"domain": [t["decisions"], t["dash_records"]], "range": ["#4f7fb8", "#c9a53c"]}})
    with_records = sorted((c for c in d.countries if c["records"]), key=lambda c: (-c["records"], c["name"]))[:TOP_COUNTRIES]
    if with_records:
        charts["countries"] = bars(t["dash_records_country"], [
            {"y": c["name"], "n": c["records"], "url": href(c["iri"]), "desc": f"{c['name']}: {c['records']} {t['dash_records'].lower()}"}
            for c in with_records], "", t["dash_records"], 18, color={"value": "#c9a53c"})
    if d.countries:
        charts["party_map"] = _map(d, t, "party", href, lang)
        if any(c["records"] for c in d.countries):
            charts["records_map"] = _map(d, t, "records", href, lang)
    return charts


def _map(d: Dashboard, t: dict, what: str, href, lang: str) -> str:
    """The world coloured by party status (``party``) or by records (``records``); each country with
    data links to its page and says its figures in its ``aria-label``."""
    values = []
    for c in d.countries:
        if not c["numeric"]:
            continue
        party = t["dash_party_" + c["party"].replace("-", "_")]
        desc = f"{c['name']}: {party}" if what == "party" else f"{c['name']}: {c['records']} {t['dash_records'].lower()}"
        values.append({"id": c["numeric"], "party": party, "records": c["records"], "url": href(c["iri"]), "desc": desc})
    lookup = {"lookup": "id", "from": {"data": {"values": values}, "key": "id", "fields": ["party", "records", "url", "desc"]}}
    if what == "party":
        classes = [k for k in PARTY_CLASSES if k != "none"]
        colour = {"field": "party", "type": "nominal", "legend": None,  # the page's legend, with counts
                  "scale": {"domain": [t["dash_party_" + k.replace("-", "_")] for k in classes], "range": [PARTY_COLOURS[k] for k in classes]}}
        description = t["dash_party_map"]
    else:
        colour = {"field": "records", "type": "quantitative", "title": t["dash_records"], "scale": {"scheme": "goldorange", "type": "symlog"}}
        description = t["dash_records_map"]
    world = {"values": world_topology(), "format": {"type": "topojson", "feature": "countries"}}
    spec = _spec(description, width=MAP_WIDTH, height=MAP_WIDTH * 0.5, projection={"type": "equalEarth"}, layer=[
        {"data": world, "mark": {"type": "geoshape", "fill": PARTY_COLOURS["none"], "stroke": "#ffffff", "strokeWidth": 0.4, "aria": False}},
        {"data": world, "transform": [lookup, {"filter": "datum.url != null" + (" && datum.records > 0" if what == "records" else "")}],
         "mark": {"type": "geoshape", "stroke": "#ffffff", "strokeWidth": 0.4},
         "encoding": {"color": colour, "href": {"field": "url"}, "description": {"field": "desc"}}},
    ])
    return _svg(spec, lang)


@lru_cache(maxsize=512)
def locator_map(alpha2: str, description: str, lang: str = "en") -> str:
    """The world in grey with one country (a two-letter code) picked out, for its page: drawn once per
    country and language (the geometry is the vendored one; nothing is fetched). "" for an unknown code."""
    code = numeric_code(alpha2)
    if not code:
        return ""
    world = {"values": world_topology(), "format": {"type": "topojson", "feature": "countries"}}
    spec = _spec(description, width=LOCATOR_WIDTH, height=LOCATOR_WIDTH * 0.5, projection={"type": "equalEarth"}, layer=[
        {"data": world, "mark": {"type": "geoshape", "fill": "#d9dde3", "stroke": "#ffffff", "strokeWidth": 0.4, "aria": False}},
        {"data": world, "transform": [{"filter": {"field": "id", "equal": code}}],
         "mark": {"type": "geoshape", "fill": "#1f5f99", "stroke": "#0b2f4f", "strokeWidth": 0.8, "aria": False}},
    ])
    return _svg(spec, lang, inline=False)


LOCATOR_WIDTH = 480

__all__ = ["Dashboard", "collect", "draw", "locator_map", "numeric_code", "world_topology"]
