"""A structured decision (:mod:`tagging.structure`) as RDF: its elements as ELI subdivisions under
the decision, each operative element's acts as ``chm:Act`` nodes (the act as a concept of the
operative-verb scheme, the actors addressed, the deadline), and the lineage an act states
("recalls decision X/15", "retires decisions II/3 and III/4", "amends paragraph 3 of decision 15/8")
as the specific link from the element to the decision or paragraph it names.
"""

from __future__ import annotations

from ontology import CHM, DCTERMS, ELI, PREFIXES, RDF, SKOS, XSD
from ontology.iris import Minter
from ontology.symbols import parse_symbol
from ontology.tracking import act_kinds, actor_key
from ontology.triples import TripleSet, lit
from tagging.references import Reference
from tagging.structure import Element

OPERATIONAL = {"requests", "invites", "urges", "encourages", "calls-upon", "decides", "adopts", "endorses", "establishes",
               "extends", "renews", "retires", "supersedes", "amends"}
LINEAGE_ACTS = {"recalls", "reaffirms", "amends", "supersedes", "retires"}
MEETING_BODIES = {"cop": "cop", "sbi": "sbi", "sbstta": "sbstta", "wgri": "wgri", "wg8j": "wg8j", "cp-mop": "cp-mop",
                  "np-mop": "np-mop"}


def link_property(act: str) -> str | None:
    """The property of an act (``chm:establishes``, ``eli:repeals`` …) as a full IRI, or None."""
    link = act_kinds()[act].link
    if not link:
        return None
    prefix, _, local = link.partition(":")
    return PREFIXES[prefix] + local


def element_iri(m: Minter, symbol: str, el: Element) -> str:
    if el.kind == "preamble":
        return m.decision_preamble(symbol, int(el.number))
    if el.kind == "annex":
        return m.decision_annex(symbol, el.number)
    if el.kind == "section":
        return m.decision_section(symbol, el.number) if el.annex is None else m.decision_annex(symbol, el.annex) + "/section/" + el.number.lower()
    if el.annex is not None:
        return m.decision_annex(symbol, el.annex, el.number)
    return m.decision_paragraph(symbol, el.number)


def reference_iri(m: Minter, r: Reference) -> str | None:
    """The minted IRI a reference names (decisions and paragraphs, articles, meetings, documents)."""
    p = r.parts
    try:
        if r.kind == "decision":
            return m.decision_paragraph(str(p["symbol"]), str(p["paragraph"])) if p.get("paragraph") else m.decision(str(p["symbol"]))
        if r.kind == "article":
            instr = str(p["instrument"])
            if p.get("paragraph"):
                return m.article(int(p["article"]), str(p["paragraph"]), instrument=instr)
            return m.article(int(p["article"]), instrument=instr)
        if r.kind == "meeting":
            return m.meeting(str(p["body"]), int(p["number"]))
        if r.kind in ("document", "recommendation") and p.get("document"):
            return m.document(str(p["document"]))
    except (KeyError, ValueError):
        return None
    return None


def decision_triples(els: list[Element], symbol: str, m: Minter, lang: str = "en", t: TripleSet | None = None,
                     with_text: bool = True) -> TripleSet:
    """The triples of a structured decision; ``t`` collects them (a new set when None)."""
    t = t if t is not None else TripleSet()
    canonical = parse_symbol(symbol).canonical
    d = m.decision(canonical)
    iris = [element_iri(m, canonical, el) for el in els]
    for i, (el, n) in enumerate(zip(els, iris)):
        t.add(n, RDF.type, ELI.LegalResourceSubdivision)
        if el.kind in ("paragraph", "subparagraph", "item", "preamble"):
            t.add(n, RDF.type, CHM.DecisionParagraph)
        t.add(n, ELI.is_part_of, d)
        t.add(d, ELI.has_part, n)
        t.add(n, ELI.number, lit(el.number if el.kind != "preamble" else f"PP{el.number}"))
        t.add(n, CHM.position, lit(i + 1))
        t.add(n, SKOS.prefLabel, lit(label(canonical, el), "en"))
        if el.parent is not None:
            t.add(n, DCTERMS.isPartOf, iris[el.parent])
            t.add(iris[el.parent], DCTERMS.hasPart, n)
        if with_text and el.text:
            t.add(n, CHM.fullText, lit(el.text, lang))
        if el.kind in ("section", "annex"):
            continue
        add_acts(t, m, n, el, canonical, d)
        for r in el.references:
            target = reference_iri(m, r)
            if target and target != n:
                t.add(n, DCTERMS.references, target)
    return t


def add_acts(t: TripleSet, m: Minter, n: str, el: Element, canonical: str, d: str, actors: list[str] = (),
             typed: bool = False) -> list[str]:
    """The acts of a classified element as ``chm:Act`` nodes of ``n``, with the specific lineage links
    its references take; ``actors`` (hub actor IRIs a source names for the element) address an act
    the text names no one for; ``typed`` when the source already gave the element its type.
    Returns the act codes."""
    codes = [a.code for a in el.acts]
    if codes and not typed:
        kind = "operational" if set(codes) & OPERATIONAL and el.kind != "preamble" else "informational"
        t.add(n, CHM.elementType, m.concept("element-type", kind))
    refs = el.references
    for j, act in enumerate(el.acts, start=1):
        a = m.act(n, j)
        t.add(n, CHM.hasAct, a)
        t.add(a, RDF.type, CHM.Act)
        t.add(a, CHM.operativeVerb, m.concept("operative-verb", act.code))
        t.add(a, SKOS.prefLabel, lit(f"{label(canonical, el)}: {act_kinds()[act.code].labels['en']}", "en"))
        who = [m.actor(actor_key(code) or code) for code in act.actors]
        if not who and act_kinds()[act.code].addresses:
            who = list(actors)
        for x in who:
            t.add(a, CHM.addressee, x)
            t.add(n, CHM.addressedTo, x)
        if el.deadline and el.deadline.meeting and el.deadline.meeting[0] in MEETING_BODIES:
            t.add(a, CHM.dueBy, m.meeting(MEETING_BODIES[el.deadline.meeting[0]], el.deadline.meeting[1]))
        elif el.deadline and el.deadline.year:
            t.add(a, CHM.dueDate, lit(str(el.deadline.year), datatype=XSD.gYear))
        prop = link_property(act.code)
        if prop and act.code in LINEAGE_ACTS | {"adopts", "endorses", "welcomes", "notes", "extends", "renews", "establishes"}:
            for r in refs:
                target = reference_iri(m, r)
                if target and target != d and not target.startswith(d + "/") and r.kind in ("decision", "document"):
                    if act.code in LINEAGE_ACTS and r.kind != "decision":
                        continue
                    t.add(n, prop, target)
                    t.add(a, CHM.actsOn, target)
    return codes


def label(canonical: str, el: Element) -> str:
    where = f"Decision {canonical}, " + (f"annex {el.annex}, " if el.annex is not None and el.kind != "annex" else "")
    return where + {"preamble": f"preamble {el.number}", "annex": f"annex {el.number}", "section": f"section {el.number}"}.get(
        el.kind, f"paragraph {el.number}")
