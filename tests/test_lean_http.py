"""The SPARQL fast path at the transport (hub/web/lean.py): uvicorn's httptools protocol answering a
plain read on GET /sparql as its headers arrive, against a live hub served as `chmkg serve` serves it.

What it answers is what the app answers; what it does not answer goes on to the app whole, counted
once by the rate limiter, in order on a pipelined connection.
"""

from __future__ import annotations

import socket
import time

import httpx
import pyoxigraph as ox
import pytest

from conftest import start_live_hub
from hub.web.lean import LeanHttp
from sparql.builder import fill

ACCEPT = {"accept": "application/sparql-results+json"}
SECURITY = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy",
            "cross-origin-opener-policy", "permissions-policy")


@pytest.fixture
def lean_hub(tmp_path):
    live, stop = start_live_hub(tmp_path, "embedded", row_cap=3)
    yield live
    stop()


# lookups whose answers say which one they are (by the variable's name)
LOOKUPS = {"p": "SELECT ?p ?o WHERE { $s ?p ?o }",
           "first": "SELECT ?first ?o WHERE { $s ?first ?o }",
           "third": "SELECT ?third ?o WHERE { $s ?third ?o }"}
JOINS = ["SELECT ?d WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?e . ?e ?p ?o } LIMIT 1",
         "SELECT ?d WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?e . ?e ?p ?o } LIMIT 2",
         "SELECT ?d WHERE { ?d <http://data.europa.eu/eli/ontology#cites> ?e . ?e ?p ?o } LIMIT 3"]


def _lookup(live, symbol: str = "15/16", var: str = "p") -> str:
    return str(fill(LOOKUPS[var], s=ox.NamedNode(live.settings.base + "decision/cop/" + symbol)))


def _raw(live, payload: bytes, responses: int) -> list[bytes]:
    """Send raw bytes on one connection; the responses (status line, headers and body), read by their lengths."""
    port = int(live.url.rsplit(":", 1)[1])
    out: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        deadline = time.monotonic() + 20
        while len(out) < responses:  # bounded by the deadline and the socket's timeout
            assert time.monotonic() < deadline, f"only {len(out)} of {responses} responses came"
            head_end = data.find(b"\r\n\r\n")
            if head_end >= 0:
                head = data[:head_end].decode("latin-1")
                length = next(int(line.split(":", 1)[1]) for line in head.split("\r\n") if line.lower().startswith("content-length:"))
                if len(data) >= head_end + 4 + length:
                    out.append(data[:head_end + 4 + length])
                    data = data[head_end + 4 + length:]
                    continue
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return out


def test_a_lookup_is_answered_at_the_transport_with_the_apps_answer(lean_hub):
    """The same lookup, once answered at the transport and once by the app (a proxy header sends it
    the whole way): same status, body and headers (the cap's, the security headers). The next one is
    the cached answer, still at the transport."""
    url, query = lean_hub.url + "/sparql", _lookup(lean_hub)
    with httpx.Client() as client:  # one kept-alive connection
        before = LeanHttp.answered
        lean = client.get(url, params={"query": query}, headers=ACCEPT)
        assert LeanHttp.answered == before + 1, "the lookup was not answered at the transport"
        lean_hub.app.state.hub.cache.clear()
        whole = client.get(url, params={"query": query}, headers={**ACCEPT, "x-forwarded-for": "127.0.0.1"})
        assert LeanHttp.answered == before + 1, "a request with a proxy header was answered at the transport"
        assert lean.status_code == whole.status_code == 200
        assert lean.content == whole.content and len(lean.json()["results"]["bindings"]) == 3
        for h in ("content-type", "content-length", "vary", "x-result-truncated", "x-row-cap", "link", "server", *SECURITY):
            assert lean.headers.get(h) == whole.headers.get(h), h
        hit = client.get(url, params={"query": query}, headers=ACCEPT)
        assert LeanHttp.answered == before + 2
        assert hit.headers["x-cache"] == "hit" and hit.content == lean.content


def test_pipelined_requests_are_answered_in_order(lean_hub):
    """Three requests in one write: a lookup (answered at the transport), a page of the app, and a
    lookup behind it (queued by uvicorn, not jumped ahead): three answers, in the order asked."""
    path = str(httpx.URL(lean_hub.url + "/sparql", params={"query": _lookup(lean_hub, "15/16", "first")}).raw_path.decode())
    other = str(httpx.URL(lean_hub.url + "/sparql", params={"query": _lookup(lean_hub, "15/16", "third")}).raw_path.decode())
    request = "GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n\r\n"
    payload = (request.format(path) + request.format("/healthz") + request.format(other)).encode()
    answers = _raw(lean_hub, payload, 3)
    assert len(answers) == 3
    assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
    assert b'"vars":["first","o"]' in answers[0]
    assert b"sparql-results" not in answers[1] and b"application/json" in answers[1]  # /healthz's own answer
    assert b'"vars":["third","o"]' in answers[2]


def test_a_connection_that_closes_is_left_to_uvicorn(lean_hub):
    """HTTP/1.0 and Connection: close: uvicorn answers (and closes), with the same body."""
    target = str(httpx.URL(lean_hub.url + "/sparql", params={"query": _lookup(lean_hub)}).raw_path.decode())
    before = LeanHttp.answered
    for head in ("GET {} HTTP/1.0\r\nAccept: application/sparql-results+json\r\n\r\n",
                 "GET {} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAccept: application/sparql-results+json\r\n\r\n"):
        (answer,) = _raw(lean_hub, head.format(target).encode(), 1)
        assert answer.startswith((b"HTTP/1.1 200", b"HTTP/1.0 200")) and b"connection: close" in answer.lower()
        assert b'"bindings"' in answer
    assert LeanHttp.answered == before


@pytest.mark.parametrize("query", [
    "SELECT ?p WHERE { <http://x/a> ?p ",  # a syntax error
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o } ; DROP ALL",  # an update behind a query
    "SELECT ?p ?o WHERE { <http://x/a> ?p ?o } # \x00 \r\n HTTP/1.1",  # control characters and a fake request line
])
def test_hostile_queries_reach_the_route_and_change_nothing(lean_hub, query):
    from conftest import snapshot

    store = lean_hub.app.state.hub.store
    before, answered = snapshot(store), LeanHttp.answered
    r = httpx.get(lean_hub.url + "/sparql", params={"query": query}, headers=ACCEPT)
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["detail"]
        assert LeanHttp.answered == answered, "an error was answered at the transport"
    assert snapshot(store) == before


def test_a_fault_at_the_transport_loses_no_request(lean_hub):
    """If the fast path fails while the transport asks it, the request goes on to the app and is answered."""
    fast = lean_hub.app.fast
    planned = fast.now

    def broken(*args, **kwargs):
        raise RuntimeError("a fault in the fast path")

    fast.now = broken
    try:
        r = httpx.get(lean_hub.url + "/sparql", params={"query": _lookup(lean_hub)}, headers=ACCEPT)
    finally:
        fast.now = planned
    assert r.status_code == 200 and len(r.json()["results"]["bindings"]) == 3


def test_a_request_passed_on_is_counted_once_by_the_rate_limiter(tmp_path):
    """Burst 2, no refill during the test: two joins (each passed on from the transport to the query
    workers) are served, the third gets 429 with Retry-After — the transport and the fast path behind
    it take one token per request between them."""
    live, stop = start_live_hub(tmp_path, "embedded", rate_limit=0.001, rate_burst=2)
    try:
        with httpx.Client() as client:
            codes = [client.get(live.url + "/sparql", params={"query": q}, headers=ACCEPT) for q in JOINS]
        assert [r.status_code for r in codes] == [200, 200, 429], [r.text for r in codes]
        assert int(codes[2].headers["retry-after"]) >= 1 and codes[2].headers["x-content-type-options"] == "nosniff"
    finally:
        stop()


def test_a_reader_follows_the_writers_generation_through_the_mapped_file(tmp_path):
    """The writer publishes its mark as it starts and rewrites it in place before it acknowledges a
    write; a reader over the same store (its own read-only view) maps the file once and sees each
    move at its next look — and a file it cannot map (a short one, as an older writer left) is read."""
    from hub.service import GENERATION_BYTES, Hub
    from hub.settings import Settings
    from sparql.store import EmbeddedStore, ReadOnlyStore

    common = {"store_path": str(tmp_path / "store"), "shared_data": str(tmp_path / "none"), "rate_limit": 0}
    writer_settings = Settings(role="writer", **common)
    writer = Hub(writer_settings, EmbeddedStore(writer_settings.store_path))
    try:
        reader = Hub(Settings(role="reader", **common), ReadOnlyStore(writer_settings.store_path))
        try:
            assert writer_settings.generation_path.stat().st_size == GENERATION_BYTES
            assert reader.follow_writer() is True  # the first look: the view is opened to the present
            assert reader.follow_writer() is False
            insert = str(fill("INSERT DATA { GRAPH $g { $s $p $o } }", g=ox.NamedNode("http://example.org/g"),
                              s=ox.NamedNode("http://example.org/s"), p=ox.NamedNode("http://example.org/p"), o=ox.Literal("1")))
            writer.write(lambda: writer.store.update(insert), who="test", what="a write")
            assert reader.follow_writer() is True and reader.generation == 2
            assert list(reader.store.quads_touching(["http://example.org/s"]))  # the reopened view sees it
            assert reader.follow_writer() is False
        finally:
            reader.close()
        # a short file (no map possible): read on each look, moves still seen
        writer_settings.generation_path.write_bytes(b"old-writer:1")
        late = Hub(Settings(role="reader", **common), ReadOnlyStore(writer_settings.store_path))
        try:
            assert late.follow_writer() is True and late.follow_writer() is False
            writer_settings.generation_path.write_bytes(b"old-writer:2")
            assert late.follow_writer() is True
        finally:
            late.close()
    finally:
        writer.close()
