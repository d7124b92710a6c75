"""IRI constants read from ``chm.ttl``.

Each namespace object answers only for the terms the ontology declares, so a typo or an
undeclared term fails at import time of the module that uses it, not silently in a query:

>>> from ontology import CHM, ELI
>>> CHM.Decision
'https://w3id.org/chmkg/ns#Decision'
>>> ELI.cites
'http://data.europa.eu/eli/ontology#cites'
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import pyoxigraph as ox

ONTOLOGY_IRI = "https://w3id.org/chmkg/ns"

PREFIXES: dict[str, str] = {
    "chm": "https://w3id.org/chmkg/ns#",
    "eli": "http://data.europa.eu/eli/ontology#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "org": "http://www.w3.org/ns/org#",
    "prov": "http://www.w3.org/ns/prov#",
    "dcat": "http://www.w3.org/ns/dcat#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "https://schema.org/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
}


def ontology_turtle() -> bytes:
    """The ontology as Turtle bytes."""
    return files("ontology").joinpath("chm.ttl").read_bytes()


@lru_cache(maxsize=1)
def declared_terms() -> frozenset[str]:
    """Every IRI the ontology declares (the subject of an rdf:type triple)."""
    rdf_type = ox.NamedNode(PREFIXES["rdf"] + "type")
    return frozenset(
        t.subject.value
        for t in ox.parse(ontology_turtle(), ox.RdfFormat.TURTLE)
        if t.predicate == rdf_type and isinstance(t.subject, ox.NamedNode)
    )


class Vocab:
    """A namespace whose attributes are IRIs (``str``) of declared terms.

    ``strict`` namespaces only answer for terms declared in ``chm.ttl``; the core RDF
    namespaces (rdf, rdfs, owl, xsd, sh, void, sd) are open.
    """

    def __init__(self, prefix: str, strict: bool = True) -> None:
        self._ns = PREFIXES[prefix]
        self._prefix = prefix
        self._strict = strict

    def __getattr__(self, name: str) -> str:
        if name.startswith("__"):
            raise AttributeError(name)
        iri = self._ns + name
        if self._strict and iri not in declared_terms():
            raise AttributeError(f"{self._prefix}:{name} is not declared in ontology/chm.ttl")
        self.__dict__[name] = iri  # the next look-up of the term is a plain attribute (hot loops ask for thousands)
        return iri

    def __getitem__(self, name: str) -> str:
        return self.__getattr__(name)

    @property
    def ns(self) -> str:
        return self._ns


CHM = Vocab("chm")
ELI = Vocab("eli")
SKOS = Vocab("skos")
ORG = Vocab("org")
PROV = Vocab("prov")
DCAT = Vocab("dcat")
DCTERMS = Vocab("dcterms")
SCHEMA = Vocab("schema")
FOAF = Vocab("foaf")
RDF = Vocab("rdf", strict=False)
RDFS = Vocab("rdfs", strict=False)
OWL = Vocab("owl", strict=False)
XSD = Vocab("xsd", strict=False)
SH = Vocab("sh", strict=False)
VOID = Vocab("void", strict=False)
SD = Vocab("sd", strict=False)


def sparql_prefixes() -> str:
    """PREFIX lines for every namespace the hub uses."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
