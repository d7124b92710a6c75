"""Reader for the bundled default dataset: the CSV tables in ``loaders/data/bundled``.

Facts written by the project (identifiers, official titles, dates, relations); IRIs are minted
under the configured base, so the same tables and base always give the same triples.
"""

from __future__ import annotations

import csv
import hashlib
import io
from importlib.resources import files

from writes.ingest import ParsedSource
from loaders.triples import TripleSet, iri, lit
from ontology import CHM, DCTERMS, ELI, FOAF, ORG, PREFIXES, PROV, RDF, RDFS, SCHEMA, SKOS, XSD
from ontology.documents import add_document
from ontology.tracking import act_kinds, tracking_actors
from ontology.errors import SourceError
from ontology.iris import Minter
from ontology.symbols import parse_symbol

TABLES = (
    "instruments", "articles", "article_paragraphs", "actors", "networks", "memberships", "meetings",
    "decisions", "decision_index", "lineage", "paragraphs", "plans", "wp_parts", "targets", "schemes", "history", "documents",
)
LINEAGE = {
    "cites": ELI.cites,
    "amends": ELI.amends,
    "replaces": DCTERMS.replaces,
    "repeals": ELI.repeals,
    "based_on": ELI.based_on,
    "implements": ELI.implements,
    "subject": DCTERMS.subject,
}
BODY_CODES = {"cop": "COP", "cp-mop": "CP-MOP", "np-mop": "NP-MOP", "sbstta": "SBSTTA", "sbi": "SBI", "wgri": "WGRI"}
ORDINALS_FR = {1: "première", 2: "deuxième", 3: "troisième"}


def _table(name: str) -> list[dict[str, str]]:
    data = files("loaders").joinpath("data", "bundled", f"{name}.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(data)))


def bundled_checksum(base: str) -> str:
    h = hashlib.sha256(base.encode())
    for name in TABLES:
        h.update(files("loaders").joinpath("data", "bundled", f"{name}.csv").read_bytes())
    return "sha256:" + h.hexdigest()


class _Refs:
    """Resolves the short references used in the tables (``art:18.3``, ``plan:key``, ``X/15`` …)."""

    def __init__(self, m: Minter, plans: dict[str, str]) -> None:
        self.m = m
        self.plans = plans

    def __call__(self, ref: str) -> str:
        ref = ref.strip()
        if ref.startswith("art:"):
            number, _, para = ref[4:].partition(".")
            return self.m.article(int(number), para or None)
        if ref.startswith("plan:"):
            key = ref[5:]
            if key not in self.plans:
                raise SourceError(f"bundled data: unknown plan {key!r}")
            return self.plans[key]
        if ref.startswith("target:"):
            scheme, _, code = ref[7:].partition("/")
            return self.m.concept(scheme, f"target-{code}")
        if ref.startswith("network:"):
            return self.m.network(ref[8:])
        if ref.startswith("actor:"):
            return self.m.actor(ref[6:])
        if ref.startswith("doc:"):
            return self.m.document(ref[4:])
        return self.m.decision(ref)


def build(m: Minter) -> TripleSet:
    t = TripleSet()
    en = "en"

    # concept schemes: statuses, element types, verbs; targets below
    for row in _table("schemes"):
        scheme = m.scheme(row["scheme"])
        if not row["code"]:
            t.add(scheme, RDF.type, SKOS.ConceptScheme)
            t.add(scheme, SKOS.prefLabel, lit(row["label"], en))
            continue
        c = m.concept(row["scheme"], row["code"])
        t.add(c, RDF.type, SKOS.Concept)
        t.add(c, SKOS.inScheme, scheme)
        t.add(c, SKOS.topConceptOf, scheme)
        t.add(c, SKOS.prefLabel, lit(row["label"], en))
        if row["notation"]:
            t.add(c, SKOS.notation, lit(row["notation"]))

    # the acts of decision elements and the decision-tracking actors (ontology/data), in three languages
    verbs = m.scheme("operative-verb")
    t.add(verbs, RDF.type, SKOS.ConceptScheme)
    t.add(verbs, SKOS.prefLabel, lit("Acts of decision elements", en))
    for kind in act_kinds().values():
        c = m.concept("operative-verb", kind.code)
        t.add(c, RDF.type, SKOS.Concept)
        t.add(c, SKOS.inScheme, verbs)
        t.add(c, SKOS.topConceptOf, verbs)
        t.add(c, SKOS.notation, lit(kind.code))
        for lang, label in kind.labels.items():
            t.add(c, SKOS.prefLabel, lit(label, lang))
    actors_scheme = m.scheme("decision-actor")
    t.add(actors_scheme, RDF.type, SKOS.ConceptScheme)
    t.add(actors_scheme, SKOS.prefLabel, lit("Actors of the decision-tracking tool", en))
    own_actors = {row["key"] for row in _table("actors")}
    for a in tracking_actors().values():
        c = m.concept("decision-actor", a.code)
        t.add(c, RDF.type, SKOS.Concept)
        t.add(c, SKOS.inScheme, actors_scheme)
        t.add(c, SKOS.topConceptOf, actors_scheme)
        t.add(c, SKOS.notation, lit(a.code))
        for lang, label in a.labels.items():
            t.add(c, SKOS.prefLabel, lit(label, lang))
        agent = m.actor(a.actor)
        t.add(c, FOAF.focus, agent)
        if a.actor not in own_actors:  # an actor only the tracker names: declared here, in its three languages
            t.add(agent, RDF.type, FOAF.Agent)
            t.add(agent, RDF.type, ORG.Post if a.kind == "post" else ORG.Organization)
            if a.kind == "body":
                t.add(agent, RDF.type, ORG.OrganizationalUnit)
            for lang, label in a.labels.items():
                t.add(agent, SKOS.prefLabel, lit(label, lang))
            if a.actor == "unep-executive-director":
                t.add(agent, ORG.postIn, m.actor("unep"))

    for key, label in (("aichi-targets", "Aichi Biodiversity Targets"), ("gbf-targets", "Kunming-Montreal Global Biodiversity Framework goals and targets")):
        t.add(m.scheme(key), RDF.type, SKOS.ConceptScheme)
        t.add(m.scheme(key), SKOS.prefLabel, lit(label, en))
    for row in _table("targets"):
        scheme = m.scheme(row["scheme"])
        c = m.concept(row["scheme"], f"{row['kind']}-{row['code']}")
        t.add(c, RDF.type, SKOS.Concept)
        t.add(c, SKOS.inScheme, scheme)
        kind = "Goal" if row["kind"] == "goal" else "Target"
        t.add(c, SKOS.prefLabel, lit(f"{kind} {row['code']}: {row['label']}", en))
        t.add(c, SKOS.altLabel, lit(row["label"], en))
        t.add(c, SKOS.notation, lit(row["notation"]))
        if row["goal"]:
            t.add(c, SKOS.broader, m.concept(row["scheme"], f"goal-{row['goal']}"))
        else:
            t.add(c, SKOS.topConceptOf, scheme)

    # instruments, articles, paragraphs
    for row in _table("instruments"):
        s = m.instrument(row["code"])
        for cls in (ELI.LegalResource, CHM.Instrument):
            t.add(s, RDF.type, cls)
        t.add(s, ELI.title, lit(row["title"], en))
        t.add(s, SKOS.prefLabel, lit(row["title"], en))
        t.add(s, SKOS.altLabel, lit(row["short"], en))
        t.add(s, ELI.id_local, lit(row["short"]))
        t.add(s, ELI.date_document, lit(row["adopted"], datatype=XSD.date))
        t.add(s, SCHEMA.url, lit(row["url"], datatype=XSD.anyURI))
    cbd = m.instrument("cbd")
    for row in _table("articles"):
        a = m.article(int(row["number"]))
        for cls in (ELI.LegalResourceSubdivision, CHM.Article):
            t.add(a, RDF.type, cls)
        t.add(a, ELI.number, lit(row["number"]))
        t.add(a, ELI.title, lit(row["title"], en))
        t.add(a, SKOS.prefLabel, lit(f"Article {row['number']}. {row['title']}", en))
        t.add(a, SKOS.altLabel, lit(f"Article {row['number']}", en))
        t.add(a, ELI.is_part_of, cbd)
        t.add(cbd, ELI.has_part, a)
    for row in _table("article_paragraphs"):
        art, para = int(row["article"]), row["paragraph"]
        p = m.article(art, para)
        for cls in (ELI.LegalResourceSubdivision, CHM.ArticleParagraph):
            t.add(p, RDF.type, cls)
        t.add(p, ELI.number, lit(para))
        t.add(p, ELI.is_part_of, m.article(art))
        t.add(m.article(art), ELI.has_part, p)
        t.add(p, SKOS.prefLabel, lit(f"Article {art}.{para}", en))
        t.add(p, SKOS.altLabel, lit(f"Article {art}, paragraph {para}", en))
        t.add(p, RDFS.comment, lit(row["label"], en))

    # actors and networks
    for row in _table("actors"):
        a = m.actor(row["key"])
        t.add(a, RDF.type, FOAF.Agent)
        kind = row["kind"]
        if kind == "body":
            t.add(a, RDF.type, ORG.Organization)
            t.add(a, RDF.type, ORG.OrganizationalUnit)
        elif kind in ("organization", "government"):
            t.add(a, RDF.type, ORG.Organization)
            t.add(a, RDF.type, ORG.FormalOrganization)
        elif kind == "post":
            t.add(a, RDF.type, ORG.Post)
            t.add(a, ORG.postIn, m.actor(row["part_of"]))
        elif kind == "collective":
            t.add(a, RDF.type, ORG.Organization)
        t.add(a, SKOS.prefLabel, lit(row["label"], en))
        if row["acronym"]:
            t.add(a, SKOS.altLabel, lit(row["acronym"], en))
        if row["part_of"] and kind != "post":
            t.add(a, ORG.subOrganizationOf, m.actor(row["part_of"]))
        if row["homepage"]:
            t.add(a, FOAF.homepage, iri(row["homepage"]))
    for row in _table("networks"):
        n = m.network(row["key"])
        for cls in (CHM.Network, ORG.Organization, FOAF.Agent):
            t.add(n, RDF.type, cls)
        t.add(n, SKOS.prefLabel, lit(row["label"], en))
        t.add(n, DCTERMS.description, lit(row["description"], en))
    for role, label in (
        ("CentralNode", "central node"), ("NationalNode", "national node"), ("PartnerNode", "partner"),
        ("SupportCentre", "support centre"), ("CoordinationEntity", "coordination entity"), ("FocalPoint", "focal point"),
    ):
        t.add(CHM[role], RDF.type, ORG.Role)
        t.add(CHM[role], SKOS.prefLabel, lit(label, en))
    for row in _table("memberships"):
        ms = m.membership(row["network"], row["member"])
        t.add(ms, RDF.type, ORG.Membership)
        t.add(ms, ORG.member, m.actor(row["member"]))
        t.add(ms, ORG.organization, m.network(row["network"]))
        t.add(ms, CHM.nodeRole, CHM[row["role"]])
    bioland = m.tool("bioland")
    t.add(bioland, RDF.type, CHM.Tool)
    t.add(bioland, SKOS.prefLabel, lit("Bioland tool", en))
    t.add(bioland, DCTERMS.publisher, m.actor("secretariat"))
    t.add(bioland, DCTERMS.description, lit("Tool offered by the Secretariat to build national CHM portals", en))

    # meetings
    meetings: dict[tuple[str, int], str] = {}
    for row in _table("meetings"):
        body, number = row["body"], int(row["number"])
        mt = m.meeting(body, number)
        meetings[(body, number)] = mt
        code = f"{BODY_CODES.get(body, body.upper())}-{number}"
        for cls in (CHM.Meeting, SCHEMA.Event, PROV.Activity):
            t.add(mt, RDF.type, cls)
        t.add(mt, CHM.meetingNumber, lit(number))
        t.add(mt, CHM.meetingCode, lit(code))
        t.add(mt, SKOS.prefLabel, lit(f"{code} ({row['city']}, {row['start'][:4]})", en))
        t.add(mt, SKOS.altLabel, lit(f"{BODY_CODES.get(body, body.upper())} {number}", en))
        t.add(mt, SCHEMA.startDate, lit(row["start"], datatype=XSD.date))
        t.add(mt, SCHEMA.endDate, lit(row["end"], datatype=XSD.date))
        t.add(mt, CHM.city, lit(row["city"]))
        t.add(mt, CHM.country, lit(row["country"]))
        t.add(mt, PROV.wasAssociatedWith, m.actor(body))
        if row.get("source"):
            t.add(mt, DCTERMS.source, lit(row["source"], datatype=XSD.anyURI))

    # plans and work programmes (IRIs first: decisions refer to them)
    plans = {row["key"]: m.work_programme(row["key"]) for row in _table("plans")}
    refs = _Refs(m, plans)

    # decisions: the project's own table, then the rest of the decision index
    end_of = {m.meeting(r["body"], int(r["number"])): r["end"] for r in _table("meetings")}

    def decision(symbol: str, title: str) -> str:
        sym = parse_symbol(symbol)
        d = m.decision(symbol)
        for cls in (ELI.LegalResource, CHM.Decision, SCHEMA.Legislation):
            t.add(d, RDF.type, cls)
        t.add(d, CHM.symbol, lit(sym.canonical))
        t.add(d, CHM.decisionNumber, lit(sym.number))
        t.add(d, ELI.title, lit(title, en))
        t.add(d, SKOS.prefLabel, lit(f"Decision {sym.canonical}: {title}", en))
        t.add(d, SKOS.altLabel, lit(f"decision {sym.canonical}", en))
        if sym.body == "cop" and sym.meeting <= 13:
            t.add(d, SKOS.hiddenLabel, lit(f"{sym.meeting}/{sym.number}", en))
        meeting = meetings.get(({"cop": "cop", "cp": "cp-mop", "np": "np-mop"}[sym.body], sym.meeting))
        if meeting is None:
            raise SourceError(f"bundled data: decision {symbol} has no meeting in meetings.csv")
        t.add(d, PROV.wasGeneratedBy, meeting)
        t.add(d, ELI.date_document, lit(end_of[meeting], datatype=XSD.date))
        return d

    for row in _table("decisions"):
        d = decision(row["symbol"], row["title"])
        if row["status"]:
            t.add(d, CHM.trackingStatus, m.concept("decision-status", row["status"]))
            if row["status"] in ("retired", "superseded"):
                t.add(d, ELI.in_force, iri("http://data.europa.eu/eli/ontology#InForce-notInForce"))

    # the decision index (scripts/import_decision_index.py): the source of each row, its flags, and
    # the decisions the project's own table does not hold
    curated = {parse_symbol(row["symbol"]).canonical for row in _table("decisions")}
    for row in _table("decision_index"):
        d = m.decision(row["symbol"])
        if row["source"]:
            t.add(d, DCTERMS.source, lit(row["source"], datatype=XSD.anyURI))
        for flag in filter(None, row["flags"].split(";")):
            t.add(d, CHM.sourceFlag, m.concept("source-flag", flag))
        if parse_symbol(row["symbol"]).canonical not in curated:
            decision(row["symbol"], row["title"])

    for row in _table("lineage"):
        t.add(refs(row["source"]), LINEAGE[row["kind"]], refs(row["target"]))

    for row in _table("paragraphs"):
        sym, para = row["symbol"], row["paragraph"]
        p = m.decision_paragraph(sym, para)
        for cls in (ELI.LegalResourceSubdivision, CHM.DecisionParagraph):
            t.add(p, RDF.type, cls)
        t.add(p, ELI.number, lit(para))
        t.add(p, ELI.is_part_of, m.decision(sym))
        t.add(m.decision(sym), ELI.has_part, p)
        canonical = parse_symbol(sym).canonical
        t.add(p, SKOS.prefLabel, lit(f"Decision {canonical}, paragraph {para}", en))
        for ref in filter(None, row["references"].split(";")):
            kind = ELI.implements if row["verb"] == "decides" and ref.startswith("art:") else DCTERMS.references
            t.add(p, kind, refs(ref))
        if row["verb"]:
            t.add(p, CHM.elementType, m.concept("element-type", "operational"))
        if row["verb"]:
            a = m.act(p, 1)
            t.add(p, CHM.hasAct, a)
            t.add(a, RDF.type, CHM.Act)
            t.add(a, CHM.operativeVerb, m.concept("operative-verb", row["verb"]))
            t.add(a, SKOS.prefLabel, lit(f"{canonical} para {para}: {act_kinds()[row['verb']].labels['en']}", en))
            if row["summary"]:
                t.add(a, CHM.requestedAction, lit(row["summary"], en))
            for who in filter(None, row["addressees"].split(";")):
                t.add(a, CHM.addressee, m.actor(who))
                t.add(p, CHM.addressedTo, m.actor(who))
            if row["due"]:  # the meeting the paragraph asks to report to (body-number)
                body, _, number = row["due"].rpartition("-")
                t.add(a, CHM.dueBy, meetings.get((body, int(number))) or m.meeting(body, int(number)))

    for row in _table("plans"):
        p = plans[row["key"]]
        t.add(p, RDF.type, PROV.Plan)
        if row["kind"] == "work-programme":
            t.add(p, RDF.type, CHM.WorkProgramme)
        t.add(p, SKOS.prefLabel, lit(row["label"], en))
        t.add(p, CHM.startYear, lit(row["start"], datatype=XSD.gYear))
        t.add(p, CHM.endYear, lit(row["end"], datatype=XSD.gYear))
        for sym in filter(None, row["adopted_by"].split(";")):
            t.add(m.decision(sym), CHM.adopts, p)

    for row in _table("wp_parts"):
        prog, kind, code = row["programme"], row["kind"], row["code"]
        node = m.wp_part(prog, kind, code)
        t.add(node, SKOS.notation, lit(code))
        if kind == "goal":
            t.add(node, RDF.type, CHM.Goal)
            t.add(plans[prog], CHM.hasGoal, node)
            t.add(node, SKOS.prefLabel, lit(f"Goal {code}. {row['label']}", en))
        elif kind == "outcome":
            t.add(node, RDF.type, CHM.Outcome)
            t.add(m.wp_part(prog, "goal", code.split(".")[0]), CHM.hasOutcome, node)
            t.add(node, SKOS.prefLabel, lit(f"{code} {row['label']}", en))
        else:
            t.add(node, RDF.type, CHM.StrategicAction)
            t.add(m.wp_part(prog, "outcome", code.rsplit(".", 1)[0]), CHM.hasAction, node)
            t.add(node, SKOS.prefLabel, lit(f"{code} {row['label']}", en))
            for who in filter(None, row["lead"].split(";")):
                t.add(node, CHM.leadActor, m.actor(who))
            for who in filter(None, row["contributing"].split(";")):
                t.add(node, CHM.contributingActor, m.actor(who))
            t.add(node, CHM.startYear, lit(row["start"], datatype=XSD.gYear))
            t.add(node, CHM.endYear, lit(row["end"], datatype=XSD.gYear))
    # what decisions set up, extend or act on: the CHM's own history (history.csv), by the specific act
    for row in _table("history"):
        kind = act_kinds()[row["act"]]
        target = refs(row["object"])
        if row["paragraph"]:
            el = m.decision_paragraph(row["decision"], row["paragraph"])
            n = sum(1 for r in _table("paragraphs") if r["symbol"] == row["decision"] and r["paragraph"] == row["paragraph"] and r["verb"])
            a = m.act(el, n + 1 if n == 0 or kind.code != _paragraph_verb(row) else 1)
            t.add(el, CHM.hasAct, a)
            t.add(a, RDF.type, CHM.Act)
            t.add(a, CHM.operativeVerb, m.concept("operative-verb", kind.code))
            t.add(a, CHM.actsOn, target)
        else:
            link = kind.link
            prefix, _, local = link.partition(":")
            t.add(m.decision(row["decision"]), PREFIXES[prefix] + local, target)
    for row in _table("documents"):
        doc = add_document(t, m, row["symbol"], row["title"], tuple(filter(None, row["languages"].split(";"))))
        if row["carries"]:
            t.add(refs(row["carries"]), CHM.carriedBy, doc)
        for who in filter(None, row["referenced_by"].split(";")):
            t.add(refs(who), DCTERMS.references, doc)
    # prepared pursuant to paragraph 9 (f) of decision 15/16 (seed 002)
    t.add(plans["chm-wp-2024-2030"], DCTERMS.source, m.decision_paragraph("15/16", "9 (f)"))
    return t


def _paragraph_verb(row: dict[str, str]) -> str:
    for r in _table("paragraphs"):
        if r["symbol"] == row["decision"] and r["paragraph"] == row["paragraph"]:
            return r["verb"]
    return ""


def read_bundled(base: str) -> ParsedSource:
    m = Minter(base)
    triples = build(m)
    return ParsedSource(
        name="bundled",
        reader="bundled",
        location="loaders/data/bundled",
        checksum=bundled_checksum(m.base),
        ntriples=triples.ntriples(),
        title="CHM Knowledge Hub default dataset",
    )


INFORMEA_TERMS = "http://www.informea.org/terms/"


def read_bundled_subjects(base: str) -> ParsedSource:
    """The project's stated subject links from bundled decisions to MEA (InforMEA) thesaurus concepts.

    A graph of its own, loaded after the thesaurus: the links are facts only when their concepts exist.
    """
    m = Minter(base)
    t = TripleSet()
    for row in _table("subjects"):
        t.add(m.decision(row["entity"]), DCTERMS.subject, iri(INFORMEA_TERMS + row["concept"]))
    data = files("loaders").joinpath("data", "bundled", "subjects.csv").read_bytes()
    return ParsedSource(name="bundled-subjects", reader="bundled", location="loaders/data/bundled/subjects.csv",
                        checksum=hashlib.sha256(data + m.base.encode()).hexdigest(), ntriples=t.ntriples(),
                        title="Subjects of the bundled decisions in the MEA thesaurus")
