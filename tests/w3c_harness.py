"""Replay the W3C SPARQL 1.1 Protocol / Graph Store Protocol manifests (HTTP-in-RDF) against a live hub.

Each manifest entry is a list of HTTP requests with the expected status class, result format,
boolean or RDF body. Paths starting ``/sparql/`` and ``/gsp`` are sent to the hub's ``/sparql`` and
``/gsp``; ``$LOCATION$`` is replaced by the previous response's Location header. Updates carry the
test admin's token (the hub only accepts authenticated writes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import httpx
import rdflib
from rdflib.collection import Collection
from rdflib.compare import isomorphic

MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = rdflib.Namespace("http://www.w3.org/2011/http#")
HTS = rdflib.Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = rdflib.Namespace("http://www.w3.org/2011/content#")
UT = rdflib.Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
RDFS = rdflib.RDFS

STATUS = {"OK": 200, "Created": 201, "NoContent": 204, "NotFound": 404}


@dataclass
class Step:
    method: str
    path: str
    headers: dict[str, str]
    body: str | None
    statuses: list[str]  # "2xx", "4xx", or exact codes as strings
    expected_format: str | None = None
    expected_boolean: bool | None = None
    expected_body: str | None = None
    expected_type: str | None = None
    location_var: str | None = None


@dataclass
class Case:
    id: str
    name: str
    steps: list[Step]
    graph_data: list[tuple[str, Path]] = field(default_factory=list)


def _headers(g: rdflib.Graph, node) -> dict[str, str]:
    out = {}
    lst = g.value(node, HT.headers)
    if lst is not None:
        for h in Collection(g, lst):
            out[str(g.value(h, HT.fieldName)).lower()] = str(g.value(h, HT.fieldValue))
    return out


def _statuses(g: rdflib.Graph, resp) -> list[str]:
    out = []
    for s in g.objects(resp, MF.expectedStatus):
        local = str(s).rsplit("#", 1)[-1]
        out.append(local[len("StatusCode"):].lower() if local.startswith("StatusCode") else str(STATUS[local]))
    return out


def load_cases(manifest: Path) -> list[Case]:
    g = rdflib.Graph()
    g.parse(manifest, format="turtle")
    cases = []
    for includes in g.objects(None, MF.include):
        for include in Collection(g, includes):
            cases += load_cases(manifest.parent / Path(str(include)).name)
    for entries in g.objects(None, MF.entries):
        for test in Collection(g, entries):
            action = g.value(test, MF.action)
            steps = []
            for req in Collection(g, g.value(action, HT.requests)):
                body_node = g.value(req, HT.body)
                resp = g.value(req, HT.resp)
                expected_body = expected_type = None
                rbody = g.value(resp, HT.body)
                if rbody is not None:
                    expected_body = str(g.value(rbody, CNT.chars))
                    expected_type = _headers(g, resp).get("content-type")
                boolean = g.value(resp, MF.expectedBoolean)
                steps.append(Step(
                    method=str(g.value(req, HT.methodName)),
                    path=str(g.value(req, HT.absolutePath)),
                    headers=_headers(g, req),
                    body=str(g.value(body_node, CNT.chars)) if body_node is not None else None,
                    statuses=_statuses(g, resp),
                    expected_format=str(g.value(resp, MF.expectedFormat)) if g.value(resp, MF.expectedFormat) else None,
                    expected_boolean=boolean.toPython() if boolean is not None else None,
                    expected_body=expected_body,
                    expected_type=expected_type,
                    location_var=str(g.value(resp, MF.expectedLocation)) if g.value(resp, MF.expectedLocation) else None,
                ))
            data = []
            for gd in g.objects(test, UT.graphData):
                data.append((str(g.value(gd, RDFS.label)), manifest.parent / Path(str(g.value(gd, UT.graph))).name))
            cases.append(Case(str(test).rsplit("#", 1)[-1], str(g.value(test, MF.name)), steps, data))
    return cases


def _status_ok(code: int, expected: list[str]) -> bool:
    return any(code == int(e) if e.isdigit() else str(code)[0] == e[0] for e in expected)


def run_case(case: Case, base_url: str, token: str) -> list[str]:
    """Run one case; return the problems found (empty when it passes)."""
    problems = []
    auth = {"authorization": f"Bearer {token}"}
    variables: dict[str, str] = {}
    with httpx.Client(base_url=base_url, timeout=30) as client:
        for i, step in enumerate(case.steps):
            path = step.path
            for var, value in variables.items():
                path = path.replace(var, value)
            if path.startswith("/sparql/"):
                path = "/sparql" + path[len("/sparql/"):]
            headers = dict(step.headers) | auth
            body = step.body
            if body is not None and "utf-16" in headers.get("content-type", "").lower():
                content = body.encode("utf-16")
            else:
                content = body.encode() if body is not None else None
            if "content-type" not in step.headers and content is not None:
                headers["content-type"] = ""
            r = client.request(step.method, path, content=content, headers=headers)
            where = f"request {i + 1} ({step.method} {path[:80]})"
            if not _status_ok(r.status_code, step.statuses):
                problems.append(f"{where}: status {r.status_code}, expected {step.statuses}: {r.text[:300]}")
                continue
            if step.location_var:
                loc = r.headers.get("location")
                if not loc:
                    problems.append(f"{where}: no Location header")
                    continue
                variables[step.location_var] = loc
            ctype = r.headers.get("content-type", "").split(";")[0].strip()
            if step.expected_format == "boolean" or step.expected_boolean is not None:
                if ctype == "application/sparql-results+json":
                    value = r.json().get("boolean")
                elif ctype == "application/sparql-results+xml":
                    value = "<boolean>true</boolean>" in r.text
                else:
                    problems.append(f"{where}: boolean result as {ctype}")
                    continue
                if step.expected_boolean is not None and value != step.expected_boolean:
                    problems.append(f"{where}: boolean {value}, expected {step.expected_boolean}")
            elif step.expected_format == "tabular" and ctype not in (
                "application/sparql-results+json", "application/sparql-results+xml", "text/csv", "text/tab-separated-values"):
                problems.append(f"{where}: tabular result as {ctype}")
            elif step.expected_format == "RDF" and ctype not in ("application/rdf+xml", "text/turtle", "application/n-triples"):
                problems.append(f"{where}: RDF result as {ctype}")
            if step.expected_body is not None and step.method != "HEAD":
                fmt = {"text/turtle": "turtle", "application/n-triples": "nt"}.get(ctype, "turtle")
                got = rdflib.Graph().parse(data=r.text, format=fmt)
                want = rdflib.Graph().parse(data=step.expected_body, format="turtle")
                if not isomorphic(got, want):
                    problems.append(f"{where}: the returned graph is not isomorphic to the expected one:\n{r.text[:400]}")
    return problems
