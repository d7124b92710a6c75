"""Remote-store mode against a real `oxigraph serve` started on 127.0.0.1 by the tests."""

from __future__ import annotations

import time

import pytest

from conftest import BASE, META, graph, snapshot
from loaders.bundled import read_bundled
from writes.ingest import ingest
from loaders.rdf import read_rdf
from ontology.errors import ShapeViolation, StoreUnavailable
from shapes.validate import validate_store
from sparql import queries
from sparql.store import RemoteStore

pytestmark = pytest.mark.remote


def test_build_query_and_validate_over_a_remote_store(remote_store):
    result = ingest(remote_store, read_bundled(BASE), graph("bundled"), META)
    assert result.status == "loaded"
    assert remote_store.count(graph("bundled")) == read_bundled(BASE).triple_count
    assert ingest(remote_store, read_bundled(BASE), graph("bundled"), META).status == "unchanged"
    rows = queries.run(remote_store, "lineage-up", {"decision": BASE + "decision/cop/15/16"})
    assert (BASE + "decision/cop/2/3", "recalls", BASE + "decision/cop/1/3") in {
        (r["source"].value, r["kind"].value, r["target"].value) for r in rows}
    assert validate_store(remote_store).conforms


def test_replacement_and_refusal_behave_as_embedded(remote_store, tmp_path):
    ingest(remote_store, read_bundled(BASE), graph("bundled"), META)
    path = tmp_path / "r.ttl"
    path.write_text(f'<http://e/r> a <https://w3id.org/chmkg/ns#Record> ; <http://purl.org/dc/terms/title> "A"@en ; '
                    f'<http://purl.org/dc/terms/language> "en" ; <http://purl.org/dc/terms/subject> <{BASE}scheme/aichi-targets/target-1> .')
    ingest(remote_store, read_rdf(path), graph("r"), META)
    path.write_text(path.read_text().replace('"A"@en', '"B"@en'))
    assert ingest(remote_store, read_rdf(path), graph("r"), META).status == "replaced"
    before = snapshot(remote_store)
    path.write_text(path.read_text().replace("target-1>", "no-such-target>"))
    with pytest.raises(ShapeViolation):
        ingest(remote_store, read_rdf(path), graph("r"), META)
    assert snapshot(remote_store) == before


def test_a_remote_store_that_does_not_answer_is_a_clear_error():
    dead = RemoteStore("http://127.0.0.1:9/query", "http://127.0.0.1:9/update", timeout=2)
    with pytest.raises(StoreUnavailable, match="did not answer"):
        ingest(dead, read_bundled(BASE), graph("bundled"), META)


def test_cli_against_remote(oxigraph_server, tmp_path):
    from typer.testing import CliRunner

    from hub.cli import app

    # no shared data where the settings point: the bundled dataset only (a wrong --shared is an error instead)
    r = CliRunner(env={"CHMKG_SHARED_DATA": str(tmp_path / "none")}).invoke(
        app, ["--remote-query", oxigraph_server + "/query", "--remote-update", oxigraph_server + "/update", "--base", BASE, "build"])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["--remote-query", "http://127.0.0.1:9/query", "stats"])
    assert r.exit_code == 1 and "E301" in r.output


def test_tracking_derives_and_filtered_named_queries_bind_as_embedded(remote_store, store, settings):
    """Statuses derive over a remote store, and a parameter a FILTER reads (from/to of open-requests)
    restricts the answer there as pyoxigraph's substitutions do embedded."""
    from hub.tracking import build_index, refresh

    answers = []
    for s in (remote_store, store):
        ingest(s, read_bundled(BASE), graph("bundled"), META)
        refresh(s, settings)
        rows = queries.run(s, "open-requests", {"actor": BASE + "actor/executive-secretary", "from": "11", "to": "11"})
        answers.append(sorted((r["symbol"].value, r["number"].value) for r in rows))
        assert {r["n"].value for r in rows} == {"11"}
        assert {r.status for r in build_index(s, settings).filter(status="superseded")} == {"superseded"}
    assert answers[0] == answers[1] and answers[0]


# -- the pass-through: a plain read streams from the remote store unparsed ---------------------------

@pytest.fixture
def remote_hub(oxigraph_server, tmp_path):
    from conftest import hub_serving

    with hub_serving(tmp_path, "remote", oxigraph_server, row_cap=50) as live:
        yield live


def test_a_plain_read_over_a_remote_store_streams_the_stores_own_answer_and_the_row_cap_still_holds(remote_hub):
    import httpx
    from SPARQLWrapper import JSON, SPARQLWrapper

    url = remote_hub.url + "/sparql"
    small = "SELECT ?d ?t WHERE { ?d <http://data.europa.eu/eli/ontology#title> ?t } ORDER BY ?d LIMIT 5"
    r = httpx.get(url, params={"query": small}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.headers["x-answered-by"] == "store"
    rows = r.json()["results"]["bindings"]
    assert len(rows) == 5 and all(row["d"]["type"] == "uri" for row in rows)
    # the same answer as the hub's own path gives (pass-through off for this comparison: a LIMIT over the cap)
    for fmt in ("text/csv", "text/tab-separated-values", "application/sparql-results+xml"):
        streamed = httpx.get(url, params={"query": small}, headers={"accept": fmt})
        assert streamed.status_code == 200 and streamed.headers["x-answered-by"] == "store"
        assert streamed.headers["content-type"].startswith(fmt)
    # a real client
    client = SPARQLWrapper(url)
    client.setQuery(small)
    client.setReturnFormat(JSON)
    assert [b["d"]["value"] for b in client.query().convert()["results"]["bindings"]] == [row["d"]["value"] for row in rows]
    # an answer that could pass the anonymous row cap (50 here) is counted by the hub: capped and said so
    big = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
    capped = httpx.get(url, params={"query": big}, headers={"accept": "application/sparql-results+json"})
    assert "x-answered-by" not in capped.headers and capped.headers["x-result-truncated"] == "true"
    assert len(capped.json()["results"]["bindings"]) == 50
    over = httpx.get(url, params={"query": big + " LIMIT 51"}, headers={"accept": "application/sparql-results+json"})
    assert "x-answered-by" not in over.headers and len(over.json()["results"]["bindings"]) == 50
    # an editor's token lifts the cap, so the whole answer streams from the store
    whole = httpx.get(url, params={"query": big}, headers={"accept": "application/sparql-results+json", **remote_hub.auth()})
    assert whole.headers["x-answered-by"] == "store" and len(whole.json()["results"]["bindings"]) > 50
    # ASK cannot pass any cap; CONSTRUCT streams as N-Triples for a token holder only
    ask = httpx.get(url, params={"query": "ASK { ?s ?p ?o }"}, headers={"accept": "application/sparql-results+json"})
    assert ask.headers["x-answered-by"] == "store" and ask.json()["boolean"] is True
    construct = "CONSTRUCT { ?s ?p ?o } WHERE { ?s a <https://w3id.org/chmkg/ns#Decision> ; ?p ?o }"
    anon = httpx.get(url, params={"query": construct}, headers={"accept": "application/n-triples"})
    assert "x-answered-by" not in anon.headers and anon.headers["x-result-truncated"] == "true"
    mine = httpx.get(url, params={"query": construct}, headers={"accept": "application/n-triples", **remote_hub.auth()})
    assert mine.headers["x-answered-by"] == "store" and mine.text.count("\n") > 50


def test_the_pass_through_keeps_the_hubs_errors_services_dataset_and_cache(remote_hub):
    import httpx

    url = remote_hub.url + "/sparql"
    # a syntax error is the store's message, as a 400
    bad = httpx.get(url, params={"query": "SELECT * WHERE { ?s ?p } LIMIT 1"})
    assert bad.status_code == 400 and "syntax" in bad.text.lower()
    # SERVICE is refused before anything reaches the store
    hostile = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } } LIMIT 1"
    assert httpx.get(url, params={"query": hostile}).status_code == 403
    # the request's dataset reaches the store: the real default graph is empty without the union
    q = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } LIMIT 1"
    union = httpx.get(url, params={"query": q}, headers={"accept": "application/sparql-results+json"}).json()
    plain = httpx.get(url, params={"query": q, "union-default-graph": "false"}, headers={"accept": "application/sparql-results+json"}).json()
    assert int(union["results"]["bindings"][0]["n"]["value"]) > 0 and int(plain["results"]["bindings"][0]["n"]["value"]) == 0
    # a streamed answer is cached; a write empties the cache and the next answer sees the write
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s <http://www.w3.org/2004/02/skos/core#prefLabel> \"Passing through\"@en } LIMIT 1"
    first = httpx.get(url, params={"query": count}, headers={"accept": "application/sparql-results+json"})
    assert first.headers["x-answered-by"] == "store" and first.json()["results"]["bindings"][0]["n"]["value"] == "0"
    again = httpx.get(url, params={"query": count}, headers={"accept": "application/sparql-results+json"})
    assert again.headers.get("x-cache") == "hit"
    r = httpx.put(remote_hub.url + "/gsp", params={"graph": "http://example.org/passing"}, headers={"content-type": "text/turtle", **remote_hub.auth()},
                  content='<http://example.org/x> <http://www.w3.org/2004/02/skos/core#prefLabel> "Passing through"@en .'.encode())
    assert r.status_code == 201
    after = httpx.get(url, params={"query": count}, headers={"accept": "application/sparql-results+json"})
    assert "x-cache" not in after.headers and after.json()["results"]["bindings"][0]["n"]["value"] == "1"


def test_the_pass_through_can_be_turned_off(oxigraph_server, tmp_path):
    import httpx

    from conftest import start_live_hub

    live, stop = start_live_hub(tmp_path, "remote", oxigraph_server, remote_passthrough=False)
    try:
        r = httpx.get(live.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"accept": "application/sparql-results+json"})
        assert r.status_code == 200 and r.json()["boolean"] is True and "x-answered-by" not in r.headers
    finally:
        stop()


def test_a_streamed_answer_past_its_deadline_is_cut_and_the_hub_serves_on(oxigraph_server, tmp_path):
    import httpx

    from conftest import start_live_hub

    live, stop = start_live_hub(tmp_path, "remote", oxigraph_server, query_timeout=2.0)
    try:
        huge = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # billions of rows: more than the held first megabyte
        with httpx.stream("GET", live.url + "/sparql", params={"query": huge}, headers={"accept": "text/tab-separated-values", **live.auth()},
                          timeout=60) as r:
            assert r.status_code == 200 and r.headers["x-answered-by"] == "store"
            with pytest.raises(httpx.HTTPError):  # the connection is cut at the deadline: an incomplete answer
                for _ in r.iter_bytes():
                    pass
        deadline = time.monotonic() + 60
        while httpx.get(live.url + "/healthz").json()["running_queries"] and time.monotonic() < deadline:
            time.sleep(0.05)  # bounded: the slot is given back when the stream ends
        assert httpx.get(live.url + "/healthz").json()["running_queries"] == 0
        ask = httpx.get(live.url + "/sparql", params={"query": "ASK { ?s ?p ?o }"}, headers={"accept": "application/sparql-results+json"})
        assert ask.status_code == 200 and ask.json()["boolean"] is True
        # a slow answer that fits the held megabyte is still a 503 that says why
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
        slow = httpx.get(live.url + "/sparql", params={"query": count}, headers={"accept": "application/sparql-results+json", **live.auth()}, timeout=60)
        assert slow.status_code == 503 and "time limit" in slow.json()["detail"]
    finally:
        stop()


def test_relative_iris_resolve_against_the_endpoint_on_both_paths(remote_hub):
    import httpx

    url = remote_hub.url + "/sparql"
    json_ = {"accept": "application/sparql-results+json"}
    ask = httpx.post(url, data={"query": "ASK { <decision/cop/15/16> ?p ?o }"}, headers=json_)
    assert ask.headers["x-answered-by"] == "store" and ask.json()["boolean"] is True  # the pass-through
    select = httpx.get(url, params={"query": "SELECT ?p WHERE { <decision/cop/15/16> ?p ?o }"}, headers=json_)
    assert "x-answered-by" not in select.headers and select.json()["results"]["bindings"]  # the usual path
    own = httpx.post(url, data={"query": "BASE <http://example.org/> ASK { <decision/cop/15/16> ?p ?o }"}, headers=json_)
    assert own.json()["boolean"] is False  # the query's own BASE wins
