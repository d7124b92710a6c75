"""Decision text → structure: segmentation, act and actor classification (scored on the annotated
set in tests/data), the RDF of a structured decision, and derived tracking statuses."""

from __future__ import annotations

from pathlib import Path

from ontology.iris import Minter
from tagging.decision_rdf import decision_triples
from tagging.evaluation import evaluate_elements, read_elements
from tagging.structure import segment_text

DATA = Path(__file__).parent / "data" / "decision_elements.jsonl"
TEXT = """X/15. Scientific and technical cooperation and the clearing-house mechanism
The Conference of the Parties,
Recalling decision IX/30 on the clearing-house mechanism,
1. Adopts the mission, goals and objectives of the clearing-house mechanism for 2011-2020;
2. Decides to retire decisions II/3 and III/4;
3. Requests the Executive Secretary: (a) To develop a knowledge network; (b) To report to the Conference of the Parties at its eleventh meeting;
4. Invites Parties:
(a) To strengthen their national clearing-house mechanisms;
(i) by designating focal points;
Annex
A. Mission
1. To contribute significantly to the implementation of the Convention.
"""


def test_the_annotated_set_is_large_enough_and_scores_at_least_0_9_f1_for_acts_and_actors():
    items = read_elements(DATA)
    assert len(items) >= 60 and {i["lang"] for i in items} == {"en", "fr", "es"}
    sc = evaluate_elements(items)
    assert sc.per_field["act"]["f1"] >= 0.9
    assert sc.per_field["actors"]["f1"] >= 0.9


def test_a_decision_text_is_segmented_with_its_numbering_and_classified():
    els = segment_text(TEXT)
    got = [(e.kind, e.number) for e in els]
    assert got == [("preamble", "1"), ("paragraph", "1"), ("paragraph", "2"), ("paragraph", "3"), ("subparagraph", "3 (a)"),
                   ("subparagraph", "3 (b)"), ("paragraph", "4"), ("subparagraph", "4 (a)"), ("item", "4 (a) (i)"),
                   ("annex", "1"), ("section", "A"), ("paragraph", "1")]
    assert [a.code for a in els[0].acts] == ["recalls"]
    assert [a.code for a in els[2].acts] == ["retires"]
    assert els[3].acts[0].actors == ["executive-secretary"]
    assert els[5].acts[0].inherited and els[5].deadline.meeting == ("cop", 11)
    assert els[-1].annex == "1" and els[-1].section == "A"


def test_french_and_spanish_acts_and_actors():
    fr = segment_text("1. Prie la Secrétaire exécutive de faire rapport à l'Organe subsidiaire chargé de l'application à sa cinquième réunion;", "fr")
    assert [a.code for a in fr[0].acts] == ["requests"] and fr[0].actors == ["executive-secretary"]
    assert fr[0].deadline.meeting == ("sbi", 5)
    es = segment_text("1. Insta a las Partes a que designen centros nacionales de coordinación;", "es")
    assert [a.code for a in es[0].acts] == ["urges"] and es[0].actors == ["parties"]


def test_the_rdf_links_acts_actors_and_paragraph_lineage():
    import pyoxigraph as ox

    from ontology import CHM, ELI

    m = Minter("https://chm.example/")
    nt = decision_triples(segment_text(TEXT), "X/15", m).ntriples()
    got = {(t.subject.value, t.predicate.value, t.object.value)
           for t in ox.parse(nt if isinstance(nt, bytes) else nt.encode(), ox.RdfFormat.N_TRIPLES)}

    def has(s: str, p: str, o: str) -> bool:
        return (s, p, o) in got

    assert has(m.decision_paragraph("X/15", "2"), ELI.repeals, m.decision("II/3"))
    assert has(m.decision_preamble("X/15", 1), ELI.cites, m.decision("IX/30"))
    assert has(m.act(m.decision_paragraph("X/15", "3"), 1), CHM.addressee, m.actor("executive-secretary"))
    assert has(m.act(m.decision_paragraph("X/15", "3 (b)"), 1), CHM.dueBy, m.meeting("cop", 11))
