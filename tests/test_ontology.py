import re
from pathlib import Path

import pyoxigraph as ox
import pytest

from ontology import CHM, ELI
from ontology.vocab import ONTOLOGY_IRI, PREFIXES, declared_terms, ontology_turtle

ROOT = Path(__file__).resolve().parent.parent
OWL = PREFIXES["owl"]
RDF_TYPE = PREFIXES["rdf"] + "type"
LABEL = PREFIXES["rdfs"] + "label"
DEFINITION = PREFIXES["skos"] + "definition"


def _triples():
    return list(ox.parse(ontology_turtle(), ox.RdfFormat.TURTLE))


def test_every_class_and_property_has_a_label_and_a_definition():
    triples = _triples()
    kinds = {OWL + "Class", OWL + "ObjectProperty", OWL + "DatatypeProperty"}
    terms = {t.subject.value for t in triples if t.predicate.value == RDF_TYPE and t.object.value in kinds}
    assert len(terms) > 60
    for term in terms:
        labels = [t for t in triples if t.subject.value == term and t.predicate.value == LABEL and t.object.language == "en"]
        definitions = [t for t in triples if t.subject.value == term and t.predicate.value == DEFINITION]
        assert labels, f"{term} has no English label"
        assert definitions, f"{term} has no definition"


def test_the_ontology_has_a_version():
    versions = [t for t in _triples() if t.subject.value == ONTOLOGY_IRI and t.predicate.value == OWL + "versionInfo"]
    assert versions and re.fullmatch(r"\d+\.\d+\.\d+", versions[0].object.value)


def test_constants_come_from_the_turtle():
    assert CHM.Decision == "https://w3id.org/chmkg/ns#Decision"
    assert ELI.cites in declared_terms()
    with pytest.raises(AttributeError, match="not declared"):
        CHM.NoSuchTerm  # noqa: B018


def test_every_constant_the_code_uses_is_declared():
    used = set()
    for path in ROOT.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        text = path.read_text()
        for prefix in ("CHM", "ELI", "SKOS", "ORG", "PROV", "DCAT", "DCTERMS", "SCHEMA", "FOAF"):
            for name in re.findall(rf"\b{prefix}\.([A-Za-z_][A-Za-z0-9_]*)\b", text):
                if name != "ns":
                    used.add(PREFIXES[prefix.lower()] + name)
            for name in re.findall(rf'\b{prefix}\["([A-Za-z_]+)"\]', text):
                used.add(PREFIXES[prefix.lower()] + name)
    assert len(used) > 50
    missing = sorted(used - declared_terms())
    assert not missing, f"used in code but not declared in ontology/chm.ttl: {missing}"
