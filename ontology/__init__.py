"""The hub's vocabulary (chm.ttl), its IRI constants, IRI minting, decision symbols and errors.

This is the bottom layer: nothing here imports sparql, shapes, loaders, thesaurus or hub.
"""

from ontology.vocab import CHM, DCAT, DCTERMS, ELI, FOAF, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SD, SH, SKOS, VOID, XSD, PREFIXES

__all__ = ["CHM", "DCAT", "DCTERMS", "ELI", "FOAF", "ORG", "OWL", "PROV", "RDF", "RDFS", "SCHEMA", "SD", "SH", "SKOS", "VOID", "XSD", "PREFIXES"]
