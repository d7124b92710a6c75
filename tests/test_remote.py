"""Remote-store mode against a real `oxigraph serve` started on 127.0.0.1 by the tests."""

from __future__ import annotations

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
