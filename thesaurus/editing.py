"""Editing a vocabulary: checked changes, drafts, publication with version numbers, history, revert.

A change to a concept (:class:`ConceptEdit`) is turned into a delta — the triples it adds to and
removes from the concept's vocabulary graph. Before it is saved, the delta is applied to an
in-memory copy of that graph and checked: the shapes (scoped to the touched concepts) and the
quality checks it would newly break (a cycle, two prefLabels in one language, a label both pref
and alt, related and broader together, a dangling link, a label with stray characters). A change
that passes becomes a **draft** (a ``chm:ChangeSet`` in the ``editorial-history`` graph, with the
delta as N-Triples); a publisher **publishes** it, which applies the delta through the validated
update path and numbers the concept's and the scheme's version. Each concept's history — who,
when, which triples added and removed — is RDF (PROV) in that graph; any published change can be
**reverted** by a new change that applies the inverse delta.

Two editors cannot silently overwrite each other: a change names the concept version it was made
from, and saving or publishing it against a newer version is refused (:class:`StaleVersion`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyoxigraph as ox

from ontology import CHM, DCTERMS, OWL, PROV, RDF, SKOS, XSD
from ontology.errors import ChmError
from shapes.validate import validate_store
from sparql.builder import Update, iri, prefixed
from sparql.store import EmbeddedStore, Store
from thesaurus.quality import run_checks

HISTORY = "editorial-history"
BLOCKING = ("broader-cycles", "several-preflabels", "pref-and-alt", "related-and-broader", "dangling-references",
            "top-concept-with-broader", "stray-characters", "label-clash")
SCOPE = "urn:chmkg:staging:scope"
FOCUS = "urn:chmkg:staging:focus"
_LANG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")
_MARKUP = re.compile(r"<[^>]*>|&[a-zA-Z#0-9]+;|[<>]")


class EditError(ChmError):
    """A change that is malformed or breaks a rule; nothing was saved."""

    code = "E701"
    http_status = 422

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message + ("".join(f"\n- {p}" for p in problems) if problems else ""))
        self.problems = problems or []


class StaleVersion(ChmError):
    code = "E702"
    http_status = 409


class UnknownChange(ChmError):
    code = "E703"
    http_status = 404


@dataclass
class ConceptEdit:
    """The new state of the properties an editor changed; None leaves a property as it is."""

    concept: str
    base_version: int
    scheme: str | None = None  # needed for a new concept
    pref: dict[str, str] | None = None
    alt: dict[str, list[str]] | None = None
    hidden: dict[str, list[str]] | None = None
    definition: dict[str, str] | None = None
    scope_note: dict[str, str] | None = None
    broader: list[str] | None = None
    related: list[str] | None = None
    exact: list[str] | None = None
    close: list[str] | None = None
    deprecated: bool | None = None
    replaced_by: str | None = None
    note: str = ""


@dataclass
class Change:
    iri: str
    concept: str
    graph: str
    author: str
    status: str
    base_version: int
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    created: str = ""
    note: str = ""
    version: int | None = None
    published_by: str = ""
    reverts: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def _iri(value: str, what: str) -> str:
    value = value.strip()
    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
        raise EditError(f"{what}: {value!r} is not an http(s) IRI")
    return value


def _label(text: str, lang: str, what: str, problems: list[str]) -> ox.Literal | None:
    text = " ".join(text.split())
    if not _LANG.match(lang):
        problems.append(f"{what}: {lang!r} is not a language tag such as en, fr or es")
        return None
    if not text:
        return None
    if _MARKUP.search(text):
        problems.append(f"{what}@{lang}: {text!r} contains markup; labels are plain text")
        return None
    return ox.Literal(text, language=lang)


def _nt(s: str, p: str, o: ox.NamedNode | ox.Literal) -> str:
    return f"{ox.NamedNode(s)} {ox.NamedNode(p)} {o} ."


CONCEPT_GRAPHS = prefixed("SELECT ?g ?c WHERE { GRAPH ?g { ?c a skos:Concept } }")
SCHEME_GRAPHS = prefixed("SELECT ?g ?s WHERE { GRAPH ?g { ?s a skos:ConceptScheme } }")
CONCEPT_VERSION = prefixed('SELECT ?concept ?h (COUNT(?c) AS ?n) WHERE { GRAPH ?h { ?c chm:changedConcept ?concept ; '
                           'chm:changeStatus "published" } } GROUP BY ?concept ?h')
SCHEME_VERSION = prefixed('SELECT ?g ?h (COUNT(?c) AS ?n) WHERE { GRAPH ?h { ?c chm:inGraph ?g ; chm:changeStatus "published" } } GROUP BY ?g ?h')
CONCEPT_TRIPLES = "CONSTRUCT { ?c ?p ?o } WHERE { GRAPH ?g { ?c ?p ?o } }"
HAS_TRIPLE = "ASK { GRAPH ?g { ?s ?p ?o } }"
LABEL_CLASHES = prefixed("""SELECT ?concept ?other ?l ?g WHERE { GRAPH ?g {
  ?concept skos:prefLabel ?l ; skos:inScheme ?s . ?other skos:inScheme ?s ; skos:prefLabel ?l2
  FILTER (?other != ?concept && lang(?l2) = lang(?l) && LCASE(STR(?l2)) = LCASE(STR(?l))) } }""")


def _same_text(text: str) -> str:
    """A label's text as the editor compares it: whitespace runs count as one space."""
    return " ".join(text.split())


def desired_triples(edit: ConceptEdit, stored: dict[tuple[str, str, str], str] | None = None) -> tuple[dict[str, set[str]], list[str]]:
    """Per predicate (``pred@lang`` for labels), the N-Triples lines the concept should have after
    the edit — only for the predicates and languages the edit names — and the problems found.

    ``stored`` maps (predicate, language, text with whitespace collapsed) to the line the store
    holds: a value that equals a stored one but for whitespace is that stored line, unchanged and
    not checked again (an export imported back changes nothing)."""
    c = _iri(edit.concept, "concept")
    problems: list[str] = []
    want: dict[str, set[str]] = {}
    stored = stored or {}

    def labels(pred: str, values: dict[str, list[str]] | None, name: str) -> None:
        if values is None:
            return
        for lang, items in values.items():  # only the languages the edit names change
            out = want.setdefault(f"{pred}@{lang}", set())
            for text in items:
                kept = stored.get((pred, lang, _same_text(text)))
                if kept is not None:
                    out.add(kept)
                    continue
                lit = _label(text, lang, name, problems)
                if lit is not None:
                    out.add(_nt(c, pred, lit))

    labels(SKOS.prefLabel, {k: [v] for k, v in edit.pref.items()} if edit.pref is not None else None, "prefLabel")
    labels(SKOS.altLabel, edit.alt, "altLabel")
    labels(SKOS.hiddenLabel, edit.hidden, "hiddenLabel")
    labels(SKOS.definition, {k: [v] for k, v in edit.definition.items()} if edit.definition is not None else None, "definition")
    labels(SKOS.scopeNote, {k: [v] for k, v in edit.scope_note.items()} if edit.scope_note is not None else None, "scopeNote")
    for pred, values, name in ((SKOS.broader, edit.broader, "broader"), (SKOS.related, edit.related, "related"),
                               (SKOS.exactMatch, edit.exact, "exactMatch"), (SKOS.closeMatch, edit.close, "closeMatch")):
        if values is not None:
            targets = {_iri(v, name) for v in values if v.strip()}
            if c in targets and (pred, "", c) not in stored:  # one the source already had is left alone
                problems.append(f"{name}: a concept cannot be its own {name}")
            want[pred] = {_nt(c, pred, ox.NamedNode(t)) for t in targets}
    if edit.deprecated is not None:
        want[OWL.deprecated] = {_nt(c, OWL.deprecated, ox.Literal("true", datatype=ox.NamedNode(XSD.boolean)))} if edit.deprecated else set()
    if edit.replaced_by is not None:
        want[DCTERMS.isReplacedBy] = {_nt(c, DCTERMS.isReplacedBy, ox.NamedNode(_iri(edit.replaced_by, "isReplacedBy")))} if edit.replaced_by.strip() else set()
    if edit.deprecated and not (edit.replaced_by or "").strip():
        problems.append("a deprecated concept names the concept that replaces it (dcterms:isReplacedBy), so links never dangle")
    return want, problems


def _stored_labels(lines: set[str]) -> dict[tuple[str, str, str], str]:
    """(predicate, language, collapsed text) → the stored N-Triples line, for the concept's literals."""
    out: dict[tuple[str, str, str], str] = {}
    for line in lines:
        t = next(iter(ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES)))
        if isinstance(t.object, ox.Literal) and t.object.language:
            out[(t.predicate.value, t.object.language, _same_text(t.object.value))] = line
        elif isinstance(t.object, ox.NamedNode):
            out[(t.predicate.value, "", t.object.value)] = line
    return out


def _key(line: str) -> str:
    """``pred`` or ``pred@lang`` of an N-Triples line."""
    t = next(iter(ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES)))
    lang = getattr(t.object, "language", None)
    return f"{t.predicate.value}@{lang}" if lang else t.predicate.value


def concept_graph(store: Store, concept: str, vocab_prefix: str) -> str | None:
    concept = _iri(concept, "concept")
    rows = store.select(CONCEPT_GRAPHS, {"c": iri(concept, "concept")}, union=False)
    graphs = [r["g"].value for r in rows if r["g"].value.startswith(vocab_prefix)]
    return graphs[0] if graphs else None


def scheme_graph(store: Store, scheme: str, vocab_prefix: str) -> str | None:
    rows = store.select(SCHEME_GRAPHS, {"s": iri(scheme, "scheme")}, union=False)
    graphs = [r["g"].value for r in rows if r["g"].value.startswith(vocab_prefix)]
    return graphs[0] if graphs else None


def current_version(store: Store, concept: str, history: str) -> int:
    concept = _iri(concept, "concept")
    rows = store.select(CONCEPT_VERSION, {"concept": iri(concept, "concept"), "h": iri(history)}, union=False)
    return int(rows[0]["n"].value) if rows else 0


def _lines(store: Store, graph: str, concept: str) -> set[str]:
    data = store.construct(CONCEPT_TRIPLES, {"c": iri(concept, "concept"), "g": iri(graph)}, union=False)
    return {line.strip() for line in data.decode().splitlines() if line.strip()}


def plan(store: Store, edit: ConceptEdit, history: str, vocab_prefix: str) -> tuple[str, list[str], list[str]]:
    """The graph and the delta (added, removed N-Triples lines) of an edit; checks the version."""
    concept = _iri(edit.concept, "concept")
    graph = concept_graph(store, concept, vocab_prefix)
    have = version = None
    if graph is None:
        if not edit.scheme:
            raise EditError(f"<{concept}> is not a concept of any vocabulary; to create it, name its scheme")
        graph = scheme_graph(store, _iri(edit.scheme, "scheme"), vocab_prefix)
        if graph is None:
            raise EditError(f"<{edit.scheme}> is not a concept scheme of any vocabulary")
        if not edit.pref:
            raise EditError("a new concept needs a prefLabel")
    version = current_version(store, concept, history)
    if edit.base_version != version:
        raise StaleVersion(f"<{concept}> is at version {version}; this change was made from version {edit.base_version}. "
                           "Another editor changed it meanwhile: reload the concept and make the change again")
    have = _lines(store, graph, concept)
    want, problems = desired_triples(edit, _stored_labels(have))
    if problems:
        raise EditError("the change was refused; nothing was saved:", problems)
    added: set[str] = set()
    removed: set[str] = set()
    if not have:  # a new concept
        added |= {_nt(concept, RDF.type, ox.NamedNode(SKOS.Concept)), _nt(concept, SKOS.inScheme, ox.NamedNode(edit.scheme or ""))}
    keyed = {line: _key(line) for line in have}
    for key, lines in want.items():
        mine = {line for line, k in keyed.items() if k == key or (k.split("@")[0] == key and "@" not in key)}
        added |= lines - mine
        removed |= mine - lines
    # the inverse links stay consistent: broader ↔ narrower, related both ways
    inverse = {SKOS.broader: SKOS.narrower, SKOS.related: SKOS.related}
    for line in list(added) + list(removed):
        t = next(iter(ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES)))
        inv = inverse.get(t.predicate.value)
        if inv is None:
            continue
        mirror = _nt(t.object.value, inv, ox.NamedNode(concept))
        exists = store.ask(HAS_TRIPLE, {"g": iri(graph), "s": t.object, "p": ox.NamedNode(inv), "o": ox.NamedNode(concept)}, union=False)
        if line in added and not exists:
            added.add(mirror)
        elif line in removed and exists:
            removed.add(mirror)
    return graph, sorted(added), sorted(removed)


def check_delta(store: Store, graph: str, added: list[str], removed: list[str], concept: str) -> None:
    """Apply the delta to an in-memory copy of the graph; refuse what breaks the shapes or newly
    breaks a blocking quality check (the editor sees each reason)."""
    copy = ox.Store()
    copy.load(store.dump(graph, ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    touched = {concept} | {line.split(" ", 1)[0][1:-1] for line in added + removed}
    whole_graph = [c for c in BLOCKING if c != "label-clash"]  # a new clash always names a touched concept:
    before = run_checks(copy, graph, only=whole_graph)        # that check runs on those only (0.8 s → ms on GEMET)
    clashes_before = _clashes(copy, graph, touched)
    g = ox.NamedNode(graph)
    for line in removed:
        for t in ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES):
            copy.remove(ox.Quad(t.subject, t.predicate, t.object, g))
    for line in added:
        for t in ox.parse(line.encode(), ox.RdfFormat.N_TRIPLES):
            copy.add(ox.Quad(t.subject, t.predicate, t.object, g))
    after = run_checks(copy, graph, only=whole_graph)
    old = {(r.id, f) for r in before.results for f in r.findings}
    problems = [f"{r.title}: {f.concept} — {f.detail}" for r in after.results for f in r.findings if (r.id, f) not in old]
    problems += [f"The same prefLabel on two concepts of a scheme: {c} — {label} is the prefLabel of {other} too"
                 for c, other, label in sorted(_clashes(copy, graph, touched) - clashes_before)]
    marker = ox.Literal("true", datatype=ox.NamedNode(XSD.boolean))
    copy.extend(ox.Quad(ox.NamedNode(s), ox.NamedNode(FOCUS), marker, ox.NamedNode(SCOPE)) for s in touched)
    report = validate_store(EmbeddedStore.wrap(copy), scope_graph=SCOPE, classes={SKOS.Concept})
    if not report.conforms:
        problems += [f"{v.message} ({v.focus})" for v in report.violations]
    if problems:
        raise EditError("the change was refused; nothing was saved:", problems)


def _clashes(store: ox.Store, graph: str, concepts: set[str]) -> set[tuple[str, str, str]]:
    """(concept, other concept, label@lang) where a given concept shares a prefLabel with another
    concept of one of its schemes (case-insensitive, same language)."""
    if not concepts:
        return set()
    g = iri(graph)
    out: set[tuple[str, str, str]] = set()
    for c in sorted(concepts):
        for r in store.query(LABEL_CLASHES, substitutions={ox.Variable("concept"): iri(c, "concept"), ox.Variable("g"): g}):
            out.add((r["concept"].value, r["other"].value, f"{r['l'].value} @{r['l'].language}"))
    return out


CHANGES = prefixed("""SELECT ?c ?concept ?g ?author ?status ?base ?added ?removed ?created ?note ?version ?by ?reverts ?h WHERE {
  GRAPH ?h { ?c a chm:ChangeSet ; chm:changedConcept ?concept ; chm:inGraph ?g ;
     dcterms:contributor ?author ; chm:changeStatus ?status ; chm:baseVersion ?base ;
     chm:addedTriples ?added ; chm:removedTriples ?removed ; prov:startedAtTime ?created .
     OPTIONAL { ?c dcterms:description ?note } OPTIONAL { ?c chm:version ?version }
     OPTIONAL { ?c chm:publishedBy ?by } OPTIONAL { ?c chm:reverts ?reverts } } }
ORDER BY ?created ?version ?c""")


def _change(r: dict) -> Change:
    def lines(lit) -> list[str]:
        return [x for x in lit.value.split("\n") if x.strip()]
    return Change(r["c"].value, r["concept"].value, r["g"].value, r["author"].value, r["status"].value, int(r["base"].value),
                  lines(r["added"]), lines(r["removed"]), r["created"].value, r["note"].value if r.get("note") else "",
                  int(r["version"].value) if r.get("version") else None, r["by"].value if r.get("by") else "",
                  r["reverts"].value if r.get("reverts") else "")


def changes(store: Store, history: str, concept: str | None = None, status: str | None = None, change: str | None = None) -> list[Change]:
    bindings: dict[str, ox.NamedNode | ox.Literal] = {"h": iri(history)}
    if concept:
        bindings["concept"] = iri(_iri(concept, "concept"), "concept")
    if status:
        if status not in ("draft", "published", "rejected"):
            raise EditError(f"unknown change status {status!r}")
        bindings["status"] = ox.Literal(status)
    if change:
        bindings["c"] = iri(_iri(change, "change"), "change")
    return [_change(r) for r in store.select(CHANGES, bindings, union=False)]


def _triples(lines: list[str]) -> list[tuple]:
    """N-Triples lines parsed back into terms (a line that does not parse is refused, never pasted)."""
    try:
        return [(t.subject, t.predicate, t.object) for t in ox.parse("\n".join(lines).encode(), ox.RdfFormat.N_TRIPLES)]
    except SyntaxError as e:
        raise EditError(f"the change holds a triple that is not N-Triples: {e}") from None


def draft_update(base: str, history: str, concept: str, graph: str, added: list[str], removed: list[str],
                 author: str, base_version: int, note: str = "", reverts: str = "") -> tuple[str, str]:
    change = iri(f"{base}change/{uuid.uuid4().hex[:16]}")
    now = ox.Literal(datetime.now(UTC).isoformat(timespec="milliseconds"), datatype=ox.NamedNode(XSD.dateTime))
    n = ox.NamedNode
    _triples(added + removed)  # both parse
    body = [(change, n(RDF.type), n(CHM.ChangeSet)), (change, n(RDF.type), n(PROV.Activity)),
            (change, n(CHM.changedConcept), iri(concept, "concept")), (change, n(CHM.inGraph), iri(graph)),
            (change, n(DCTERMS.contributor), ox.Literal(author)), (change, n(CHM.changeStatus), ox.Literal("draft")),
            (change, n(CHM.baseVersion), ox.Literal(str(base_version), datatype=n(XSD.integer))),
            (change, n(CHM.addedTriples), ox.Literal(chr(10).join(added))),
            (change, n(CHM.removedTriples), ox.Literal(chr(10).join(removed))),
            (change, n(PROV.startedAtTime), now)]
    if note:
        body.append((change, n(DCTERMS.description), ox.Literal(note[:1000])))
    if reverts:
        body.append((change, n(CHM.reverts), iri(reverts, "reverted change")))
    return change.value, Update().insert_data(iri(history), body).text()


def propose(store: Store, edit: ConceptEdit, author: str, base: str, history: str, vocab_prefix: str) -> tuple[str, str]:
    """Check an edit and return (draft IRI, the update that saves the draft); raises on refusal."""
    graph, added, removed = plan(store, edit, history, vocab_prefix)
    if not added and not removed:
        raise EditError("the change changes nothing")
    check_delta(store, graph, added, removed, edit.concept)
    return draft_update(base, history, edit.concept, graph, added, removed, author, edit.base_version, edit.note)


def publish_update(store: Store, change: Change, publisher: str, history: str, check=None) -> str:
    """The update that applies a draft to its graph and marks it published (numbered). ``check``
    refuses a delta that breaks the graph's rules (default: the vocabulary checks, :func:`check_delta`);
    other editorial workflows (decision-tracking statuses) bring their own."""
    check = check or check_delta
    if change.status != "draft":
        raise StaleVersion(f"<{change.iri}> is {change.status}, not a draft")
    version = current_version(store, change.concept, history)
    if version != change.base_version:
        raise StaleVersion(f"<{change.concept}> is at version {version}; the draft was made from version "
                           f"{change.base_version}. Publishing it would overwrite another change: reject it and edit again")
    check(store, change.graph, change.added, change.removed, change.concept)
    # the change must still apply exactly: every removed triple is still there, no added one is
    have = _lines(store, change.graph, change.concept)
    gone = [line for line in change.removed if line.split(" ", 1)[0] == f"<{change.concept}>" and line not in have]
    if gone:
        raise StaleVersion(f"the draft removes triples that are no longer there ({gone[0]}); edit again")
    rows = store.select(SCHEME_VERSION, {"g": iri(change.graph), "h": iri(history)}, union=False)
    scheme_version = (int(rows[0]["n"].value) if rows else 0) + 1
    now = ox.Literal(datetime.now(UTC).isoformat(timespec="milliseconds"), datatype=ox.NamedNode(XSD.dateTime))
    integer = ox.NamedNode(XSD.integer)
    n, h, c = ox.NamedNode, iri(history), iri(change.iri, "change")
    update = (Update()
              .delete_data(iri(change.graph), _triples(change.removed))
              .insert_data(iri(change.graph), _triples(change.added))
              .delete_data(h, [(c, n(CHM.changeStatus), ox.Literal("draft"))])
              .insert_data(h, [(c, n(CHM.changeStatus), ox.Literal("published")),
                               (c, n(CHM.version), ox.Literal(str(version + 1), datatype=integer)),
                               (c, n(CHM.schemeVersion), ox.Literal(str(scheme_version), datatype=integer)),
                               (c, n(CHM.publishedBy), ox.Literal(publisher)), (c, n(PROV.endedAtTime), now),
                               (c, n(PROV.used), iri(change.concept, "concept"))]))
    return update.text()


def reject_update(change: Change, history: str, who: str) -> str:
    if change.status != "draft":
        raise StaleVersion(f"<{change.iri}> is {change.status}, not a draft")
    n, h, c = ox.NamedNode, iri(history), iri(change.iri, "change")
    return (Update().delete_data(h, [(c, n(CHM.changeStatus), ox.Literal("draft"))])
            .insert_data(h, [(c, n(CHM.changeStatus), ox.Literal("rejected")), (c, n(CHM.publishedBy), ox.Literal(who))]).text())


def revert_draft(store: Store, change: Change, author: str, base: str, history: str, check=None) -> tuple[str, str]:
    """A draft that undoes a published change (its inverse delta), checked like any change."""
    check = check or check_delta
    if change.status != "published":
        raise EditError(f"only published changes can be reverted; <{change.iri}> is {change.status}")
    version = current_version(store, change.concept, history)
    have = _lines(store, change.graph, change.concept)
    added = [line for line in change.removed if line not in have]
    removed = [line for line in change.added if line in have or line.split(" ", 1)[0] != f"<{change.concept}>"]
    if not added and not removed:
        raise EditError("the change was already undone")
    check(store, change.graph, added, removed, change.concept)
    return draft_update(base, history, change.concept, change.graph, added, removed, author, version,
                        f"revert of {change.iri}", reverts=change.iri)


def concept_state(store: Store, concept: str, vocab_prefix: str, history: str) -> dict:
    """What the edit form shows: the concept's current values and its version."""
    concept = _iri(concept, "concept")
    graph = concept_graph(store, concept, vocab_prefix)
    out: dict = {"concept": concept, "graph": graph, "version": current_version(store, concept, history),
                 "pref": {}, "alt": {}, "hidden": {}, "definition": {}, "scope_note": {}, "broader": [], "related": [], "exact": [], "close": [],
                 "deprecated": False, "replaced_by": "", "scheme": ""}
    if graph is None:
        return out
    for t in ox.parse(store.construct(CONCEPT_TRIPLES, {"c": iri(concept, "concept"), "g": iri(graph)}, union=False),
                      ox.RdfFormat.N_TRIPLES):
        p, o = t.predicate.value, t.object
        lang = getattr(o, "language", None) or ""
        if p == SKOS.prefLabel:
            out["pref"][lang] = o.value
        elif p in (SKOS.altLabel, SKOS.hiddenLabel):
            out["alt" if p == SKOS.altLabel else "hidden"].setdefault(lang, []).append(o.value)
        elif p == SKOS.definition:
            out["definition"][lang] = o.value
        elif p == SKOS.scopeNote:
            out["scope_note"][lang] = o.value
        elif p in (SKOS.broader, SKOS.related, SKOS.exactMatch, SKOS.closeMatch):
            out[{SKOS.broader: "broader", SKOS.related: "related", SKOS.exactMatch: "exact", SKOS.closeMatch: "close"}[p]].append(o.value)
        elif p == OWL.deprecated:
            out["deprecated"] = o.value == "true"
        elif p == DCTERMS.isReplacedBy:
            out["replaced_by"] = o.value
        elif p == SKOS.inScheme and not out["scheme"]:
            out["scheme"] = o.value
    for key in ("broader", "related", "exact", "close"):
        out[key].sort()
    return out


