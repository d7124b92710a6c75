"""Readers of ../shared/data: target texts, the Convention text, CHM records (skipped without ../shared)."""

from __future__ import annotations

import json

import pytest

from conftest import BASE, META, graph, snapshot
from loaders.cbd_reference import read_convention, read_targets
from loaders.chm_records import read_chm_records
from writes.ingest import ingest
from shapes.validate import validate_store

FULL = "https://w3id.org/chmkg/ns#fullText"


def test_target_texts_attach_to_every_bundled_target(bundled_store, shared_data):
    ingest(bundled_store, read_targets(shared_data / "cbd-reference" / "targets", BASE), graph("targets-text"), META)
    rows = bundled_store.select(f"SELECT ?c WHERE {{ ?c <{FULL}> ?t ; a <http://www.w3.org/2004/02/skos/core#Concept> }}")
    assert len(rows) == 5 + 20 + 4 + 23
    text = bundled_store.select(f"SELECT ?t WHERE {{ <{BASE}scheme/aichi-targets/target-19> <{FULL}> ?t }}")[0]["t"].value
    assert "knowledge" in text and "2020" in text


def test_convention_text_attaches_articles_and_paragraphs(bundled_store, shared_data):
    ingest(bundled_store, read_convention(shared_data / "cbd-reference" / "convention-texts", BASE), graph("convention-text"), META)
    art = f"{BASE}instrument/cbd/article/18"
    assert bundled_store.ask(f"ASK {{ <{art}> <{FULL}> ?t }}")
    para = bundled_store.select(f"SELECT ?t WHERE {{ <{art}/para/3> <{FULL}> ?t }}")[0]["t"].value
    assert "clearing-house mechanism" in para
    n = bundled_store.select(f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p <http://data.europa.eu/eli/ontology#is_part_of> <{art}> }}")
    assert n[0]["n"].value == "5"
    assert validate_store(bundled_store).conforms


def _example_from_fields(shared_data, code: str) -> dict:
    """A record assembled from the example values of a schema's field table."""
    fields = json.loads((shared_data / "chm-schemas" / "chm_record_schema_fields.json").read_text())["schemas"][code]["fields"]
    doc = {}
    for f in fields:
        if f.get("example") and "." not in f["field"]:
            try:
                doc[f["field"]] = json.loads(f["example"]) if f["type"] != "lstring" or f["example"].startswith("{") else f["example"]
            except (json.JSONDecodeError, TypeError):
                doc[f["field"]] = f["example"]
    return doc


def test_chm_records_of_the_four_example_schemas(bundled_store, shared_data, tmp_path):
    org = tmp_path / "organization.json"
    org.write_text(json.dumps(_example_from_fields(shared_data, "org")))
    res = tmp_path / "resource.json"
    res.write_text(json.dumps(_example_from_fields(shared_data, "vlr")))
    files = [shared_data / "chm-schemas" / "example_record_event.json",
             shared_data / "chm-schemas" / "example_record_nationalTarget.json", org, res]
    result = ingest(bundled_store, read_chm_records(files, BASE), graph("chm-records"), META)
    assert result.status == "loaded"
    rows = bundled_store.select("SELECT ?r ?schema WHERE { ?r a <https://w3id.org/chmkg/ns#Record> ; <https://w3id.org/chmkg/ns#recordSchema> ?schema }")
    assert sorted(r["schema"].value for r in rows) == ["event", "nationalTarget", "organization", "resource"]
    event = f"{BASE}record/cd515765-fe80-2eb6-585b-7c4ad78986e8"
    subjects = {r["s"].value for r in bundled_store.select(f"SELECT ?s WHERE {{ <{event}> <http://purl.org/dc/terms/subject> ?s }}")}
    assert f"{BASE}scheme/aichi-targets/target-13" in subjects
    assert any("cbd-subjects" in s for s in subjects)
    resource_targets = bundled_store.select(
        f"SELECT ?r WHERE {{ ?r <http://purl.org/dc/terms/subject> <{BASE}scheme/gbf-targets/target-17> }}")
    assert resource_targets
    assert validate_store(bundled_store).conforms


def test_records_pointing_at_targets_that_do_not_exist_are_refused(store, shared_data):
    before = snapshot(store)  # an empty store: the targets the event points to are not there
    with pytest.raises(Exception, match="fails the shapes"):
        ingest(store, read_chm_records([shared_data / "chm-schemas" / "example_record_event.json"], BASE), graph("chm"), META)
    assert snapshot(store) == before
