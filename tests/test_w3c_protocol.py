"""The W3C SPARQL 1.1 Protocol and Graph Store Protocol manifests, replayed against a live hub.

Known failures, each with its reason (asserted to fail, so a fix shows up as an unexpected pass):

| test | reason |
| --- | --- |
| put_get_default (GSP) | the hub's default graph is the union of the named graphs, a read-only view; writing to it is refused with 405 by design |
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MODES, SHARED, start_live_hub, server_for
from w3c_harness import load_cases, run_case

pytestmark = pytest.mark.slow

SUITE = SHARED / "data" / "w3c-tests" / "sparql" / "sparql11"
KNOWN_FAILURES = {
    "put_get_default": "the default graph is the union of the named graphs: a read-only view (405 on writes)",
}


def _cases(manifest: Path):
    if not manifest.is_file():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{manifest} not found (../shared is absent)"))]
    return [pytest.param(c, id=c.id) for c in load_cases(manifest)]


@pytest.fixture(scope="module", params=MODES)
def w3c_hub(request, tmp_path_factory):
    remote = server_for(request, request.param)
    live, stop = start_live_hub(tmp_path_factory.mktemp("w3c"), request.param, remote, load_bundled=False)
    yield live
    stop()


def _reset(live, case) -> None:
    import httpx

    r = httpx.post(live.url + "/sparql", content="DROP SILENT ALL",
                   headers={"content-type": "application/sparql-update", **live.auth(live.admin)})
    assert r.status_code == 200, r.text
    for name, path in case.graph_data:
        r = httpx.put(live.url + "/gsp", params={"graph": name}, content=path.read_bytes(),
                      headers={"content-type": "application/n-triples", **live.auth()})
        assert r.status_code in (201, 204), r.text


def _check(live, case):
    _reset(live, case)
    problems = run_case(case, live.url, live.admin)  # the cases empty the store (DROP ALL): an admin's right
    if case.id in KNOWN_FAILURES:
        assert problems, f"{case.id} passes now: remove it from the known failures"
        pytest.xfail(KNOWN_FAILURES[case.id])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("case", _cases(SUITE / "protocol" / "manifest.ttl"))
def test_protocol_manifest(w3c_hub, case):
    _check(w3c_hub, case)


@pytest.mark.parametrize("case", _cases(SUITE / "graph-store-protocol" / "manifest.ttl"))
def test_graph_store_manifest(w3c_hub, case):
    _check(w3c_hub, case)


def test_service_description_manifest(w3c_hub):
    """The three service-description tests: GET on the endpoint returns RDF with sd:endpoint = the endpoint."""
    import httpx
    import rdflib

    r = httpx.get(w3c_hub.url + "/sparql", headers={"accept": "text/turtle"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    endpoint = rdflib.URIRef(w3c_hub.url + "/sparql")
    services = list(g.subjects(sd.endpoint, endpoint))
    assert services, "no sd:endpoint naming the endpoint"
    assert (services[0], rdflib.RDF.type, sd.Service) in g
    assert (services[0], sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (services[0], sd.feature, sd.UnionDefaultGraph) in g
    r = httpx.get(w3c_hub.url + "/sparql", headers={"accept": "application/rdf+xml"})
    assert r.headers["content-type"].startswith("application/rdf+xml")
    assert len(rdflib.Graph().parse(data=r.text, format="xml")) == len(g)
