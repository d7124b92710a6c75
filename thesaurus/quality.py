"""Quality checks for SKOS vocabularies in the spirit of qSKOS, as SPARQL over one named graph.

Each check names its issue, the concepts it finds and a detail; ``run_checks`` runs them all on a
graph of the store (or on an in-memory store, for a vocabulary not imported yet) and returns a
report for the CLI, the pages and JSON.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import pyoxigraph as ox

SKOS = "http://www.w3.org/2004/02/skos/core#"
PREFIX = f"PREFIX skos: <{SKOS}>\n"


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    query: str  # over GRAPH <#G#>; selects ?concept and ?detail


CHECKS = [
    Check("orphan-concepts", "Concepts with no broader, narrower or related concept",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept a skos:Concept "
          "FILTER NOT EXISTS { ?concept skos:broader|skos:narrower|skos:related|^skos:broader|^skos:narrower|^skos:related ?x } "
          "BIND(\"no hierarchical or associative link\" AS ?detail) } }"),
    Check("broader-cycles", "Cycles in the broader hierarchy",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept skos:broader+ ?concept "
          "BIND(\"is (transitively) broader than itself\" AS ?detail) } }"),
    Check("missing-preflabel-language", "Concepts without a prefLabel in a language the scheme uses",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { { SELECT DISTINCT ?lang WHERE { ?c skos:prefLabel ?l BIND(lang(?l) AS ?lang) } } "
          "?concept a skos:Concept FILTER NOT EXISTS { ?concept skos:prefLabel ?p FILTER (lang(?p) = ?lang) } "
          "BIND(CONCAT(\"no prefLabel in '\", ?lang, \"'\") AS ?detail) } }"),
    Check("several-preflabels", "Several prefLabels in one language",
          "SELECT ?concept (CONCAT(GROUP_CONCAT(STR(?l); separator=\" | \"), \" @\", ?lang) AS ?detail) WHERE { GRAPH <#G#> { "
          "?concept skos:prefLabel ?l BIND(lang(?l) AS ?lang) } } GROUP BY ?concept ?lang HAVING (COUNT(?l) > 1)"),
    Check("pref-and-alt", "A label that is both pref and alt (or hidden)",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept skos:prefLabel ?l ; skos:altLabel|skos:hiddenLabel ?l "
          "BIND(STR(?l) AS ?detail) } }"),
    Check("label-clash", "The same prefLabel on two concepts of a scheme",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { "
          "{ SELECT ?s ?key ?lang WHERE { ?c skos:prefLabel ?l ; skos:inScheme ?s BIND(LCASE(STR(?l)) AS ?key) BIND(lang(?l) AS ?lang) } "
          "GROUP BY ?s ?key ?lang HAVING (COUNT(DISTINCT ?c) > 1) } "
          "?concept skos:inScheme ?s ; skos:prefLabel ?l2 FILTER (LCASE(STR(?l2)) = ?key && lang(?l2) = ?lang) "
          "BIND(CONCAT(STR(?l2), \" @\", ?lang, \" is the prefLabel of another concept too\") AS ?detail) } }"),
    Check("related-and-broader", "Related and broader between the same pair",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept skos:related ?other ; skos:broader+ ?other "
          "BIND(STR(?other) AS ?detail) } }"),
    Check("dangling-references", "Links to concepts that are not in the vocabulary",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept skos:broader|skos:narrower|skos:related ?other "
          "FILTER NOT EXISTS { ?other a skos:Concept } BIND(STR(?other) AS ?detail) } }"),
    Check("top-concept-with-broader", "Top concepts that have a broader concept",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { { ?concept skos:topConceptOf ?s } UNION { ?s skos:hasTopConcept ?concept } "
          "?concept skos:broader ?b BIND(STR(?b) AS ?detail) } }"),
    Check("no-definition", "Concepts without a definition",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { ?concept a skos:Concept "
          "FILTER NOT EXISTS { ?concept skos:definition ?d } BIND(\"no skos:definition\" AS ?detail) } }"),
    Check("stray-characters", "Labels or definitions with stray whitespace or punctuation",
          "SELECT DISTINCT ?concept ?detail WHERE { GRAPH <#G#> { "
          "?concept skos:prefLabel|skos:altLabel|skos:hiddenLabel|skos:definition ?l "
          "FILTER (REGEX(STR(?l), \"^\\\\s|\\\\s$|\\\\s\\\\s|\\\\s/n$|[,;:]$\")) "
          "BIND(CONCAT(\"'\", SUBSTR(STR(?l), 1, 40), IF(STRLEN(STR(?l)) > 40, \"…'\", \"'\"), IF(STRENDS(STR(?l), \" /n\"), \" ends with ' /n'\", \"\")) AS ?detail) } }"),
]


@dataclass(frozen=True)
class Finding:
    concept: str
    detail: str


@dataclass
class CheckResult:
    id: str
    title: str
    count: int
    findings: list[Finding] = field(default_factory=list)


@dataclass
class QualityReport:
    graph: str
    concepts: int
    seconds: float
    results: list[CheckResult]

    def by_id(self) -> dict[str, CheckResult]:
        return {r.id: r for r in self.results}

    def to_dict(self, limit: int = 50) -> dict:
        d = asdict(self)
        for r in d["results"]:
            r["findings"] = r["findings"][:limit]
        return d


def run_checks(store: ox.Store, graph: str, only: list[str] | None = None) -> QualityReport:
    """Run the checks on one named graph of a pyoxigraph store."""
    t0 = time.perf_counter()
    g = str(ox.NamedNode(graph))[1:-1]
    concepts = int(next(iter(store.query(PREFIX + f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ GRAPH <{g}> {{ ?c a skos:Concept }} }}")))[0].value)
    results = []
    for check in CHECKS:
        if only and check.id not in only:
            continue
        rows = store.query(PREFIX + check.query.replace("#G#", g))
        findings = sorted({Finding(r["concept"].value, r["detail"].value if r["detail"] is not None else "") for r in rows
                           if r["concept"] is not None}, key=lambda f: (f.concept, f.detail))
        results.append(CheckResult(check.id, check.title, len(findings), findings))
    return QualityReport(graph, concepts, round(time.perf_counter() - t0, 3), results)



def check_stored(store, graph: str, only: list[str] | None = None) -> QualityReport:
    """Run the checks on a graph of the hub's store, over an in-memory copy of that graph (the
    path and group queries run about 15× faster in memory than on RocksDB, copy included)."""
    t0 = time.perf_counter()
    copy = ox.Store()
    copy.load(store.dump(graph, ox.RdfFormat.N_TRIPLES), ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    report = run_checks(copy, graph, only)
    report.seconds = round(time.perf_counter() - t0, 3)
    return report
