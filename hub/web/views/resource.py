"""View models for the linked-data pages: plain data built from the store; templates never query.

Every view is built in one language (labels picked with fallback to English) and carries the
properties grouped and labelled from the ontology, the incoming links, and the provenance of the
graphs the facts come from.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox

from hub.web.i18n import pick, term_label
from ontology import CHM, DCTERMS, ELI, OWL, PROV, RDF, SCHEMA, SKOS
from ontology.documents import SIX_LANGUAGES, document_facts
from sparql import builder, queries
from sparql.store import Store

RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOSXL_LITERAL_FORM = "http://www.w3.org/2008/05/skos-xl#literalForm"  # a SKOS-XL label shows as its text, not its IRI
LABEL_PREDICATES = (SKOS.prefLabel, RDFS_LABEL, ELI.title, DCTERMS.title, SKOSXL_LITERAL_FORM)
MAX_INCOMING = 200
OUTGOING = "SELECT ?p ?o ?g ?node ?meta WHERE { GRAPH ?g { ?node ?p ?o } FILTER (?g != ?meta) }"
INCOMING = "SELECT ?s ?p ?g ?node ?meta ?skip WHERE { GRAPH ?g { ?s ?p ?node } FILTER (?g != ?meta && ?p != ?skip) }"
NO_PREDICATE = "urn:chmkg:no-predicate"  # ?skip when nothing is left out


@dataclass
class Value:
    text: str
    href: str | None = None  # a link (IRI) when the value is a resource
    lang: str | None = None
    datatype: str | None = None


@dataclass
class Group:
    predicate: str
    label: str
    values: list[Value]


@dataclass
class Provenance:
    graph: str
    title: str
    loaded: str
    source: str


@dataclass
class Edge:
    source: str
    source_label: str
    kind: str
    target: str
    target_label: str
    distance: int = 1  # links between the decision and this edge's far end


@dataclass
class ResourceView:
    iri: str
    label: str
    types: list[Value]
    groups: list[Group]
    incoming: list[Group]
    provenance: list[Provenance]
    kind: str = "resource"  # decision, article, target, actor, programme or resource
    extra: dict = field(default_factory=dict)
    jsonld: str = ""
    label_lang: str = ""  # the language of the label shown ("" when it has none)
    # the display labels looked up for this page so far (IRI → label; an IRI looked up without one: absent)
    labels: dict[str, str] = field(default_factory=dict, repr=False)
    looked_up: set[str] = field(default_factory=set, repr=False)


def _labels(store: Store, iris: set[str], lang: str) -> dict[str, str]:
    """A display label for each IRI (its pref label, title, symbol …, in ``lang`` with fallback): index
    lookups of each IRI's label predicates (a meeting page with 300 decisions: 109 → a few ms)."""
    valid = sorted(i for i in iris if i and not any(c in i for c in '<>" {}|\\^`'))
    rank = {p: k for k, p in enumerate(LABEL_PREDICATES)}
    found = [(rank[p.value], s.value, o) for s, p, o, _g in store.quads_touching(valid, predicates=LABEL_PREDICATES)
             if isinstance(o, ox.Literal)]
    out: dict[str, list[ox.Literal]] = {}
    for _rank, subject, literal in sorted(found, key=lambda x: x[0]):  # prefLabel first
        out.setdefault(subject, []).append(literal)
    return {k: pick(v, lang).value for k, v in out.items() if pick(v, lang) is not None}


def view_labels(store: Store, view: ResourceView, iris: set[str], lang: str) -> dict[str, str]:
    """:func:`_labels` for a page's panels: an IRI the page looked up already is not looked up again (a
    meeting's decisions are its incoming links and its table)."""
    todo = set(iris) - view.looked_up
    if todo:
        view.labels.update(_labels(store, todo, lang))
        view.looked_up |= todo
    return {i: view.labels[i] for i in iris if i in view.labels}


def _value(term, labels: dict[str, str]) -> Value:
    if isinstance(term, ox.NamedNode):
        return Value(labels.get(term.value) or term.value, href=term.value)
    if isinstance(term, ox.BlankNode):
        return Value("_:" + term.value)
    dt = term.datatype.value if term.datatype and term.datatype.value not in (
        "http://www.w3.org/2001/XMLSchema#string", "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString") else None
    return Value(term.value, lang=term.language, datatype=dt)


def _order(predicate: str) -> tuple[int, str]:
    first = [SKOS.prefLabel, ELI.title, CHM.symbol, DCTERMS.title, SKOS.altLabel, ELI.date_document,
             PROV.wasGeneratedBy, CHM.trackingStatus]
    return (first.index(predicate), "") if predicate in first else (len(first), predicate)


def describe(store: Store, iri: str, lang: str, meta_graph: str) -> ResourceView | None:
    node, meta = ox.NamedNode(iri), ox.NamedNode(meta_graph)
    out_rows = store.select(OUTGOING, {"node": node, "meta": meta}, union=False)
    # a decision's parts are its paragraph tree (decision_panels): not listed again as properties
    parts = any(r["p"].value == RDF.type and r["o"].value == CHM.Decision for r in out_rows)
    skip = ox.NamedNode(ELI.is_part_of if parts else NO_PREDICATE)
    if parts:
        out_rows = [r for r in out_rows if r["p"].value not in (ELI.has_part, CHM.statusAssessment)]
    _, in_rows = store.select_table(INCOMING, {"node": node, "meta": meta, "skip": skip}, union=False, limit=MAX_INCOMING)
    if not out_rows and not in_rows:
        return None
    iris = {iri} | {r["o"].value for r in out_rows if isinstance(r["o"], ox.NamedNode)} | {r["s"].value for r in in_rows if isinstance(r["s"], ox.NamedNode)}
    labels = _labels(store, iris, lang)
    grouped: dict[str, list[Value]] = {}
    types: list[Value] = []
    graphs: set[str] = set()
    seen: set[tuple[str, str]] = set()
    for r in out_rows:
        graphs.add(r["g"].value)
        key = (r["p"].value, str(r["o"]))
        if key in seen:
            continue
        seen.add(key)
        if r["p"].value == RDF.type:
            types.append(Value(term_label(r["o"].value, lang), href=r["o"].value))
            continue
        grouped.setdefault(r["p"].value, []).append(_value(r["o"], labels))
    groups = [Group(p, term_label(p, lang), sorted(v, key=lambda x: (x.lang not in (lang, None), x.text)))
              for p, v in sorted(grouped.items(), key=lambda kv: _order(kv[0]))]
    incoming_by: dict[str, list[Value]] = {}
    for r in in_rows:
        graphs.add(r["g"].value)
        incoming_by.setdefault(r["p"].value, []).append(_value(r["s"], labels))
    incoming = [Group(p, term_label(p, lang), sorted(v, key=lambda x: x.text)) for p, v in sorted(incoming_by.items())]
    provenance = []
    for g in sorted(graphs):
        rows = store.select(
            f"SELECT ?t ?when ?m ?src WHERE {{ GRAPH <{meta_graph}> {{ OPTIONAL {{ <{g}> <{DCTERMS.title}> ?t }} "
            f"OPTIONAL {{ <{g}> <{PROV.generatedAtTime}> ?when }} OPTIONAL {{ <{g}> <{DCTERMS.modified}> ?m }} "
            f"OPTIONAL {{ <{g}> <{DCTERMS.source}> ?src }} }} }}", union=False)
        r = rows[0] if rows else {}
        provenance.append(Provenance(g, r["t"].value if "t" in r else "", (r.get("m") or r.get("when") or ox.Literal("")).value,
                                     r["src"].value if "src" in r else ""))
    type_iris = {t.href for t in types}
    view = ResourceView(iri, labels.get(iri) or iri, types, groups, incoming, provenance, labels=labels, looked_up=iris)
    view.label_lang = next((r["o"].language or "" for r in out_rows if isinstance(r["o"], ox.Literal) and r["o"].value == view.label
                            and r["p"].value in LABEL_PREDICATES), "")
    view.kind = _kind(type_iris, grouped)
    view.jsonld = schema_org(view, type_iris, grouped, lang)
    return view


TERM_TYPES = {OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, "http://www.w3.org/1999/02/22-rdf-syntax-ns#Property"}


def _kind(types: set[str], grouped: dict) -> str:
    if types & TERM_TYPES:
        return "term"
    if CHM.Decision in types:
        return "decision"
    if CHM.Article in types:
        return "article"
    if CHM.Meeting in types:
        return "meeting"
    if CHM.WorkProgramme in types:
        return "programme"
    if CHM.Record in types:
        return "record"
    if CHM.Document in types:
        return "document"
    if "http://www.w3.org/ns/org#FormalOrganization" in types and CHM.region in grouped:
        return "country"
    if "http://xmlns.com/foaf/0.1/Agent" in types or "http://www.w3.org/ns/org#Organization" in types:
        return "actor"
    if SKOS.Concept in types and any(v.href and v.href.endswith("-targets") for v in grouped.get(SKOS.inScheme, [])):
        return "target"
    if SKOS.Concept in types:
        return "concept"
    return "resource"


def schema_org(view: ResourceView, types: set[str], grouped: dict[str, list[Value]], lang: str) -> str:
    """schema.org JSON-LD for the page (schema:Legislation for decisions)."""
    kind = {"decision": "Legislation", "article": "Legislation"}.get(view.kind)
    if kind is None:
        kind = ("Demand" if CHM.Need in types else "Offer" if CHM.Offer in types else "Event" if CHM.Meeting in types else
                "Organization" if view.kind == "actor" else "DefinedTerm" if view.kind == "concept" else
                "CreativeWork" if CHM.Record in types or CHM.Document in types else "Thing")
    doc: dict = {"@context": "https://schema.org", "@type": kind, "@id": view.iri, "name": view.label, "url": view.iri}
    if CHM.symbol in grouped:
        doc["legislationIdentifier"] = grouped[CHM.symbol][0].text
    if ELI.date_document in grouped:
        doc["legislationDate"] = grouped[ELI.date_document][0].text
    if PROV.wasGeneratedBy in grouped:
        doc["legislationPassedBy"] = {"@id": grouped[PROV.wasGeneratedBy][0].href, "name": grouped[PROV.wasGeneratedBy][0].text}
    if SCHEMA.startDate in grouped:
        doc["startDate"] = grouped[SCHEMA.startDate][0].text
    if DCTERMS.subject in grouped:
        doc["about"] = [{"@id": v.href, "name": v.text} for v in grouped[DCTERMS.subject] if v.href]
    if DCTERMS.description in grouped:
        doc["description"] = grouped[DCTERMS.description][0].text
    if CHM.provider in grouped and grouped[CHM.provider][0].href:  # who makes an offer (schema:offeredBy)
        doc["offeredBy"] = {"@id": grouped[CHM.provider][0].href, "name": grouped[CHM.provider][0].text}
    if CHM.country in grouped:
        doc["areaServed"] = [v.text for v in grouped[CHM.country]]
    doc["inLanguage"] = lang
    # "</" can never close the script element the JSON sits in
    return json.dumps(doc, ensure_ascii=False).replace("</", "<\\/")


# -- class-specific panels -----------------------------------------------------------------------

LINKS = {ELI.cites: "recalls", ELI.amends: "amends", DCTERMS.replaces: "supersedes", ELI.repeals: "retires",
         ELI.based_on: "based on", ELI.implements: "implements"}
LINEAGE_DEPTHS = (1, 2, 3, 4, 6)  # the page's depth control, and "all"
LINEAGE_DEFAULT = 3
LINEAGE_EDGES = 400  # however deep: a page never lists more edges than this


def lineage_depth(value: str | None) -> int | None:
    """The ``depth`` parameter: a whole number of links (1 … 50), ``all`` (None), else the default."""
    if value == "all":
        return None
    try:
        return max(1, min(50, int(value or "")))
    except ValueError:
        return LINEAGE_DEFAULT


def lineage(store: Store, iri: str, lang: str, upward: bool, depth: int | None = LINEAGE_DEFAULT) -> tuple[list[Edge], bool]:
    """The lineage around a decision, level by level, ``depth`` links away (None: the whole chain,
    to the first decision and the Convention's articles) and at most LINEAGE_EDGES edges. Each
    level is one index lookup per node (no query text). Returns (edges, more): whether the chain
    goes on beyond what was returned."""
    predicates = tuple(LINKS)
    frontier, seen, edges, level = [iri], {iri}, [], 0
    more = False

    def step(nodes: list[str]) -> list[tuple[str, str, str]]:
        found = {(s.value, p.value, o.value) for s, p, o, _g in store.quads_touching(nodes, as_object=not upward, predicates=predicates)
                 if isinstance(s, ox.NamedNode) and isinstance(o, ox.NamedNode)}
        return sorted(found)

    while frontier:
        if depth is not None and level >= depth:
            more = bool(step(frontier))
            break
        level += 1
        following: list[str] = []
        for s, p, o in step(frontier):
            if len(edges) >= LINEAGE_EDGES:
                more = True
                break
            edges.append((s, LINKS[p], o, level))
            far = o if upward else s
            if far not in seen:
                seen.add(far)
                following.append(far)
        if more:
            break
        frontier = following
    labels = _labels(store, {e[0] for e in edges} | {e[2] for e in edges}, lang)
    return [Edge(s, labels.get(s, s), k, t, labels.get(t, t), d) for s, k, t, d in edges], more


def lineage_levels(edges: list[Edge], upward: bool) -> list[tuple[int, list[tuple[str, str, list[Edge]]]]]:
    """The list view: by distance, then by the node nearer the decision (named once), its links."""
    levels: dict[int, dict[str, list[Edge]]] = {}
    for e in edges:
        near = e.source if upward else e.target
        levels.setdefault(e.distance, {}).setdefault(near, []).append(e)
    out = []
    for d in sorted(levels):
        groups = []
        for near, group in levels[d].items():
            label = group[0].source_label if upward else group[0].target_label
            groups.append((near, label, group))
        out.append((d, groups))
    return out


# -- breadcrumbs -----------------------------------------------------------------------------

# the class index a thing belongs to (the first that matches), as (class, path, UI key)
CRUMB_INDEXES = ((CHM.Decision, "/decisions", "decisions"), (CHM.Meeting, "/meetings", "meetings"),
                 (CHM.Article, "/articles", "articles"), (CHM.WorkProgramme, "/programmes", "programmes"),
                 (CHM.Network, "/networks", "networks"), (CHM.Record, "/records", "records"), (CHM.Need, "/needs", "needs"),
                 (CHM.Offer, "/offers", "offers"), ("http://xmlns.com/foaf/0.1/Agent", "/actors", "actors"),
                 (SKOS.Concept, "/thesaurus", "thesaurus"))
PARENT_LINKS = (ELI.is_part_of, DCTERMS.isPartOf, SKOS.broader)
CRUMB_DEPTH = 8


def breadcrumbs(store: Store, view: ResourceView, lang: str) -> list[tuple[str, str]]:
    """The trail above a page: its class index, then (for a decision) its meeting, then its parents
    — a paragraph's decision and sections, an article paragraph's article, a concept's broader
    concepts — nearest last. Pairs of (IRI or path, label; a UI key for the index); each step is an
    index lookup (no query text)."""
    chain: list[str] = []
    node, seen = view.iri, {view.iri}
    for _ in range(CRUMB_DEPTH):
        parent = next((o.value for _s, _p, o, _g in store.quads_touching([node], predicates=PARENT_LINKS)
                       if isinstance(o, ox.NamedNode) and o.value not in seen), None)
        if parent is None:
            break
        chain.append(parent)
        seen.add(parent)
        node = parent
    top = chain[-1] if chain else view.iri
    top_types = {o.value for _s, _p, o, _g in store.quads_touching([top], predicates=(RDF.type,)) if isinstance(o, ox.NamedNode)}
    trail: list[tuple[str, str]] = []
    index = next(((path, key) for cls, path, key in CRUMB_INDEXES if cls in top_types), None)
    if index:
        trail.append((index[0], "ui:" + index[1]))
    if CHM.Decision in top_types:
        meeting = next((o.value for _s, _p, o, _g in store.quads_touching([top], predicates=(PROV.wasGeneratedBy,))
                        if isinstance(o, ox.NamedNode)), None)
        if meeting:
            chain.append(meeting)
    labels = view_labels(store, view, set(chain), lang)
    trail += [(iri, labels.get(iri, iri.rsplit("/", 1)[-1])) for iri in reversed(chain)]
    return trail


def decision_panels(store: Store, view: ResourceView, lang: str) -> None:
    """Lineage both ways, and the decision as a paragraph tree: each element with its acts, the
    actors addressed, deadlines, status and why, filtered by ``act``, ``actor`` and ``status``."""
    from hub.tracking import STATUSES, elements_of

    iri = view.iri
    depth = lineage_depth(view.extra.get("params", {}).get("depth"))
    view.extra["depth"], view.extra["depths"] = depth, LINEAGE_DEPTHS
    view.extra["up"], view.extra["up_cut"] = lineage(store, iri, lang, upward=True, depth=depth)
    view.extra["down"], view.extra["down_cut"] = lineage(store, iri, lang, upward=False, depth=depth)
    view.extra["up_levels"] = lineage_levels(view.extra["up"], upward=True)
    view.extra["down_levels"] = lineage_levels(view.extra["down"], upward=False)
    base = iri.split("decision/", 1)[0]
    symbol = next((v.text for g in view.groups if g.predicate == CHM.symbol for v in g.values), view.label)
    view.extra["symbol"] = symbol
    found = elements_of(store, base, symbol, lang, iri=iri)
    view.extra["status"], view.extra["reason"] = found["status"], found["reason"]
    els = found["elements"]
    iris = {x for el in els for a in el["acts"] for x in (a["actors"] + a["acts_on"] + ([a["due"]] if a["due"] else []))}
    iris |= {o for el in els for objs in el["links"].values() for o in objs}
    iris |= {base + "scheme/operative-verb/" + a["act"] for el in els for a in el["acts"]}
    labels = view_labels(store, view, {i for i in iris if i.startswith(("http://", "https://"))}, lang)
    params = view.extra.get("params", {})
    want_act, want_actor, want_status = params.get("act", ""), params.get("actor", ""), params.get("status", "")
    acts, actors, statuses = {}, {}, {}
    shown = []
    for el in els:
        el_acts = [{"key": a["act"], "label": labels.get(base + "scheme/operative-verb/" + a["act"], a["act"]),
                    "actors": [Value(labels.get(x, x.rsplit("/", 1)[-1]), href=x) for x in a["actors"]],
                    "on": [Value(labels.get(x, x.rsplit("/", 1)[-1]), href=x) for x in a["acts_on"]],
                    "due": (Value(labels.get(a["due"], a["due"].rsplit("/", 2)[-2].upper() + "-" + a["due"].rsplit("/", 1)[-1]), href=a["due"])
                            if a["due"] and a["due"].startswith("http") else (Value(a["due"]) if a["due"] else None))}
                   for a in el["acts"]]
        for a in el_acts:
            acts[a["key"]] = a["label"]
            for v in a["actors"]:
                actors[v.href] = v.text
        if el["status"]:
            statuses[el["status"]] = True
        links = [(LINK_NAMES.get(k, k), [Value(labels.get(o, o.rsplit("/", 1)[-1]), href=o) for o in objs])
                 for k, objs in sorted(el["links"].items()) if k != "addressedTo"]
        item = {"iri": el["iri"], "number": el["number"], "depth": el["depth"], "type": el["type"], "text": el["text"],
                "status": el["status"], "reason": el["reason"], "acts": el_acts, "links": links,
                "preamble": el["number"].startswith("PP") or "/preamble/" in el["iri"]}
        if want_act and not any(a["key"] == want_act for a in el_acts):
            continue
        if want_actor and not any(v.href == want_actor for a in el_acts for v in a["actors"]):
            continue
        if want_status and el["status"] != want_status:
            continue
        shown.append(item)
    view.extra["elements"] = shown
    view.extra["element_count"] = len(els)
    view.extra["element_filters"] = {"act": sorted(acts.items(), key=lambda kv: kv[1]),
                                      "actor": sorted(actors.items(), key=lambda kv: kv[1]), "status": sorted(statuses)}
    view.extra["chosen"] = {"act": want_act, "actor": want_actor, "status": want_status}
    view.extra["statuses"] = STATUSES
    view.extra["all_elements"] = [(el["iri"], el["number"]) for el in els]


LINK_NAMES = {"cites": "recalls", "reaffirms": "reaffirms", "amends": "amends", "replaces": "supersedes", "repeals": "retires",
              "references": "references", "establishes": "establishes", "extends": "extends", "renews": "renews",
              "adopts": "adopts", "endorses": "endorses", "welcomes": "welcomes", "takesNoteOf": "takes note of"}


def _edge(r: dict) -> Edge:
    return Edge(r["source"].value, r["sourceLabel"].value if "sourceLabel" in r else r["source"].value,
                r["kind"].value, r["target"].value, r["targetLabel"].value if "targetLabel" in r else r["target"].value)


def article_panels(store: Store, view: ResourceView, lang: str) -> None:
    """The decisions based on an article, each with the link's kind and, when it goes through one of
    the article's paragraphs, that paragraph by its label (the article itself is not repeated)."""
    cols, rows = queries.run_table(store, "decisions-by-article", {"article": view.iri})
    decisions = [{k: (r[k].value if k in r else "") for k in cols} for r in rows]
    vias = {d["via"] for d in decisions if d.get("via") and d["via"] != view.iri}
    labels = view_labels(store, view, vias, lang) if vias else {}
    for d in decisions:
        via = d.get("via", "")
        d["via"] = via if via != view.iri else ""
        d["via_label"] = labels.get(via, via.rsplit("/", 1)[-1]) if d["via"] else ""
    view.extra["decisions"] = decisions


def actor_panels(store: Store, view: ResourceView, lang: str) -> None:
    """An actor or a network: what was asked of it, its members with their roles (a network), and the
    networks it belongs to — memberships (org:Membership) read through, not listed as bare nodes."""
    cols, rows = queries.run_table(store, "actions-by-actor", {"actor": view.iri})
    view.extra["actions"] = [{k: (r[k].value if k in r else "") for k in cols} for r in rows]
    mine = {s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(ORG + "organization",))
            if isinstance(s, ox.NamedNode)}
    joined = {s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(ORG + "member",))
              if isinstance(s, ox.NamedNode)}
    if not mine and not joined:
        return
    facts: dict[str, dict[str, str]] = {}
    for s, p, o, _g in store.quads_touching(sorted(mine | joined), predicates=(ORG + "member", ORG + "organization", CHM.nodeRole, ORG + "role")):
        if isinstance(o, ox.NamedNode):
            facts.setdefault(s.value, {})[p.value.rsplit("#", 1)[-1]] = o.value
    labels = view_labels(store, view, {v for f in facts.values() for v in f.values()}, lang)

    def rows_of(memberships: set[str], other: str) -> list[dict[str, str]]:
        out = []
        for ms in memberships:
            f = facts.get(ms, {})
            who = f.get(other, "")
            role = f.get("nodeRole") or f.get("role", "")
            if who:
                out.append({"iri": who, "label": labels.get(who, who.rsplit("/", 1)[-1]), "role": labels.get(role, role.rsplit("#", 1)[-1]) if role else ""})
        return sorted(out, key=lambda r: (r["role"], r["label"].casefold()))

    view.extra["members"] = rows_of(mine, "member")
    view.extra["member_of"] = rows_of(joined, "organization")
    memberships = {ORG + "organization", ORG + "member"}
    view.incoming = [g for g in view.incoming if g.predicate not in memberships]  # listed above, by member and role


def _children(store: Store, nodes: list[str], predicate: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for s, _p, o, _g in store.quads_touching(nodes, predicates=(predicate,)):
        if isinstance(o, ox.NamedNode):
            out.setdefault(s.value, []).append(o.value)
    return out


def _without_code(label: str, code: str) -> str:
    """"1.1.B Events for …" → "Events for …" (the code has its own column)."""
    return label[len(code):].lstrip(" .:—-") if code and label.startswith(code) else label


def programme_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A work programme as goal → outcome → action: one row per action, its leads and contributors in
    one cell each, its time frame as a bar on the programme's years. Index lookups only."""
    goals = _children(store, [view.iri], CHM.hasGoal).get(view.iri, [])
    outcomes = _children(store, goals, CHM.hasOutcome)
    all_outcomes = [o for g in goals for o in outcomes.get(g, [])]
    actions = _children(store, all_outcomes, CHM.hasAction)
    all_actions = [a for o in all_outcomes for a in actions.get(o, [])]
    facts: dict[str, dict[str, list[str]]] = {}
    wanted = (SKOS.notation, CHM.startYear, CHM.endYear, CHM.leadActor, CHM.contributingActor)
    for s, p, o, _g in store.quads_touching(goals + all_outcomes + all_actions, predicates=wanted):
        facts.setdefault(s.value, {}).setdefault(p.value, []).append(o.value)
    actors = {a for f in facts.values() for a in f.get(CHM.leadActor, []) + f.get(CHM.contributingActor, [])}
    labels = view_labels(store, view, set(goals + all_outcomes + all_actions) | actors, lang)

    def code(node: str) -> str:
        return (facts.get(node, {}).get(SKOS.notation) or [""])[0]

    def year(node: str, pred: str) -> int | None:
        value = (facts.get(node, {}).get(pred) or [""])[0]
        return int(value[:4]) if value[:4].isdigit() else None

    years = [y for a in all_actions for y in (year(a, CHM.startYear), year(a, CHM.endYear)) if y]
    first, last = (min(years), max(years)) if years else (0, 0)
    span = max(1, last - first + 1)

    def natural(node: str) -> list:
        return [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", code(node))]

    out = []
    for g in sorted(goals, key=natural):
        rows = []
        for o in sorted(outcomes.get(g, []), key=natural):
            acts = sorted(actions.get(o, []), key=natural)
            for i, a in enumerate(acts or [None]):
                row = {"outcome": o, "outcome_code": code(o), "outcome_label": _without_code(labels.get(o, o), code(o)),
                       "first": i == 0, "span": max(1, len(acts))}
                if a:
                    start, end = year(a, CHM.startYear), year(a, CHM.endYear)
                    row.update({"action": a, "code": code(a), "label": _without_code(labels.get(a, a), code(a)), "start": start, "end": end,
                                "leads": sorted(((labels.get(x, x), x) for x in facts.get(a, {}).get(CHM.leadActor, []))),
                                "contributors": sorted(((labels.get(x, x), x) for x in facts.get(a, {}).get(CHM.contributingActor, []))),
                                "left": round(100 * ((start or first) - first) / span, 1),
                                "width": round(100 * ((end or start or first) - (start or first) + 1) / span, 1)})
                rows.append(row)
        out.append({"goal": g, "code": code(g), "label": _without_code(labels.get(g, g), "Goal " + code(g)), "rows": rows})
    view.extra["programme"] = out
    view.extra["years"] = (first, last)


MEETING_DECISIONS = builder.prefixed(
    "SELECT ?d ?symbol ?number ?status WHERE { ?d prov:wasGeneratedBy $meeting ; chm:symbol ?symbol . "
    "OPTIONAL { ?d chm:decisionNumber ?number } OPTIONAL { ?d chm:currentStatus ?status } }")
MEETING_DOCUMENTS_SHOWN = 500
MEETING_FACTS = (SCHEMA.startDate, SCHEMA.endDate, CHM.city, CHM.country, CHM.meetingCode, PROV.wasAssociatedWith)


def meeting_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A meeting: where and when, who met, and its decisions in number order with their status."""
    facts: dict[str, str] = {}
    body = None
    for _s, p, o, _g in store.quads_touching([view.iri], predicates=MEETING_FACTS):
        if p.value == PROV.wasAssociatedWith and isinstance(o, ox.NamedNode):
            body = o.value
        elif isinstance(o, ox.Literal):
            facts.setdefault(p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1], o.value)
    rows = store.select(builder.fill(MEETING_DECISIONS, meeting=ox.NamedNode(view.iri)))
    decisions: dict[str, dict] = {}
    for r in rows:
        d = r["d"].value
        entry = decisions.setdefault(d, {"iri": d, "symbol": r["symbol"].value, "status": ""})
        if "number" in r and r["number"].value.isdigit():
            entry["number"] = int(r["number"].value)
        if "status" in r:
            entry["status"] = r["status"].value
    labels = view_labels(store, view, set(decisions) | {e["status"] for e in decisions.values() if e["status"]} | ({body} if body else set()), lang)
    for e in decisions.values():
        title = labels.get(e["iri"], e["symbol"])
        prefix = f"decision {e['symbol']}"
        if title.lower().startswith(prefix.lower()):  # "Decision X/1: Access to …": the symbol has its column
            title = title[len(prefix):].lstrip(" :—-") or title
        e["title"] = title
        e["status_label"] = labels.get(e["status"], e["status"].rsplit("/", 1)[-1]) if e["status"] else ""
        e["status_key"] = e["status"].rsplit("/", 1)[-1] if e["status"] else ""
    view.extra["meeting"] = {**facts, "body": body, "body_label": labels.get(body, "") if body else ""}
    view.extra["meeting_decisions"] = sorted(decisions.values(), key=lambda e: (e.get("number", 10**6), e["symbol"]))
    # its documents (chm:forMeeting), by symbol in natural order ("/2" before "/10")
    docs = sorted({s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(CHM.forMeeting,))
                   if isinstance(s, ox.NamedNode)})
    symbols = {s.value: o.value for s, _p, o, _g in store.quads_touching(docs[:MEETING_DOCUMENTS_SHOWN], predicates=(DCTERMS.identifier,))
               if isinstance(o, ox.Literal)}
    titles = {s.value: o.value for s, _p, o, _g in store.quads_touching(docs[:MEETING_DOCUMENTS_SHOWN], predicates=(DCTERMS.title,))
              if isinstance(o, ox.Literal) and (o.language or "en") in (lang, "en")}
    natural = lambda text: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", text)]  # noqa: E731
    view.extra["meeting_documents"] = sorted(((symbols.get(d, d.rsplit("/", 1)[-1]), titles.get(d, ""), d) for d in docs[:MEETING_DOCUMENTS_SHOWN]),
                                             key=lambda row: natural(row[0]))
    view.extra["more_documents"] = max(0, len(docs) - MEETING_DOCUMENTS_SHOWN)


DOCUMENT_FACTS = (DCTERMS.identifier, CHM.documentType, CHM.forMeeting, CHM.languageVersion, DCTERMS.language)
OFFICIAL_COPY = "https://undocs.org/"  # the UN's resolver of document symbols (the Official Document System)


def document_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A document: its symbol, kind, meeting and language versions, and, for a UN symbol, where its
    official copy is (one link per language version, or in the page's language when none is known)."""
    facts: dict[str, str] = {}
    versions: list[str] = []
    meeting = ""
    for _s, p, o, _g in store.quads_touching([view.iri], predicates=DOCUMENT_FACTS):
        if p.value == CHM.forMeeting and isinstance(o, ox.NamedNode):
            meeting = o.value
        elif p.value == CHM.languageVersion and isinstance(o, ox.Literal):
            versions.append(o.value)
        elif isinstance(o, ox.Literal):
            facts.setdefault(p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1], o.value)
    symbol = facts.get("identifier", "")
    official = []
    if symbol and document_facts(symbol).body:
        languages = [code for code in SIX_LANGUAGES if code in versions] or [lang if lang in SIX_LANGUAGES else "en"]
        official = [(code, f"{OFFICIAL_COPY}{code}/{quote(symbol, safe='/')}") for code in languages]
    view.extra["document"] = {"symbol": symbol, "type": facts.get("documentType", ""), "meeting": meeting,
                              "meeting_label": view_labels(store, view, {meeting}, lang).get(meeting, "") if meeting else "",
                              "versions": [code for code in SIX_LANGUAGES if code in versions], "official": official}


KMGBF = "http://metadata.cbd.int/kmgbf/ontology#"
INDICATOR_ROLES = (("headline", KMGBF + "isHeadlineFor"), ("binary", KMGBF + "isBinaryFor"),
                   ("component", KMGBF + "isComponentFor"), ("complementary", KMGBF + "isComplementaryFor"))


def target_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A target of the Aichi or the Kunming-Montreal framework: which framework, the KMGBF indicators
    by their role (through the target's match in the Secretariat's ontology), and what in the hub is
    about it — decisions, their paragraphs, records. Index lookups only."""
    node = view.iri
    schemes = [o.value for _s, _p, o, _g in store.quads_touching([node], predicates=(SKOS.inScheme,)) if isinstance(o, ox.NamedNode)]
    view.extra["framework"] = "kmgbf" if any("gbf" in sc for sc in schemes) else "aichi"
    matches = sorted({o.value for _s, _p, o, _g in store.quads_touching([node], predicates=(SKOS.exactMatch, SKOS.closeMatch))
                      if isinstance(o, ox.NamedNode)})
    roles: dict[str, set[str]] = {}
    for role, pred in INDICATOR_ROLES:
        found = {s.value for s, _p, _o, _g in store.quads_touching(matches, as_object=True, predicates=(pred,)) if isinstance(s, ox.NamedNode)}
        if found:
            roles[role] = found
    about = sorted({s.value for s, _p, _o, _g in store.quads_touching([node, *matches], as_object=True, predicates=(DCTERMS.subject,))
                    if isinstance(s, ox.NamedNode)})
    kinds: dict[str, str] = {}
    for s, _p, o, _g in store.quads_touching(about, predicates=(RDF.type,)):
        if o.value == CHM.Decision:
            kinds[s.value] = "decisions"
        elif o.value == CHM.Record and kinds.get(s.value) != "decisions":
            kinds[s.value] = "records"
    labels = view_labels(store, view, {i for v in roles.values() for i in v} | set(about), lang)
    view.extra["indicators"] = [(role, sorted(((labels.get(i, i.rsplit("/", 1)[-1]), i) for i in roles[role]), key=lambda x: x[0].casefold()))
                                for role, _ in INDICATOR_ROLES if role in roles]
    grouped_about: dict[str, list[tuple[str, str]]] = {}
    for iri in about:
        grouped_about.setdefault(kinds.get(iri, "paragraphs" if "/decision/" in iri else "other"), []).append((labels.get(iri, iri), iri))
    view.extra["about"] = [(k, sorted(grouped_about[k])) for k in ("decisions", "paragraphs", "records", "other") if k in grouped_about]


ORG = "http://www.w3.org/ns/org#"
MEMBERSHIP_FACTS = (CHM.signed, CHM.consented, CHM.inForceFrom, CHM.nodeRole, ORG + "organization", DCTERMS.source)


def country_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A country: its status under each instrument (signature, consent to be bound, entry into force,
    from the memberships the build derives from ECOLEX), and the records about it."""
    memberships = sorted({s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(ORG + "member",))
                          if isinstance(s, ox.NamedNode)})
    rows: dict[str, dict[str, str]] = {m: {"iri": m} for m in memberships}
    for s, p, o, _g in store.quads_touching(memberships, predicates=MEMBERSHIP_FACTS):
        rows[s.value][p.value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]] = o.value
    records = sorted({s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(CHM.country,))
                      if isinstance(s, ox.NamedNode)})
    labels = view_labels(store, view, set(memberships) | set(records) | {r["organization"] for r in rows.values() if "organization" in r}, lang)
    for r in rows.values():
        label = labels.get(r["iri"], "")
        # "Pakistan: Party to the Nagoya Protocol" → "Party to the Nagoya Protocol"
        r["status"] = label.split(": ", 1)[1] if ": " in label else label
        r["role"] = r.get("nodeRole", "").rsplit("#", 1)[-1]
        r["body"] = labels.get(r.get("organization", ""), "")
    view.extra["memberships"] = sorted(rows.values(), key=lambda r: (r.get("inForceFrom") or "9999", r["status"]))
    view.extra["country_records"] = [(labels.get(i, i), i) for i in records]
    view.incoming = [g for g in view.incoming if g.predicate != ORG + "member"]  # the party status table above
    # where it is: the world with the country picked out (its two-letter code, skos:notation)
    codes = [o.value for _s, _p, o, _g in store.quads_touching([view.iri], predicates=(SKOS.notation,))
             if isinstance(o, ox.Literal) and len(o.value) == 2 and o.value.isalpha()]
    if codes:
        from hub.web.views.dashboard import numeric_code

        if numeric_code(codes[0]):  # a code the world's geometry knows: its map is /map/<code>.svg
            view.extra["map"] = "/map/" + codes[0].lower() + ".svg"


_SKOS = "http://www.w3.org/2004/02/skos/core#"
MAPPINGS = (("exact", _SKOS + "exactMatch"), ("close", _SKOS + "closeMatch"), ("broad", _SKOS + "broadMatch"),
            ("narrow", _SKOS + "narrowMatch"), ("related", _SKOS + "relatedMatch"))
LABEL_KINDS = ((_SKOS + "prefLabel", "pref"), (_SKOS + "altLabel", "alt"), (_SKOS + "hiddenLabel", "hidden"))
CHILDREN_SHOWN = 200


def concept_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A concept as a thesaurus browser shows it: its place in the hierarchy (the path from the top,
    itself, its narrower concepts with how many each has), its labels per language, its mappings
    grouped by kind. Index lookups only."""
    node = view.iri
    children = {o.value for _s, _p, o, _g in store.quads_touching([node], predicates=(_SKOS + "narrower",)) if isinstance(o, ox.NamedNode)}
    children |= {s.value for s, _p, _o, _g in store.quads_touching([node], as_object=True, predicates=(_SKOS + "broader",))
                 if isinstance(s, ox.NamedNode)}
    children.discard(node)
    kids = sorted(children)[:CHILDREN_SHOWN * 5]
    grandchildren: dict[str, set[str]] = {k: set() for k in kids}
    for s, _p, o, _g in store.quads_touching(kids, predicates=(_SKOS + "narrower",)):
        grandchildren[s.value].add(o.value)
    for s, _p, o, _g in store.quads_touching(kids, as_object=True, predicates=(_SKOS + "broader",)):
        grandchildren[o.value].add(s.value)
    labels_by_lang: dict[str, dict[str, list[str]]] = {}
    for _s, p, o, _g in store.quads_touching([node], predicates=tuple(p for p, _k in LABEL_KINDS)):
        if isinstance(o, ox.Literal):
            kind = dict(LABEL_KINDS)[p.value]
            labels_by_lang.setdefault(o.language or "", {}).setdefault(kind, [])
            if o.value not in labels_by_lang[o.language or ""][kind]:
                labels_by_lang[o.language or ""][kind].append(o.value)
    mapped: dict[str, list[str]] = {}
    for _s, p, o, _g in store.quads_touching([node], predicates=tuple(p for _k, p in MAPPINGS)):
        if isinstance(o, ox.NamedNode):
            kind = next(k for k, pred in MAPPINGS if pred == p.value)
            if o.value not in mapped.setdefault(kind, []):
                mapped[kind].append(o.value)
    names = view_labels(store, view, set(kids) | {m for ms in mapped.values() for m in ms}, lang)
    view.extra["children"] = sorted(((names.get(k, k.rsplit("/", 1)[-1]), k, len(grandchildren.get(k, ()))) for k in kids),
                                    key=lambda x: x[0].casefold())[:CHILDREN_SHOWN]
    view.extra["more_children"] = max(0, len(children) - CHILDREN_SHOWN)
    order = {code: i for i, code in enumerate((lang, "en", "fr", "es", "ar", "zh", "ru"))}
    view.extra["labels_by_lang"] = sorted(labels_by_lang.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
    view.extra["mappings"] = [(kind, sorted(((names.get(m, m), m) for m in mapped[kind]), key=lambda x: x[0].casefold()))
                              for kind, _p in MAPPINGS if kind in mapped]


USE_OF_CLASS = "SELECT ?t (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t"
USE_OF_PROPERTY = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"
EXAMPLES_OF_CLASS = "SELECT DISTINCT ?t ?s WHERE { ?s a ?t } LIMIT 10"
EXAMPLES_OF_PROPERTY = "SELECT DISTINCT ?p ?s WHERE { ?s ?p ?o } LIMIT 10"


def term_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A class or property of the vocabulary: how often the hub uses it, and some of its uses."""
    node = ox.NamedNode(view.iri)
    is_class = any(t.href == OWL.Class for t in view.types)
    if is_class:
        rows = store.select(USE_OF_CLASS, {"t": node})
        examples = store.select(EXAMPLES_OF_CLASS, {"t": node})
    else:
        rows = store.select(USE_OF_PROPERTY, {"p": node})
        examples = store.select(EXAMPLES_OF_PROPERTY, {"p": node})
    subjects = [r["s"].value for r in examples if isinstance(r["s"], ox.NamedNode)]
    labels = view_labels(store, view, set(subjects), lang)
    view.extra["is_class"] = is_class
    view.extra["uses"] = int(rows[0]["n"].value) if rows else 0
    view.extra["examples"] = [Value(labels.get(x, x), href=x) for x in subjects]


SUGGESTION_FACTS = (CHM.suggestedConcept, CHM.score, CHM.rank, CHM.reviewStatus)


def record_panels(store: Store, view: ResourceView, lang: str) -> None:
    """A record (a submitted document, a harvested CHM record): the tagger's suggestions in rank order,
    each with its concept by label, its score and its review status, instead of bare suggestion links."""
    nodes = sorted({s.value for s, _p, _o, _g in store.quads_touching([view.iri], as_object=True, predicates=(CHM.suggestedFor,))
                    if isinstance(s, ox.NamedNode)})
    facts: dict[str, dict[str, str]] = {n: {} for n in nodes}
    for s, p, o, _g in store.quads_touching(nodes, predicates=SUGGESTION_FACTS):
        facts[s.value][p.value.rsplit("#", 1)[-1]] = o.value
    concepts = {f.get("suggestedConcept", "") for f in facts.values()} - {""}
    labels = view_labels(store, view, concepts, lang) if concepts else {}
    rows = []
    for node, f in facts.items():
        concept = f.get("suggestedConcept", "")
        rows.append({"iri": node, "concept": concept, "label": labels.get(concept, concept.rsplit("/", 1)[-1]),
                     "score": f.get("score", ""), "rank": int(f["rank"]) if f.get("rank", "").isdigit() else 10_000,
                     "status": f.get("reviewStatus", "")})
    view.extra["suggestions"] = sorted(rows, key=lambda r: (r["rank"], r["label"]))
    view.incoming = [g for g in view.incoming if g.predicate != CHM.suggestedFor]  # listed above, by concept


PANELS = {"document": document_panels, "record": record_panels, "term": term_panels, "meeting": meeting_panels, "target": target_panels, "country": country_panels,
          "concept": concept_panels, "decision": decision_panels, "article": article_panels, "actor": actor_panels, "programme": programme_panels}
