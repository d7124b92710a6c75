"""The Secretariat's official KMGBF ontology (``../shared/data/kmgbf-ontology``, CC BY 4.0 IGO): goals,
targets and the 204 monitoring-framework indicators with their roles (headline, binary, component,
complementary), in English, French and Spanish.

Its triples are loaded as published, under the Secretariat's IRIs (``http://metadata.cbd.int/kmgbf/…``),
into the graph ``kmgbf``; the hub's own KMGBF goals and targets (``scheme/gbf-targets/goal-A``,
``…/target-3``) are aligned to them with ``skos:exactMatch``, so a query can go from a decision's target to
the indicators that monitor it. The goals and targets are also stated to be in ``kmgbf:kmgbfScheme``,
which the published files leave to the Secretariat's server to materialise. The graph's provenance cites the ontology as its licence asks.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyoxigraph as ox

from loaders.rdf import read_bytes
from ontology import SKOS
from ontology.errors import RdfSyntaxError
from ontology.iris import Minter
from writes.ingest import NEW, ParsedSource

ONTOLOGY = Path("kmgbf-ontology") / "ontology" / "kmgbf-all.ttl"
SHAPES = Path("kmgbf-ontology") / "ontology" / "validation" / "kmgbf-shapes.ttl"
KMGBF = "http://metadata.cbd.int/kmgbf/"
CITATION = ("Secretariat of the Convention on Biological Diversity (2026). KMGBF Monitoring Framework Ontology. "
            "Version 1.0. http://metadata.cbd.int/kmgbf/ontology (CC BY 4.0 IGO)")


def read_kmgbf(shared_data: Path, base: str) -> ParsedSource:
    path = shared_data / ONTOLOGY
    data = read_bytes(path)
    m = Minter(base)
    staging = ox.Store()
    graph = ox.NamedNode(NEW)
    try:
        staging.load(data, ox.RdfFormat.TURTLE, base_iri=KMGBF, to_graph=graph)
    except SyntaxError as e:
        raise RdfSyntaxError(f"{path}: {e}") from None
    exact = ox.NamedNode(SKOS.exactMatch)
    in_scheme, scheme = ox.NamedNode(SKOS.inScheme), ox.NamedNode(KMGBF + "kmgbfScheme")
    aligned = []
    for q in staging.quads_for_pattern(None, None, None, graph):
        match = re.fullmatch(re.escape(KMGBF) + r"(goal|target)_([A-D]|\d{1,2})", q.subject.value) if isinstance(q.subject, ox.NamedNode) else None
        if match and q.predicate.value == "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
            kind, code = match.groups()
            aligned.append(ox.Quad(ox.NamedNode(m.concept("gbf-targets", f"{kind}-{code}")), exact, q.subject, graph))
            # the published data leaves the goals' and targets' scheme implicit (its server materialises it);
            # they are SKOS concepts (:Goal, :Target ⊑ skos:Concept), and a concept is in a scheme
            aligned.append(ox.Quad(q.subject, in_scheme, scheme, graph))
    staging.extend(aligned)
    ntriples = staging.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=graph) or b""
    return ParsedSource("kmgbf", "kmgbf", str(path), "sha256:" + hashlib.sha256(data + m.base.encode()).hexdigest(),
                        ntriples, "KMGBF Monitoring Framework Ontology — " + CITATION, parsed=staging)
