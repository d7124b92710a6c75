"""Regressions from the structure-and-safety review (issue 12): the query's own dataset, the three
500s, the bounded Graph Store default-graph read. Each failed before its fix."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pyoxigraph as ox
import pytest
from conftest import MODES, start_live_hub, server_for
from hostile import INJECTED, hostile_iris, hostile_strings

from tagging.references import extract_references

NOTES = """@prefix ex: <http://example.org/> .
ex:a ex:p "in g1" ."""
OTHER = """@prefix ex: <http://example.org/> .
ex:b ex:p "in g2" ."""
G1, G2 = "http://example.org/g1", "http://example.org/g2"


@pytest.fixture(params=MODES, scope="module")
def two_graph_hub(request, tmp_path_factory):
    remote = server_for(request, request.param)
    live, stop = start_live_hub(tmp_path_factory.mktemp("dataset"), request.param, remote, load_bundled=False, row_cap=1)
    for g, body in ((G1, NOTES), (G2, OTHER)):
        r = httpx.put(live.url + "/gsp", params={"graph": g}, content=body, headers={"content-type": "text/turtle", **live.auth()})
        assert r.status_code in (201, 204), r.text
    yield live
    stop()


def _rows(live, query, **params):
    r = httpx.post(live.url + "/sparql", params=params, content=query, auth=None,
                   headers={"content-type": "application/sparql-query", "accept": "application/sparql-results+json", **live.auth()})
    assert r.status_code == 200, r.text
    return r.json()["results"]["bindings"]


def test_the_querys_from_reads_only_that_graph(two_graph_hub):
    rows = _rows(two_graph_hub, "SELECT ?o FROM <" + G1 + "> WHERE { ?s ?p ?o }")
    assert [r["o"]["value"] for r in rows] == ["in g1"]


def test_from_named_alone_gives_an_empty_default_graph(two_graph_hub):
    assert _rows(two_graph_hub, "SELECT * FROM NAMED <" + G1 + "> WHERE { ?s ?p ?o }") == []
    named = _rows(two_graph_hub, "SELECT ?g ?o FROM NAMED <" + G1 + "> WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert [(r["g"]["value"], r["o"]["value"]) for r in named] == [(G1, "in g1")]


def test_construct_where_with_from(two_graph_hub):
    r = httpx.post(two_graph_hub.url + "/sparql", content="CONSTRUCT FROM <" + G2 + "> WHERE { ?s ?p ?o }",
                   headers={"content-type": "application/sparql-query", "accept": "application/n-triples", **two_graph_hub.auth()})
    assert r.status_code == 200 and r.text.strip().count("\n") == 0 and '"in g2"' in r.text


def test_default_graph_uri_alone_leaves_no_named_graphs(two_graph_hub):
    assert _rows(two_graph_hub, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{"default-graph-uri": G1}) == []
    rows = _rows(two_graph_hub, "SELECT ?o WHERE { ?s ?p ?o }", **{"default-graph-uri": G1})
    assert [r["o"]["value"] for r in rows] == ["in g1"]


def test_the_request_dataset_wins_over_the_querys(two_graph_hub):
    rows = _rows(two_graph_hub, "SELECT ?o FROM <" + G1 + "> WHERE { ?s ?p ?o }", **{"default-graph-uri": G2})
    assert [r["o"]["value"] for r in rows] == ["in g2"]


def test_a_query_without_a_dataset_still_sees_the_union(two_graph_hub):
    rows = _rows(two_graph_hub, "SELECT ?o WHERE { ?s <http://example.org/p> ?o } ORDER BY ?o")
    assert [r["o"]["value"] for r in rows] == ["in g1", "in g2"]


def test_graph_store_default_graph_read_is_capped_for_anonymous_callers(two_graph_hub):
    anonymous = httpx.get(two_graph_hub.url + "/gsp", params={"default": ""}, headers={"accept": "application/n-triples"})
    assert anonymous.status_code == 200
    assert anonymous.headers["x-result-truncated"] == "true" and anonymous.headers["x-row-cap"] == "1"
    assert len([line for line in anonymous.text.splitlines() if line.strip()]) == 1
    assert "/dumps" in anonymous.headers["link"]
    full = httpx.get(two_graph_hub.url + "/gsp", params={"default": ""}, headers={"accept": "application/n-triples", **two_graph_hub.auth()})
    assert "x-result-truncated" not in full.headers
    assert '"in g1"' in full.text and '"in g2"' in full.text


@pytest.mark.parametrize("accept", ["application/trig", "application/n-quads", "application/n-quads, application/trig;q=0.5"])
def test_quad_formats_on_a_minted_iri_are_406_not_500(two_graph_hub, accept):
    r = httpx.put(two_graph_hub.url + "/gsp", params={"graph": two_graph_hub.settings.base + "graph/x"},
                  content="<" + two_graph_hub.settings.base + 'thing/1> <http://example.org/p> "x" .',
                  headers={"content-type": "application/n-triples", **two_graph_hub.auth()})
    assert r.status_code in (201, 204), r.text
    r = httpx.get(two_graph_hub.url + "/thing/1", headers={"accept": accept})
    assert r.status_code == 406 and "text/turtle" in r.text
    assert httpx.get(two_graph_hub.url + "/thing/1", headers={"accept": "text/turtle"}).status_code == 303


def test_a_json_array_to_publish_is_a_clear_400(two_graph_hub):
    r = httpx.post(two_graph_hub.url + "/api/thesaurus/changes/publish", json=["http://example.org/change/1"], headers=two_graph_hub.auth())
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert "JSON object" in r.json()["detail"]


def test_a_bad_roman_meeting_number_is_kept_as_text_not_an_error():
    refs = extract_references("As SBSTTA recommendation IIII/2 and decision X/2 say.")
    assert [r.key for r in refs if r.kind == "decision"] == ["COP-10/2"] or any(r.kind == "decision" for r in refs)
    bad = [r for r in refs if r.kind == "recommendation"]
    assert bad and bad[0].key == "recommendation IIII/2" and not bad[0].parts


def test_the_tag_api_takes_a_document_with_a_bad_roman_numeral(two_graph_hub):
    r = httpx.post(two_graph_hub.url + "/api/tag", files={"file": ("r.txt", b"SBSTTA recommendation IIII/2 on protected areas.", "text/plain")})
    assert r.status_code == 200, r.text


def _zip(entries: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize("entries, words", [
    ({"word/document.xml": b"<w:document/>", "word/media/bomb.bin": b"\0" * 20_000_000}, "ZIP bomb"),
    ({"word/document.xml": b"<w:document/>", **{f"word/x{i}.xml": b"x" for i in range(1_200)}}, "entries"),
])
def test_docx_archives_are_bounded_before_they_are_unpacked(two_graph_hub, entries, words):
    bomb = _zip(entries)
    assert len(bomb) < 1_000_000
    r = httpx.post(two_graph_hub.url + "/api/tag", files={"file": ("bomb.docx", bomb, DOCX)}, timeout=60)
    assert r.status_code == 413 and words in r.json()["detail"], r.text


def test_uploads_are_measured_while_they_stream(tmp_path):
    """No Content-Length (chunked): the hub stops reading at its limit and answers 413."""
    live, stop = start_live_hub(tmp_path, "embedded", load_bundled=False, max_document_bytes=100_000)
    try:
        def chunks(content_type_boundary: bytes | None):
            if content_type_boundary:
                yield b"--" + content_type_boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
                yield b"Content-Type: text/plain\r\n\r\n"
            for _ in range(200):  # 200 × 10 kB = 2 MB, twenty times the limit
                yield b"biodiversity " * 800
        raw = httpx.post(live.url + "/api/tag", content=chunks(None), headers={"content-type": "text/plain"}, timeout=60)
        assert raw.status_code == 413, raw.text
        form = httpx.post(live.url + "/api/tag", content=chunks(b"XyZ"), timeout=60,
                          headers={"content-type": "multipart/form-data; boundary=XyZ"})
        assert form.status_code == 413 and "100,000" in form.json()["detail"], form.text
    finally:
        stop()


# -- hostile values through every route that reaches a query ---------------------------------------

def _hostile_requests(base: str) -> list[tuple[str, str, dict]]:
    """(method, path, params) for each route and parameter a value reaches a query through."""
    concept = "http://www.informea.org/terms/biodiversity"
    out: list[tuple[str, str, dict]] = []
    for h in hostile_iris(base + "decision/cop/10/15") + hostile_strings():
        out += [
            ("GET", "/resource", {"iri": h}),
            ("GET", "/decisions", {"meeting": h, "status": h, "subject": h, "sort": h, "order": h, "page": h}),
            ("GET", "/records", {"type": h, "country": h, "subject": h}),
            ("GET", "/search", {"q": h, "format": "json"}),
            ("GET", "/thesaurus/informea", {"letter": h, "parent": h}),
            ("GET", "/thesaurus/" + quote(h, safe=""), {}),
            ("GET", "/api/thesaurus/history", {"concept": h, "format": "json"}),
            ("GET", "/api/thesaurus/changes", {"concept": h, "status": h}),
            ("GET", "/api/thesaurus/concept", {"concept": h}),
            ("GET", "/api/queries/lineage-up", {"decision": h}),
            ("GET", "/api/queries/decisions-by-article", {"article": h}),
            ("GET", "/gsp", {"graph": h}),
            ("GET", "/sparql", {"query": "ASK {}", "default-graph-uri": h}),
            ("GET", "/sparql", {"query": "ASK {}", "named-graph-uri": h}),
            ("GET", "/rest/v1/search", {"query": h, "lang": h, "vocab": h}),
            ("GET", "/rest/v1/informea/data", {"uri": h}),
            ("GET", "/rest/v1/informea/label", {"uri": h, "lang": h}),
            ("GET", "/rest/v1/informea/broader", {"uri": h}),
            ("GET", "/rest/v1/informea/narrowerTransitive", {"uri": h}),
            ("GET", "/rest/v1/informea/children", {"uri": h}),
            ("GET", "/rest/v1/informea/hierarchy", {"uri": h}),
            ("GET", "/rest/v1/informea/lookup", {"label": h, "lang": h}),
            ("GET", "/rest/v1/data", {"uri": h}),
            ("GET", "/rest/v1/" + quote(h, safe="") + "/topConcepts", {}),
            ("GET", "/decision/" + quote(h, safe="/"), {}),
            ("POST", "/api/review", {"action": "add", "record": h, "concept": concept}),
            ("POST", "/api/review", {"action": "reject", "record": h}),
            ("POST", "/api/review", {"action": "accept", "suggestions": [h]}),
            ("POST", "/api/review", {"actions": [{"action": "accept", "suggestion": h}]}),
            ("POST", "/v1/projects/" + quote(h, safe="") + "/suggest", {"text": h}),
            ("POST", "/v1/projects/chm-en/suggest-batch", {"documents": [{"text": h, "document_id": h}]}),
            ("POST", "/api/thesaurus/changes/publish", {"change": h}),
            ("POST", "/api/thesaurus/changes/revert", {"change": h}),
        ]
    return out


def test_hostile_values_reach_no_query_and_change_nothing(tmp_path):
    """Every value above goes in bound or through the typed builder: the answers are 2xx/3xx or a
    clear 4xx — never a 500 — and the store is exactly as it was."""
    from conftest import snapshot

    live, stop = start_live_hub(tmp_path, "embedded")
    try:
        before = snapshot(live.hub.store)
        editor = live.auth()
        with httpx.Client(base_url=live.url, timeout=60, follow_redirects=False) as c:
            for method, path, params in _hostile_requests(live.settings.base):
                if method == "GET":
                    r = c.get(path, params=params, headers={"accept": "application/json"})
                else:
                    r = c.post(path, json=params, headers=editor)
                assert r.status_code < 500, (method, path, params, r.status_code, r.text[:300])
        assert snapshot(live.hub.store) == before
        assert not live.hub.store.ask("ASK { ?s ?p ?o }", {"s": ox.NamedNode(INJECTED)})
    finally:
        stop()
