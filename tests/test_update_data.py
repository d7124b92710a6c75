"""Updates that are only ground INSERT DATA / DELETE DATA (reviews, submissions, editors' small
changes) are applied without a staged copy of the store: the effect is read where the update
touches, validated there, and committed like any update. Same result as the general path, same
refusals."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
from conftest import BASE, META, graph, snapshot

from loaders.bundled import read_bundled
from ontology import CHM, DCTERMS, ELI, RDFS
from ontology.errors import ShapeViolation
from ontology.iris import Minter
from sparql.builder import Update, literal, prefixed
from sparql.store import EmbeddedStore
from writes.ingest import ingest
from writes.update import ForbiddenWrite, apply_update

M = Minter(BASE)
X15 = ox.NamedNode(M.decision("X/15"))


def _bundled(path) -> EmbeddedStore:
    s = EmbeddedStore(path)
    ingest(s, read_bundled(BASE), graph("bundled"), META)
    return s


def _content(store) -> bytes:
    """The named graphs but the meta graph (whose times differ)."""
    meta = str(ox.NamedNode(META)).encode()
    return b"\n".join(line for line in snapshot(store).split(b"\n") if not line.rstrip(b" .").endswith(meta))


def test_a_data_update_has_the_same_effect_as_the_same_text_through_the_staged_path(tmp_path):
    probe = _bundled(tmp_path / "probe")
    title = next(q[2] for q in probe.quads_touching([X15.value]) if q[1].value == ELI.title)
    probe.close()
    u = (Update()
         .insert_data(ox.NamedNode(graph("notes")), [(X15, ox.NamedNode(RDFS.comment), literal("a note", lang="en")),
                                                     (X15, ox.NamedNode(RDFS.comment), literal("gone again", lang="en"))])
         .delete_data(ox.NamedNode(graph("notes")), [(X15, ox.NamedNode(RDFS.comment), literal("gone again", lang="en"))])
         .insert_data(ox.NamedNode(graph("bundled")), [(X15, ox.NamedNode(ELI.title), title)]))  # already there: no change
    assert u.data_changes() is not None
    fast, slow = _bundled(tmp_path / "fast"), _bundled(tmp_path / "slow")
    try:
        r1 = apply_update(fast, u, META, who="t")
        r2 = apply_update(slow, u.text(), META, who="t")
        assert (r1.added, r1.removed, r1.graphs) == (r2.added, r2.removed, r2.graphs) == (1, 0, [graph("notes")])
        assert _content(fast) == _content(slow)
        count = fast.select(prefixed("SELECT ?n ?g ?meta WHERE { GRAPH ?meta { ?g chm:tripleCount ?n } }"),
                            {"g": ox.NamedNode(graph("notes")), "meta": ox.NamedNode(META)}, union=False)
        assert count and count[0]["n"].value == "1"  # the graph's provenance counts what the update left
    finally:
        fast.close()
        slow.close()


def test_a_data_update_that_breaks_a_shape_or_touches_the_meta_graph_writes_nothing(tmp_path):
    s = _bundled(tmp_path / "s")
    try:
        before = snapshot(s)
        symbol = next(q[2] for q in s.quads_touching([X15.value]) if q[1].value == CHM.symbol)
        with pytest.raises(ShapeViolation, match="symbol"):
            apply_update(s, Update().delete_data(ox.NamedNode(graph("bundled")), [(X15, ox.NamedNode(CHM.symbol), symbol)]), META)
        # a subject that must be a concept: the decision is not one
        record = ox.NamedNode(BASE + "record/test")
        bad = Update().insert_data(ox.NamedNode(graph("records")), [(record, ox.NamedNode(DCTERMS.subject), X15),
                                                                    (record, ox.NamedNode(RDFS.label), literal("r"))])
        bad.insert_data(ox.NamedNode(graph("records")), [(record, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                                                          ox.NamedNode(CHM.Record))])
        with pytest.raises(ShapeViolation):
            apply_update(s, bad, META)
        with pytest.raises(ForbiddenWrite, match="meta graph"):
            apply_update(s, Update().insert_data(ox.NamedNode(META), [(X15, ox.NamedNode(RDFS.comment), literal("x"))]), META)
        assert snapshot(s) == before
    finally:
        s.close()


def test_updates_that_are_not_ground_data_take_the_general_path():
    g = ox.NamedNode(graph("x"))
    assert Update().delete_values(g, X15, ox.NamedNode(RDFS.comment)).data_changes() is None
    assert Update().insert_data(g, [(ox.BlankNode(), ox.NamedNode(RDFS.comment), literal("b"))]).data_changes() is None
    mixed = Update().insert_data(g, [(X15, ox.NamedNode(RDFS.comment), literal("a"))])
    assert mixed.data_changes() is not None
    assert mixed.extend(Update().drop_graph(g)).data_changes() is None
