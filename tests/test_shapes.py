"""Every shape family against valid and invalid fixtures, with both validators agreeing."""

from __future__ import annotations

import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from shapes.compiler import compile_shapes
from shapes.validate import shape_families, shapes_graph_turtle, validate_store, validate_with_pyshacl
from sparql.store import EmbeddedStore

FIXTURES = Path(__file__).parent / "shapes"
SH = "http://www.w3.org/ns/shacl#"


def _validate_compiled(path: Path):
    store = EmbeddedStore(None)
    store.raw.load(path.read_bytes(), ox.RdfFormat.TURTLE, to_graph=ox.NamedNode("urn:test:data"))
    return validate_store(store)


def _expected(path: Path) -> set[tuple[str, str | None]]:
    out = set()
    for component, where in re.findall(r"^# expect: (\S+) (\S+)$", path.read_text(), re.M):
        out.add((SH + component, None if where == "sparql" else where))
    return out


@pytest.mark.parametrize("path", sorted((FIXTURES / "valid").glob("*.ttl")), ids=lambda p: p.stem)
def test_valid_examples_conform(path):
    report = _validate_compiled(path)
    assert report.conforms, report.summary()
    assert validate_with_pyshacl(path.read_bytes(), "turtle").conforms


@pytest.mark.parametrize("path", sorted((FIXTURES / "invalid").glob("*.ttl")), ids=lambda p: p.stem)
def test_invalid_examples_are_caught_with_focus_path_and_message(path):
    expected = _expected(path)
    assert expected, f"{path.name} names no expected violation"
    report = _validate_compiled(path)
    found = {(v.component, v.path) for v in report.violations}
    assert expected <= found, report.summary()
    for v in report.violations:
        assert v.focus.startswith("http://example.org/") and v.message
    # pyshacl is the reference: both find the same (focus, path, component) set
    reference = validate_with_pyshacl(path.read_bytes(), "turtle")
    assert {v.key() for v in report.violations} == {v.key() for v in reference.violations}


def test_every_constraint_has_a_message_and_every_family_has_fixtures():
    triples = list(ox.parse(shapes_graph_turtle(), ox.RdfFormat.N_TRIPLES))
    constraints = compile_shapes(triples)
    assert len(constraints) > 80
    assert all(c.message.strip() for c in constraints)
    props = {t.object for t in triples if t.predicate.value == SH + "property"}
    with_message = {t.subject for t in triples if t.predicate.value == SH + "message"}
    assert props <= with_message
    families = {name.removesuffix(".ttl") for name in shape_families()}
    valid = {p.stem for p in (FIXTURES / "valid").glob("*.ttl")}
    assert families <= valid


def test_the_compiler_refuses_constraints_it_does_not_support():
    bad = b"""@prefix sh: <http://www.w3.org/ns/shacl#> .
    <urn:s> a sh:NodeShape ; sh:targetClass <urn:C> ;
        sh:property [ sh:path <urn:p> ; sh:minLength 3 ; sh:message "too short" ] ."""
    from ontology.errors import ChmError

    with pytest.raises(ChmError, match="minLength"):
        compile_shapes(list(ox.parse(bad, ox.RdfFormat.TURTLE)))
