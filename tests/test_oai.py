"""OAI-PMH at /oai, harvested with a real client (sickle) from a live hub: every verb, both metadata
formats, sets, resumption over thousands of records (stable across a write), and the protocol's
errors for bad arguments."""

from __future__ import annotations

import re

import httpx
import pytest
from conftest import start_live_hub
from hostile import hostile_strings
from lxml import etree

from writes.ingest import ParsedSource, checksum, ingest

sickle = pytest.importorskip("sickle")
RECORDS = 2500
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def records_nt(base: str, n: int, start: int = 0) -> bytes:
    import pyoxigraph as ox

    lines = []
    chm, dct, skos = "https://w3id.org/chmkg/ns#", "http://purl.org/dc/terms/", "http://www.w3.org/2004/02/skos/core#"
    for i in range(start, start + n):
        r = ox.NamedNode(f"{base}record/oai-test/{i:05d}")
        for p, o in ((ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(chm + "Record")),
                     (ox.NamedNode(dct + "title"), ox.Literal(f"Capacity-building record {i}", language="en")),
                     (ox.NamedNode(skos + "prefLabel"), ox.Literal(f"Capacity-building record {i}", language="en")),
                     (ox.NamedNode(dct + "language"), ox.Literal("en")),
                     (ox.NamedNode(dct + "identifier"), ox.Literal(f"OAI-TEST-{i}")),
                     (ox.NamedNode(chm + "country"), ox.NamedNode(f"{base}country/{'fr' if i % 2 else 'br'}"))):
            lines.append(f"{r} {p} {o} .")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    hub, stop = start_live_hub(tmp_path_factory.mktemp("oai"), "embedded")
    h = hub.hub
    nt = records_nt(h.settings.base, RECORDS)
    h.write(lambda: ingest(h.store, ParsedSource("oai-test", "test", "inline", checksum(nt), nt, "OAI test records"),
                           h.settings.graph("oai-test"), h.settings.meta_graph), "test", "load OAI test records")
    yield hub
    stop()


def client(live):
    return sickle.Sickle(live.url + "/oai", max_retries=0, timeout=60)


def oai_error(live, **params) -> str:
    r = httpx.get(live.url + "/oai", params=params, timeout=60)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    tree = etree.fromstring(r.content)
    errors = tree.findall(f"{OAI}error")
    return errors[0].get("code") if errors else ""


def test_identify_formats_and_sets(live):
    c = client(live)
    ident = c.Identify()
    assert ident.protocolVersion == "2.0" and ident.baseURL == live.url + "/oai" and ident.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", ident.earliestDatestamp)
    assert {f.metadataPrefix for f in c.ListMetadataFormats()} == {"oai_dc", "rdf"}
    sets = {s.setSpec: s.setName for s in c.ListSets()}
    assert {"class:decision", "class:meeting", "class:record", "meeting:cop-15", "country:fr"} <= set(sets)


def test_get_record_in_dublin_core_and_rdf(live):
    c = client(live)
    host = "127.0.0.1"
    rec = c.GetRecord(identifier=f"oai:{host}:decision/cop/15/16", metadataPrefix="oai_dc")
    md = rec.metadata
    assert any("clearing-house" in t.lower() for t in md["title"]) and "15/16" in md["identifier"]
    assert "decision" in md["type"] and "class:decision" in rec.header.setSpecs and "meeting:cop-15" in rec.header.setSpecs
    raw = c.GetRecord(identifier=f"oai:{host}:decision/cop/15/16", metadataPrefix="rdf").raw
    tree = etree.fromstring(raw.encode())
    about = tree.find(".//{http://www.w3.org/1999/02/22-rdf-syntax-ns#}Description")
    assert about is not None and about.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about").endswith("/decision/cop/15/16")


def test_list_records_resumes_over_thousands_and_filters_by_set_and_date(live):
    c = client(live)
    ids = [h.identifier for h in c.ListIdentifiers(metadataPrefix="oai_dc", set="class:record")]
    assert len(ids) == len(set(ids)) >= RECORDS  # every record once, over 25+ pages of 100
    records = list(c.ListRecords(metadataPrefix="oai_dc", set="country:fr"))
    assert len(records) == RECORDS // 2 and all("country:fr" in r.header.setSpecs for r in records)
    everything = [h.identifier for h in c.ListIdentifiers(metadataPrefix="oai_dc")]
    assert len(everything) == len(set(everything)) > RECORDS + 400
    first = httpx.get(live.url + "/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "class:record"}).content
    token = etree.fromstring(first).find(f".//{OAI}resumptionToken")
    assert token.get("completeListSize") == str(len(ids)) and token.get("cursor") == "0"
    assert oai_error(live, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2999-01-01"}) == "noRecordsMatch"
    assert [h.identifier for h in c.ListIdentifiers(metadataPrefix="oai_dc", set="class:record", **{"from": "2000-01-01"})] == ids


def test_a_harvest_resumed_after_a_write_neither_repeats_nor_skips(live):
    c = client(live)
    r = httpx.get(live.url + "/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "class:record"})
    page1 = [e.text for e in etree.fromstring(r.content).iter(f"{OAI}identifier")]
    token = etree.fromstring(r.content).find(f".//{OAI}resumptionToken").text
    hub = live.app.state.hub
    nt = records_nt(hub.settings.base, 5, start=90_000)  # a write between two pages: new records, a new generation
    hub.write(lambda: ingest(hub.store, ParsedSource("oai-more", "test", "inline", checksum(nt), nt, "more"),
                             hub.settings.graph("oai-more"), hub.settings.meta_graph), "test", "more records")
    rest = [h.identifier for h in c.ListIdentifiers(resumptionToken=token)] if token else []
    assert not set(page1) & set(rest)
    everything = set(page1) | set(rest)
    assert all(f"record/oai-test/{i:05d}" in " ".join(everything) for i in (0, 1234, RECORDS - 1))


@pytest.mark.parametrize("params, code", [
    ({}, "badVerb"),
    ({"verb": "Explode"}, "badVerb"),
    ({"verb": "ListRecords"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "marc21"}, "cannotDisseminateFormat"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:127.0.0.1:nothing/here"}, "idDoesNotExist"),
    ({"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "urn:other:1"}, "idDoesNotExist"),
    ({"verb": "ListRecords", "resumptionToken": "not-a-token"}, "badResumptionToken"),
    ({"verb": "ListRecords", "resumptionToken": "eyJwIjoib2FpX2RjIn0", "metadataPrefix": "oai_dc"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2020-01-01", "until": "2020-01-01T00:00:00Z"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2021-01-01", "until": "2020-01-01"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "yesterday"}, "badArgument"),
    ({"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "class:unicorn"}, "badArgument"),
    ({"verb": "Identify", "extra": "1"}, "badArgument"),
])
def test_bad_arguments_get_the_protocols_error_codes(live, params, code):
    assert oai_error(live, **params) == code


def test_repeated_arguments_and_post(live):
    r = httpx.get(live.url + "/oai?verb=Identify&verb=Identify")
    assert etree.fromstring(r.content).find(f"{OAI}error").get("code") == "badVerb"
    r = httpx.get(live.url + "/oai?verb=ListSets&resumptionToken=a&resumptionToken=b")
    assert etree.fromstring(r.content).find(f"{OAI}error").get("code") == "badArgument"
    r = httpx.post(live.url + "/oai", data={"verb": "Identify"})
    assert etree.fromstring(r.content).find(f"{OAI}Identify") is not None


@pytest.mark.parametrize("value", hostile_strings())
def test_hostile_values_are_protocol_errors_and_change_nothing(live, value):
    from conftest import snapshot

    store = live.app.state.hub.store
    before = snapshot(store)
    for params in ({"verb": value}, {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "oai:127.0.0.1:" + value},
                   {"verb": "ListRecords", "metadataPrefix": value}, {"verb": "ListRecords", "resumptionToken": value},
                   {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": value, "from": value}):
        r = httpx.get(live.url + "/oai", params=params)
        tree = etree.fromstring(r.content)  # well-formed whatever was sent
        assert r.status_code == 200 and tree.find(f"{OAI}error") is not None
    assert snapshot(store) == before
