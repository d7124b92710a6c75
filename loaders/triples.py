"""The triple builder lives in :mod:`ontology.triples` (every layer maps with it); kept here for the readers."""

from ontology.triples import TripleSet, iri, lit  # noqa: F401
