"""The app over a real store, through FastAPI's TestClient: home, SPARQL, named queries."""

from __future__ import annotations

from fastapi.testclient import TestClient

from conftest import BASE, snapshot
from hostile import hostile_iris, hostile_strings
from hub.web.app import create_app
from loaders.bundled import read_bundled
from writes.ingest import ingest


def test_home_sparql_and_named_queries(settings):
    from hub.settings import open_configured_store

    s = open_configured_store(settings)
    ingest(s, read_bundled(BASE), settings.graph("bundled"), settings.meta_graph)
    s.close()
    with TestClient(create_app(settings)) as client:
        home = client.get("/")
        assert home.status_code == 200 and "<td>Decision</td><td class=\"num\">410</td>" in home.text
        # the counts are computed once per write generation, and a write moves them on
        hub = client.app.state.hub
        assert hub._derived["class-counts"][0] == hub.generation
        token = hub.tokens.create("w", "editor")
        nt = "<http://example.org/w/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <http://example.org/Widget> ."
        put = client.put("/gsp", params={"graph": BASE + "graph/extra"}, content=nt,
                         headers={"Authorization": "Bearer " + token, "Content-Type": "application/n-triples"})
        assert put.status_code == 201 and "Widget" not in home.text
        again = client.get("/")
        assert hub._derived["class-counts"][0] == hub.generation and "Widget" in again.text
        r = client.get("/sparql", params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?d a <https://w3id.org/chmkg/ns#Article> }"})
        assert r.json()["results"]["bindings"][0]["n"]["value"] == "42"
        bad = client.get("/sparql", params={"query": "SELEC"})
        assert bad.status_code == 400 and "syntax" in bad.json()["detail"]
        q = client.get("/api/queries/decisions-by-article", params={"article": BASE + "instrument/cbd/article/18"})
        assert {"X/15", "I/3", "15/16"} <= {row["symbol"] for row in q.json()["rows"]}
        csv = client.get("/api/queries/stats", params={"format": "csv"})
        assert csv.text.startswith("class,instances")
        assert client.get("/api/queries/nope").status_code == 404
        # a missing or ill-typed parameter is the caller's mistake: 400 naming it, as problem+json
        missing = client.get("/api/queries/decisions-by-article")
        assert missing.status_code == 400 and "article" in missing.json()["detail"] and missing.json()["code"] == "E314"
        before = snapshot(client.app.state.hub.store)
        for hostile in hostile_iris(BASE + "instrument/cbd/article/18") + hostile_strings():
            r = client.get("/api/queries/decisions-by-article", params={"article": hostile})
            assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), hostile
        assert client.get("/api/queries/stats", params={"format": "csv", "x": "1"}).status_code == 400
        assert snapshot(client.app.state.hub.store) == before
        # FastAPI's own errors speak the same model: an unknown API route, a browser's unknown page
        assert client.get("/api/nothing-here", headers={"accept": "application/json"}).headers["content-type"].startswith(
            "application/problem+json")


def test_openapi_description_is_valid_and_each_operation_unique(tmp_path):
    import warnings

    from hub.web.app import create_app
    from hub.settings import Settings

    app = create_app(Settings(store_path=str(tmp_path / "store"), rate_limit=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # FastAPI warns about duplicate operation ids
        spec = app.openapi()
    ids = [op["operationId"] for path in spec["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)) and "/gsp" in spec["paths"] and "/api/documents" in spec["paths"]


def test_named_queries_over_rest_are_capped_for_anonymous_clients(tmp_path):
    from fastapi.testclient import TestClient

    from hub.web.app import create_app
    from hub.settings import Settings
    from loaders.bundled import read_bundled
    from writes.ingest import ingest

    settings = Settings(store_path=str(tmp_path / "store"), rate_limit=0, row_cap=3)
    app = create_app(settings)
    ingest(app.state.hub.store, read_bundled(settings.base), settings.graph("bundled"), settings.meta_graph)
    token = app.state.hub.tokens.create("r", "reader")
    with TestClient(app) as c:
        params = {"decision": settings.base + "decision/cop/15/16"}
        anonymous = c.get("/api/queries/lineage-up", params=params)
        assert anonymous.json()["truncated"] and len(anonymous.json()["rows"]) == 3 and anonymous.headers["x-row-cap"] == "3"
        full = c.get("/api/queries/lineage-up", params=params, headers={"Authorization": f"Bearer {token}"})
        assert not full.json()["truncated"] and len(full.json()["rows"]) > 3


def test_the_editors_examples_are_only_queries_that_run_without_a_value(settings):
    """A saved query that needs a value ran unbound from the editor's example buttons (a walk of the
    whole store that timed out); those stay forms on /queries."""
    import json
    import re

    from sparql import queries

    with TestClient(create_app(settings)) as client:
        page = client.get("/editor").text
    config = json.loads(re.search(r'<script type="application/json" id="editor-config">(.*?)</script>', page, re.S).group(1))
    shown = {e["name"] for e in config["examples"]}
    catalogue = queries.catalogue().values()
    assert shown == {q.title for q in catalogue if not any(p.required for p in q.params)}
    assert shown and not shown & {q.title for q in catalogue if any(p.required for p in q.params)}
