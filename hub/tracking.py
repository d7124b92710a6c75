"""Decision tracking: statuses that explain themselves, decision lineage derived from paragraphs,
and the index the tracking pages and API filter.

:func:`derive` reads the store and writes one graph, ``tracking``:

- every decision and operational element gets ``chm:currentStatus`` and a ``chm:StatusAssessment``
  (status, reason, when, by whom, derived from what). The order of precedence: a status an editor
  recorded (``chm:recordedStatus``, through the draft → publish workflow) › retired or superseded
  because a later act says so (``eli:repeals`` / ``dcterms:replaces`` on the element or its
  decision) › a status a source recorded (``chm:trackingStatus``, e.g. the Secretariat's tracker) ›
  elapsed when its deadline meeting has passed (or its deadline year) with nothing extending or
  renewing it › active. A decision with operational elements is active while one of them is.
- decision-level lineage from paragraph-level links: a paragraph of D that recalls, reaffirms,
  amends, replaces or retires (a paragraph of) Y makes D do the same to Y.

:class:`TrackingIndex` is what ``/tracking`` and ``/api/decisions`` filter: one row per decision
with its meeting, status, actors, subjects and targets, built once per write generation.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pyoxigraph as ox

from ontology import CHM, DCTERMS, ELI, FOAF, PROV, RDF, SKOS, XSD
from ontology.errors import ChmError
from ontology.iris import Minter, slug
from ontology.symbols import parse_symbol
from ontology.tracking import act_kinds
from ontology.triples import TripleSet, lit
from sparql.builder import prefixed
from sparql.store import Store
from writes.ingest import ParsedSource

GRAPH = "tracking"               # derived statuses and lineage
STATUS_GRAPH = "tracking-status"  # statuses editors recorded (published changes)
HISTORY_GRAPH = "tracking-history"  # the change sets of those statuses
STATUSES = ("active", "implemented", "elapsed", "superseded", "retired", "inactive", "require-funding", "stagnant")
EDITABLE = ("implemented", "active", "inactive", "require-funding", "stagnant")
OPERATIONAL = {"requests", "invites", "urges", "encourages", "calls-upon", "decides", "adopts", "endorses", "establishes",
               "extends", "renews", "retires", "supersedes", "amends"}
LINEAGE = {ELI.cites: "recalls", CHM.reaffirms: "reaffirms", ELI.amends: "amends", DCTERMS.replaces: "supersedes",
           ELI.repeals: "retires"}

DECISIONS = prefixed("""SELECT ?d ?sym ?meeting ?code ?end ?title WHERE {
  ?d a chm:Decision ; chm:symbol ?sym .
  OPTIONAL { ?d prov:wasGeneratedBy ?meeting . OPTIONAL { ?meeting chm:meetingCode ?code } OPTIONAL { ?meeting schema:endDate ?end } }
  OPTIONAL { ?d eli:title ?title FILTER (LANGMATCHES(LANG(?title), "en")) } }""")
ELEMENTS = prefixed("""SELECT ?e ?d ?number ?type WHERE {
  ?e eli:is_part_of ?d . ?d a chm:Decision . OPTIONAL { ?e eli:number ?number } OPTIONAL { ?e chm:elementType ?type } }""")
ACTS = prefixed("""SELECT ?e ?verb ?due ?dueEnd ?dueCode ?year ?who ?on WHERE {
  ?e chm:hasAct ?a . ?a chm:operativeVerb ?verb .
  OPTIONAL { ?a chm:dueBy ?due OPTIONAL { ?due schema:endDate ?dueEnd } OPTIONAL { ?due chm:meetingCode ?dueCode } }
  OPTIONAL { ?a chm:dueDate ?year } OPTIONAL { ?a chm:addressee ?who } OPTIONAL { ?a chm:actsOn ?on } }""")
ADDRESSED = prefixed("SELECT ?e ?who WHERE { ?e chm:addressedTo ?who }")
SUBJECTS = prefixed("SELECT ?x ?s WHERE { ?x dcterms:subject ?s }")
LINKS = prefixed("""SELECT ?g ?src ?p ?dst WHERE {
  GRAPH ?sg { ?src ?p ?dst } FILTER (?p IN (eli:cites, chm:reaffirms, eli:amends, dcterms:replaces, eli:repeals, chm:extends,
                                            chm:renews, chm:establishes) && ?sg != $g) }""")  # not the lineage derived before
RECORDED = prefixed("SELECT ?x ?s ?g WHERE { GRAPH ?g { ?x chm:trackingStatus ?s } }")
PREVIOUS = prefixed("SELECT ?g ?a ?s ?r ?t WHERE { GRAPH $g { ?a chm:status ?s ; chm:statusReason ?r ; prov:generatedAtTime ?t } }")
EDITOR = prefixed("""SELECT ?x ?s ?by ?at ?note ?c WHERE {
  GRAPH ?sg { ?x chm:recordedStatus ?s }
  OPTIONAL { GRAPH ?h { ?c chm:changedConcept ?x ; chm:changeStatus "published" ; chm:publishedBy ?by ; prov:endedAtTime ?at .
                        OPTIONAL { ?c dcterms:description ?note } } } }
ORDER BY ?x DESC(?at)""")


@dataclass
class Node:
    iri: str
    decision: str
    label: str
    operational: bool = False
    deadlines: list[tuple[str, str | None, str]] = field(default_factory=list)  # (meeting, end date, code)
    years: list[int] = field(default_factory=list)
    acts_on: set[str] = field(default_factory=set)


def _v(row: dict, key: str) -> str | None:
    t = row.get(key)
    return t.value if t is not None else None


def derive(store: Store, base: str, today: date | None = None) -> ParsedSource:
    """The ``tracking`` graph for the store as it is now."""
    m = Minter(base)
    today = today or date.today()
    status = {s: m.concept("decision-status", s) for s in STATUSES}
    code_of = {v: k for k, v in status.items()}
    agent = m.base + "agent/tracking-derivation"
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")  # as the store writes it back

    decisions: dict[str, dict] = {}
    for r in store.select(DECISIONS):
        d = r["d"].value
        decisions.setdefault(d, {"sym": r["sym"].value, "meeting": _v(r, "meeting"), "end": _v(r, "end"), "code": _v(r, "code")})
    nodes: dict[str, Node] = {}
    for r in store.select(ELEMENTS):
        d = r["d"].value
        if d not in decisions:
            continue
        number = _v(r, "number") or r["e"].value.rsplit("/", 1)[-1]
        n = nodes.setdefault(r["e"].value, Node(r["e"].value, d, f"{decisions[d]['sym']} para {number}"))
        if _v(r, "type") == m.concept("element-type", "operational"):
            n.operational = True
    verbs = {m.concept("operative-verb", k): k for k in act_kinds()}
    for r in store.select(ACTS):
        n = nodes.get(r["e"].value)
        if n is None:
            continue
        if verbs.get(r["verb"].value) in OPERATIONAL and not n.label.split(" para ")[-1].startswith("PP"):
            n.operational = True
        if r.get("due") is not None:
            item = (r["due"].value, _v(r, "dueEnd"), _v(r, "dueCode") or r["due"].value.rsplit("/", 2)[-2].upper() + "-" + r["due"].value.rsplit("/", 1)[-1])
            if item not in n.deadlines:
                n.deadlines.append(item)
        if r.get("year") is not None:
            try:
                n.years.append(int(r["year"].value[:4]))
            except ValueError:
                pass
        if r.get("on") is not None:
            n.acts_on.add(r["on"].value)

    def decision_of(x: str) -> str | None:
        if x in decisions:
            return x
        n = nodes.get(x)
        return n.decision if n else None

    def end_of(d: str | None) -> str:
        return (decisions.get(d) or {}).get("end") or "" if d else ""

    # what later acts say: retired / superseded targets, extended / renewed targets, decision lineage
    ended: dict[str, tuple[str, str]] = {}   # node → (status, by whom)
    renewed: dict[str, str] = {}              # node or object → by which later decision
    lineage: set[tuple[str, str, str]] = set()
    # the same answer whatever order the store gives: the earliest-sorting paragraph names the act
    links = sorted((r["src"].value, r["p"].value, r["dst"].value)
                   for r in store.select(LINKS, {"g": ox.NamedNode(m.graph(GRAPH))}, union=False))
    for src, p, dst in links:
        ds, dd = decision_of(src), decision_of(dst)
        if p in (ELI.repeals, DCTERMS.replaces) and (dst in decisions or dst in nodes):
            ended.setdefault(dst, ("retired" if p == ELI.repeals else "superseded", src))
        if p in (CHM.extends, CHM.renews):
            renewed.setdefault(dst, src)
        if p in LINEAGE and ds and dd and ds != dd and src != ds:
            lineage.add((ds, p, dd))
    recorded: dict[str, tuple[str, str]] = {}
    for r in store.select(RECORDED):
        if r["s"].value in code_of:
            recorded.setdefault(r["x"].value, (code_of[r["s"].value], r["g"].value))
    edited: dict[str, tuple[str, str, str, str, str]] = {}
    for r in store.select(EDITOR):
        x = r["x"].value
        if x not in edited and r["s"].value in code_of:
            edited[x] = (code_of[r["s"].value], _v(r, "by") or "an editor", _v(r, "at") or "", _v(r, "note") or "", _v(r, "c") or "")

    # an assessment that says what it said before keeps its time: derived again over an unchanged
    # store, the graph is the same bytes and its load is "unchanged" (no write)
    previous = {r["a"].value: (r["s"].value, r["r"].value, r["t"].value)
                for r in store.select(PREVIOUS, {"g": ox.NamedNode(m.graph(GRAPH))}, union=False)}
    t = TripleSet()
    t.add(agent, RDF.type, PROV.SoftwareAgent)
    t.add(agent, SKOS.prefLabel, lit("The hub's decision-tracking derivation", "en"))

    def label(x: str) -> str:
        if x in decisions:
            return f"decision {decisions[x]['sym']}"
        n = nodes.get(x)
        return f"decision {n.label}" if n else x

    def assess(x: str, code: str, reason: str, derived_from: str | None, by: str = agent, at: str = now) -> str:
        a = m.status_assessment(x)
        before = previous.get(a)
        if by == agent and before and before[:2] == (status[code], reason):
            at = before[2]
        t.add(x, CHM.currentStatus, status[code])
        t.add(x, CHM.statusAssessment, a)
        t.add(a, RDF.type, CHM.StatusAssessment)
        t.add(a, CHM.status, status[code])
        t.add(a, CHM.statusReason, lit(reason, "en"))
        t.add(a, PROV.generatedAtTime, lit(at or now, datatype=XSD.dateTime))
        t.add(a, PROV.wasAttributedTo, by)
        if derived_from:
            t.add(a, PROV.wasDerivedFrom, derived_from)
        return code

    def later_renewal(x: str, n: Node | None) -> str | None:
        keys = [x] + ([n.decision] if n else []) + sorted(n.acts_on if n else ())
        for k in keys:
            if k in renewed and end_of(decision_of(renewed[k]) or renewed[k]) > end_of(decision_of(x)):
                return renewed[k]
        return None

    def status_of(x: str) -> str:
        n = nodes.get(x)
        d = decision_of(x)
        if x in edited:
            code, who, at, note, change = edited[x]
            user = m.base + "user/" + slug(who)
            t.add(user, RDF.type, FOAF.Agent)
            t.add(user, SKOS.prefLabel, lit(who, "en"))
            return assess(x, code, f"recorded by {who}" + (f" on {at[:10]}" if at else "") + (f": {note}" if note else ""),
                          change or None, by=user, at=at)
        for target in (x, d if n else None):
            if target and target in ended:
                code, by = ended[target]
                verb = "retired" if code == "retired" else "superseded"
                what = "" if target == x else f"its decision {decisions[target]['sym']} was {verb}; "
                return assess(x, code, f"{what}{verb} by {label(by)}", by)
        if x in recorded:
            code, g = recorded[x]
            return assess(x, code, f"recorded by its source (graph {g.rsplit('/', 1)[-1]})", g)
        if n is not None:
            renewal = later_renewal(x, n)
            passed = [(mt, end, c) for mt, end, c in n.deadlines if end and end < today.isoformat()]
            if passed and not renewal and len(passed) == len(n.deadlines):
                mt, end, c = max(passed, key=lambda p: p[1] or "")
                return assess(x, "elapsed", f"its deadline, {c} (ended {end}), has passed and no later decision extends or renews it", mt)
            if n.years and not renewal and max(n.years) < today.year:
                return assess(x, "elapsed", f"its deadline year, {max(n.years)}, has passed and no later decision extends or renews it", None)
            if renewal:
                return assess(x, "active", f"extended or renewed by {label(renewal)}", renewal)
            due = [c for _, end, c in n.deadlines if not end or end >= today.isoformat()]
            return assess(x, "active", "no later act supersedes or retires it" + (f"; its deadline is {due[0]}" if due else "")
                          + ("" if n.deadlines or n.years else "; it sets no deadline"), None)
        return ""

    by_decision: dict[str, list[str]] = defaultdict(list)
    for x, n in nodes.items():
        if n.operational:
            by_decision[n.decision].append(status_of(x))
    for d, info in decisions.items():
        if d in edited or d in ended or d in recorded:
            status_of(d)
            continue
        codes = by_decision.get(d, [])
        if not codes:
            renewal = later_renewal(d, None)
            assess(d, "active", f"extended or renewed by {label(renewal)}" if renewal else
                   "no later act supersedes or retires it (the hub holds no operational paragraphs of it)", renewal)
        elif "active" in codes:
            assess(d, "active", f"{codes.count('active')} of its {len(codes)} operational paragraphs are active", None)
        elif all(c == "implemented" for c in codes):
            assess(d, "implemented", f"all {len(codes)} operational paragraphs are implemented", None)
        else:
            c = Counter(codes)
            assess(d, "elapsed", "none of its operational paragraphs is active (" +
                   ", ".join(f"{v} {k}" for k, v in sorted(c.items())) + ")", None)
    for s, p, o in sorted(lineage):
        t.add(s, p, o)
    nt = t.ntriples()
    data = nt if isinstance(nt, bytes) else nt.encode()
    data = b"\n".join(sorted(line for line in data.split(b"\n") if line.strip())) + b"\n"  # one order: one checksum
    return ParsedSource(name=GRAPH, reader="tracking", location="derived from the store",
                        checksum="sha256:" + hashlib.sha256(data).hexdigest(), ntriples=data,
                        title="Decision tracking: derived statuses with their reasons, and decision lineage from paragraphs")



def refresh(store: Store, settings, today: date | None = None):
    """Derive the tracking graph again and load it through the one ingest path (validated; replaced
    atomically); the load result."""
    from writes.ingest import ingest

    source = derive(store, settings.base, today)
    return source, ingest(store, source, settings.graph(GRAPH), settings.meta_graph)


# -- editors record statuses: draft → publish → history → revert (the thesaurus editor's workflow) --
class StatusError(ChmError):
    code = "E307"
    http_status = 400


KNOWN_NODE = prefixed("ASK { { $x a chm:Decision } UNION { $x eli:is_part_of ?d . ?d a chm:Decision } }")
RECORDED_NOW = prefixed("SELECT ?g ?x ?s WHERE { GRAPH $g { $x chm:recordedStatus ?s } }")


def _status_check(base: str):
    m = Minter(base)
    allowed = {m.concept("decision-status", s) for s in STATUSES}

    def check(store: Store, graph: str, added: list[str], removed: list[str], node: str) -> None:
        problems = []
        for t in ox.parse("\n".join(added).encode(), ox.RdfFormat.N_TRIPLES):
            if t.subject.value != node or t.predicate.value != CHM.recordedStatus or t.object.value not in allowed:
                problems.append("a status change may only set chm:recordedStatus of the node to a status concept, not " + str(t))
        if not store.ask(KNOWN_NODE, {"x": ox.NamedNode(node)}):
            problems.append(node + " is not a decision or a decision element of the hub")
        if problems:
            raise StatusError("the status change was refused; nothing was saved: " + "; ".join(problems))
    return check


def propose_status(store: Store, settings, node: str, code: str, author: str, note: str = "") -> tuple[str, str]:
    """Check a status an editor records for a decision or element; (draft IRI, the update saving the draft)."""
    from thesaurus import editing as ed

    if code not in STATUSES:
        raise StatusError(f"unknown status {code!r}; one of {', '.join(STATUSES)}")
    if not isinstance(node, str) or not node.startswith(("http://", "https://")):
        raise StatusError("name the decision or element by its IRI")
    m = Minter(settings.base)
    graph, history = settings.graph(STATUS_GRAPH), settings.graph(HISTORY_GRAPH)
    try:
        x = ox.NamedNode(node)
    except ValueError:
        raise StatusError(f"{node!r} is not an IRI") from None
    _status_check(settings.base)(store, graph, [], [], node)
    have = [r["s"].value for r in store.select(RECORDED_NOW, {"g": ox.NamedNode(graph), "x": x}, union=False)]
    target = m.concept("decision-status", code)
    if have == [target]:
        raise StatusError(node + " is already recorded as " + code)
    removed = [ed._nt(node, CHM.recordedStatus, ox.NamedNode(s)) for s in have]
    added = [ed._nt(node, CHM.recordedStatus, ox.NamedNode(target))]
    version = ed.current_version(store, node, history)
    return ed.draft_update(m.base, history, node, graph, added, removed, author, version, note)


def status_changes(store: Store, settings, node: str | None = None, status: str | None = None, change: str | None = None):
    from thesaurus import editing as ed

    return ed.changes(store, settings.graph(HISTORY_GRAPH), concept=node, status=status, change=change)


def publish_status_update(store: Store, settings, change, publisher: str) -> str:
    from thesaurus import editing as ed

    return ed.publish_update(store, change, publisher, settings.graph(HISTORY_GRAPH), check=_status_check(settings.base))


def reject_status_update(settings, change, who: str) -> str:
    from thesaurus import editing as ed

    return ed.reject_update(change, settings.graph(HISTORY_GRAPH), who)


def revert_status_draft(store: Store, settings, change, author: str) -> tuple[str, str]:
    from thesaurus import editing as ed

    return ed.revert_draft(store, change, author, Minter(settings.base).base, settings.graph(HISTORY_GRAPH),
                           check=_status_check(settings.base))


# -- the index the tracking pages and API filter ---------------------------------------------------
# the index reads what it needs in cheap passes: every status, the reasons of decisions only, the
# part-of links, the addressees (each pass an index scan; 2M triples: about 1 s each)
CURRENT = prefixed("SELECT ?g ?x ?s WHERE { GRAPH $g { ?x chm:currentStatus ?s } }")
DECISION_REASONS = prefixed("""SELECT ?g ?d ?reason WHERE {
  GRAPH ?dg { ?d a chm:Decision } GRAPH $g { ?d chm:statusAssessment ?a . ?a chm:statusReason ?reason } }""")
PARTS = prefixed("SELECT ?e ?d WHERE { ?e eli:is_part_of ?d }")
LABELS = prefixed("""SELECT ?x ?l WHERE { ?x skos:prefLabel ?l FILTER (LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }""")


@dataclass
class DecisionRow:
    iri: str
    symbol: str
    title: str
    meeting: str | None
    meeting_code: str
    date: str
    status: str
    reason: str
    actors: set[str] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    targets: set[str] = field(default_factory=set)
    elements: Counter = field(default_factory=Counter)  # status → operational elements

    def to_dict(self, labels: dict[str, str]) -> dict:
        return {"iri": self.iri, "symbol": self.symbol, "title": self.title, "meeting": self.meeting_code, "date": self.date,
                "status": self.status, "reason": self.reason,
                "actors": sorted(labels.get(a, a) for a in self.actors),
                "subjects": sorted(self.subjects), "targets": sorted(self.targets),
                "elements": dict(sorted(self.elements.items()))}


@dataclass
class TrackingIndex:
    rows: list[DecisionRow]
    labels: dict[str, str]
    element_actor_status: Counter          # (actor, status) → operational elements
    actor_keys: dict[str, str]              # actor IRI → a short key for links ("executive-secretary")

    def filter(self, meeting: str = "", actor: str = "", status: str = "", subject: str = "", target: str = "") -> list[DecisionRow]:
        out = self.rows
        if meeting:
            want = meeting.strip().lower()
            out = [r for r in out if r.meeting_code.lower() == want or (r.meeting or "") == meeting]
        if actor:
            iri = self.resolve_actor(actor)
            out = [r for r in out if iri in r.actors]
        if status:
            if status not in STATUSES:
                raise StatusError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
            out = [r for r in out if r.status == status]
        if subject:
            out = [r for r in out if subject in r.subjects]
        if target:
            out = [r for r in out if target in r.targets or any(t.endswith("/" + target) for t in r.targets)]
        return out

    def resolve_actor(self, actor: str) -> str:
        from ontology.tracking import actor_key

        if actor.startswith(("http://", "https://")):
            return actor
        key = actor_key(actor) or actor
        for iri, k in self.actor_keys.items():
            if k == key:
                return iri
        return actor

    def dashboard(self) -> dict:
        """The counts by meeting, actor, subject and target (computed once per index, that is, per write generation)."""
        board = self.__dict__.get("_board")
        if board is None:
            board = self.__dict__["_board"] = self._count()
        return board

    def _count(self) -> dict:
        by_meeting: dict[str, Counter] = defaultdict(Counter)
        by_subject: dict[str, Counter] = defaultdict(Counter)
        by_target: dict[str, Counter] = defaultdict(Counter)
        for r in self.rows:
            by_meeting[r.meeting_code or "?"][r.status] += 1
            for s in r.subjects - r.targets:
                by_subject[s][r.status] += 1
            for s in r.targets:
                by_target[s][r.status] += 1
        by_actor: dict[str, Counter] = defaultdict(Counter)
        for (a, s), n in self.element_actor_status.items():
            by_actor[a][s] += n

        def order_meeting(code: str) -> tuple:
            body, _, n = code.rpartition("-")
            return (body, int(n) if n.isdigit() else 0)
        top = lambda d: sorted(d.items(), key=lambda kv: -sum(kv[1].values()))[:25]  # noqa: E731
        return {"statuses": [s for s in STATUSES if any(r.status == s for r in self.rows) or s in ("active", "elapsed")],
                "meetings": sorted(by_meeting.items(), key=lambda kv: order_meeting(kv[0])),
                "actors": top(by_actor), "subjects": top(by_subject), "targets": sorted(by_target.items())}


def shared_index(hub) -> TrackingIndex:
    """The index of this write generation, one per hub; one that takes long to build (10k decisions:
    seconds) is served from the previous generation while a background thread builds the new one."""
    return hub.derived("tracking", lambda: build_index(hub.store, hub.settings), stale_ok=True)


def build_index(store: Store, settings) -> TrackingIndex:
    m = Minter(settings.base)
    status_prefix = m.scheme("decision-status") + "/"
    target_prefixes = (m.scheme("aichi-targets") + "/", m.scheme("gbf-targets") + "/")
    tracking = {"g": ox.NamedNode(settings.graph(GRAPH))}
    current = {r["x"].value: r["s"].value.removeprefix(status_prefix) for r in store.select(CURRENT, tracking, union=False)}
    reasons = {r["d"].value: r["reason"].value for r in store.select(DECISION_REASONS, tracking, union=False)}
    rows: dict[str, DecisionRow] = {}
    for r in store.select(DECISIONS):
        d = r["d"].value
        if d in rows:
            continue
        st = current.get(d, "active")
        reason = reasons.get(d, "not yet assessed: run `chmkg tracking derive`")
        rows[d] = DecisionRow(d, r["sym"].value, _v(r, "title") or "", _v(r, "meeting"), _v(r, "code") or "",
                              (_v(r, "end") or "")[:10], st, reason)
    element_decision: dict[str, str] = {}
    for r in store.select(PARTS):
        if r["d"].value in rows:
            element_decision[r["e"].value] = r["d"].value
    addressed: dict[str, set[str]] = defaultdict(set)
    for r in store.select(ADDRESSED):  # every addressee of an act is on its element too (chm:addressedTo)
        addressed[r["e"].value].add(r["who"].value)
    for e, who in addressed.items():
        d = element_decision.get(e)
        if d:
            rows[d].actors |= who
    for r in store.select(SUBJECTS):
        x = r["x"].value
        d = x if x in rows else element_decision.get(x)
        if d:
            s = r["s"].value
            rows[d].subjects.add(s)
            if s.startswith(target_prefixes):
                rows[d].targets.add(s)
    eas: Counter = Counter()
    for e, d in element_decision.items():
        if e in current:
            st = current[e]
            rows[d].elements[st] += 1
            for a in addressed.get(e, ()):
                eas[(a, st)] += 1
    labels: dict[str, str] = {}
    wanted = {a for r in rows.values() for a in r.actors} | {s for r in rows.values() for s in r.subjects} | {
        r.meeting for r in rows.values() if r.meeting}
    for r in store.select(LABELS):
        x = r["x"].value
        if x in wanted and (x not in labels or r["l"].language == "en"):
            labels[x] = r["l"].value
    actor_keys = {a: a.rstrip("/").rsplit("/", 1)[-1] for a in {a for r in rows.values() for a in r.actors}}

    def order(row: DecisionRow) -> tuple:
        try:
            sym = parse_symbol(row.symbol)
            return (sym.body, sym.meeting, sym.number)
        except ChmError:
            return ("~", 0, 0)
    return TrackingIndex(sorted(rows.values(), key=order), labels, eas, actor_keys)


ELEMENTS_OF = prefixed("""SELECT ?d ?lang ?e ?number ?pos ?parent ?type ?text ?label WHERE {
  ?e eli:is_part_of $d .
  OPTIONAL { ?e eli:number ?number } OPTIONAL { ?e chm:position ?pos } OPTIONAL { ?e dcterms:isPartOf ?parent }
  OPTIONAL { ?e chm:elementType ?type } OPTIONAL { ?e skos:prefLabel ?label }
  OPTIONAL { ?e chm:fullText ?text FILTER (LANGMATCHES(LANG(?text), $lang)) } }""")
# an OPTIONAL of two joined patterns is evaluated on its own and hash-joined (every assessment of the
# store scanned: 150 ms at 2M triples); as a plain join of its own it is index lookups (0.4 ms)
STATUSES_OF = prefixed("""SELECT ?d ?e ?status ?reason WHERE {
  ?e eli:is_part_of $d ; chm:currentStatus ?status ; chm:statusAssessment ?a . ?a chm:statusReason ?reason }""")
ACTS_OF = prefixed("""SELECT ?d ?e ?a ?verb ?who ?due ?year ?on WHERE {
  ?e eli:is_part_of $d ; chm:hasAct ?a . ?a chm:operativeVerb ?verb .
  OPTIONAL { ?a chm:addressee ?who } OPTIONAL { ?a chm:dueBy ?due } OPTIONAL { ?a chm:dueDate ?year } OPTIONAL { ?a chm:actsOn ?on } }""")
LINKS_OF = prefixed("""SELECT ?d ?e ?p ?o WHERE {
  ?e eli:is_part_of $d . ?e ?p ?o
  FILTER (?p IN (eli:cites, chm:reaffirms, eli:amends, dcterms:replaces, eli:repeals, dcterms:references, chm:establishes,
                 chm:extends, chm:renews, chm:adopts, chm:endorses, chm:welcomes, chm:takesNoteOf, chm:addressedTo)) }""")


def natural_key(number: str) -> tuple:
    """"9 (f) (ii)" sorts after "9 (f)" and before "10"; preambles (PP1 …) first."""
    import re

    if number.startswith("PP"):
        return (0, int(number[2:] or 0))
    parts = re.findall(r"\d+|[A-Za-z]+", number)
    return (1, *[(0, int(p), "") if p.isdigit() else (1, 0, p) for p in parts])


class UnknownDecision(ChmError):
    code = "E308"
    http_status = 404


IS_DECISION = prefixed("ASK { $d a chm:Decision }")


def decision_exists(store: Store, iri: str) -> bool:
    return store.ask(IS_DECISION, {"d": ox.NamedNode(iri)})


def decision_iri(base: str, symbol: str) -> tuple[str, str]:
    """(canonical symbol, IRI) of a decision symbol in any accepted form ("X/2", "COP 10/2", "15/4")."""
    try:
        canonical = parse_symbol(symbol).canonical
    except ChmError as e:
        raise StatusError(f"{symbol[:80]!r} is not a decision symbol: {e.message}") from None
    return canonical, Minter(base).decision(canonical)


DECISION_STATUS = prefixed("""SELECT ?d ?status ?reason WHERE { $d chm:currentStatus ?status ; chm:statusAssessment ?a .
  ?a chm:status ?status ; chm:statusReason ?reason }""")


def elements_of(store: Store, base: str, symbol: str, lang: str = "en", iri: str | None = None) -> dict:
    """A decision's elements as a tree-ordered list with acts, actors, deadlines, statuses and links
    (the decision by its symbol in any accepted form, or by its IRI)."""
    base = Minter(base).base
    if iri is None:
        canonical, iri = decision_iri(base, symbol)
    else:
        canonical = symbol
    d = ox.NamedNode(iri)
    if lang not in ("en", "fr", "es"):
        lang = "en"
    binding = {"d": d, "lang": ox.Literal(lang)}
    status_prefix = base + "scheme/decision-status/"
    verb_prefix = base + "scheme/operative-verb/"
    own = store.select(DECISION_STATUS, {"d": d})
    els: dict[str, dict] = {}
    for r in store.select(ELEMENTS_OF, binding):
        e = r["e"].value
        el = els.setdefault(e, {"iri": e, "number": _v(r, "number") or "", "label": _v(r, "label") or "", "parent": _v(r, "parent"),
                                "position": int(r["pos"].value) if r.get("pos") is not None else None,
                                "type": (_v(r, "type") or "").rsplit("/", 1)[-1] or None, "text": _v(r, "text") or "",
                                "status": None, "reason": "",
                                "acts": [], "links": defaultdict(list)})
        if not el["text"] and r.get("text") is not None:
            el["text"] = r["text"].value
    for r in store.select(STATUSES_OF, {"d": d}):
        el = els.get(r["e"].value)
        if el is not None and el["status"] is None:
            el["status"], el["reason"] = r["status"].value.removeprefix(status_prefix), r["reason"].value
    acts: dict[tuple[str, str], dict] = {}
    for r in store.select(ACTS_OF, {"d": d}):
        e = r["e"].value
        if e not in els:
            continue
        a = acts.setdefault((e, r["a"].value), {"act": r["verb"].value.removeprefix(verb_prefix), "actors": [], "due": None, "acts_on": []})
        if a not in els[e]["acts"]:
            els[e]["acts"].append(a)
        for key, field_ in (("who", "actors"), ("on", "acts_on")):
            if r.get(key) is not None and r[key].value not in a[field_]:
                a[field_].append(r[key].value)
        if r.get("due") is not None:
            a["due"] = r["due"].value
        elif r.get("year") is not None:
            a["due"] = r["year"].value
    for r in store.select(LINKS_OF, {"d": d}):
        e = r["e"].value
        if e in els:
            name = r["p"].value.rsplit("#", 1)[-1].rsplit("/", 1)[-1]
            if r["o"].value not in els[e]["links"][name]:
                els[e]["links"][name].append(r["o"].value)
    out = sorted(els.values(), key=lambda el: (el["position"] is None, el["position"] or 0, natural_key(el["number"])))
    for el in out:
        el["links"] = dict(el["links"])
        el["depth"] = 0
    depth = {el["iri"]: 0 for el in out}
    for el in out:
        if el["parent"] in depth:
            depth[el["iri"]] = el["depth"] = depth[el["parent"]] + 1
    return {"decision": d.value, "symbol": canonical,
            "status": own[0]["status"].value.removeprefix(status_prefix) if own else None,
            "reason": own[0]["reason"].value if own else "", "elements": out}
