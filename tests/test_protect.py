"""Hostile input and security defaults: headers, rate limits, XSS, CSRF on every form, traversal,
expired and forged credentials, no default accounts, the audit log, backup and restore."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import BASE, META, graph, snapshot
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from hub.accounts import COOKIE
from hub.web.app import create_app
from hub.cli import app as cli
from hub.settings import Settings
from loaders.bundled import read_bundled
from writes.ingest import ParsedSource, checksum, ingest
from sparql.builder import fill
from sparql.store import EmbeddedStore

XSS = "<script>alert('x')</script>"


def _app(tmp_path, **overrides):
    settings = Settings(base=BASE, store_path=str(tmp_path / "store"), shared_data=str(tmp_path / "none"), **{"rate_limit": 0, **overrides})
    app = create_app(settings)
    hub = app.state.hub
    ingest(hub.store, read_bundled(BASE), graph("bundled"), META)
    nt = (f'<{BASE}record/evil> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <https://w3id.org/chmkg/ns#Record> .\n'
          f'<{BASE}record/evil> <http://purl.org/dc/terms/title> "{XSS} title"@en .\n'
          f'<{BASE}record/evil> <http://purl.org/dc/terms/language> "en" .\n'
          f'<{BASE}record/evil> <http://www.w3.org/2004/02/skos/core#prefLabel> "{XSS} label"@en .\n').encode()
    ingest(hub.store, ParsedSource("evil", "test", "inline", checksum(nt), nt, "hostile labels"), graph("evil"), META)
    return app


@pytest.fixture
def client(tmp_path):
    with TestClient(_app(tmp_path)) as c:
        c.hub = c.app.state.hub
        yield c


def _login(c, name, role, password="a good long password"):
    c.hub.accounts.create(name, role, password)
    r = c.post("/login", data={"name": name, "password": password, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
    return c


def test_security_headers_everywhere(client):
    for path in ("/", "/decision/cop/10/15.html", "/sparql?query=ASK%7B%7D", "/api/queries", "/login", "/about/security"):
        r = client.get(path)
        assert "script-src 'self'" in r.headers["content-security-policy"] and "'unsafe-inline'" not in r.headers["content-security-policy"].split("script-src")[1].split(";")[0]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"
    assert "Argon2id" in client.get("/about/security").text


def test_no_default_accounts(client):
    for name, password in (("admin", "admin"), ("admin", "password"), ("root", "root")):
        r = client.post("/login", data={"name": name, "password": password}, follow_redirects=False)
        assert r.status_code == 401 and COOKIE not in r.headers.get("set-cookie", "")
    assert client.hub.accounts.list() == []


def test_labels_search_terms_and_documents_are_escaped(client):
    page = client.get("/record/evil.html").text
    assert XSS not in page and "&lt;script&gt;" in page
    search = client.get("/search", params={"q": XSS + " decision"}).text
    assert XSS not in search
    _login(client, "sam", "reader")
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/submit").text).group(1)
    r = client.post("/submit", data={"csrf": csrf, "language": "en"},
                    files={"file": ("x.html", f"<html><head><title>{XSS}</title></head><body><p>Parties and protected areas.</p></body></html>".encode(), "text/html")})
    assert XSS not in r.text


def test_every_form_refuses_a_missing_or_forged_csrf_token(client):
    _login(client, "pia", "admin")
    before = snapshot(client.hub.store)
    forms = {"/submit": {"language": "en"}, "/review": {"action": "accept", "suggestion": BASE + "x"},
             "/thesaurus-edit": {"concept": "http://example.org/c", "base_version": "0"},
             "/thesaurus-changes": {"action": "publish", "change": BASE + "change/x"}, "/logout": {}}
    for path, data in forms.items():
        for token in (None, "forged"):
            payload = dict(data, **({"csrf": token} if token else {}))
            r = client.post(path, data=payload, files={"file": ("a.txt", b"Parties.", "text/plain")} if path == "/submit" else None,
                            follow_redirects=True)
            assert "CSRF" in r.text, (path, token, r.status_code)
    assert snapshot(client.hub.store) == before
    assert client.get("/submit").text.count("Log out") == 1  # the forged logout did not log out


def test_traversal_in_paths_and_file_names(client):
    for path in ("/dumps/..%2F..%2Fetc%2Fpasswd", "/dumps/../../etc/passwd", "/static/..%2F..%2Fhub%2Fsettings.py",
                 "/thesaurus-export/..%2F..%2Fmeta.csv"):
        r = client.get(path)
        assert r.status_code in (400, 404) and "root:" not in r.text and "Settings" not in r.text


def test_expired_forged_and_wrong_role_credentials(client):
    hub = client.hub
    secret = hub.tokens.create("old", "editor")
    data = json.loads(hub.settings.tokens_path.read_text())
    data["old"]["expires"] = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    hub.settings.tokens_path.write_text(json.dumps(data))
    update = {"update": f"INSERT DATA {{ GRAPH <{BASE}graph/x> {{ <{BASE}a> <{BASE}b> <{BASE}c> }} }}"}
    r = client.post("/sparql", data=update, headers={"Authorization": f"Bearer {secret}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    assert client.post("/sparql", data=update, headers={"Authorization": "Bearer chmkg_forged"}).status_code == 401
    reader = hub.tokens.create("r", "reader")
    assert client.post("/sparql", data=update, headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.post("/api/thesaurus/changes", json={"concept": "http://x.org/a", "base_version": 0},
                       headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    assert client.post("/admin/backup", headers={"Authorization": f"Bearer {reader}"}).status_code == 403
    # a forged session cookie is no session
    client.cookies.set(COOKIE, "eyJ1IjoiYWRtaW4ifQ.forged.sig")
    assert client.get("/review", follow_redirects=False).status_code == 303


def test_session_ends_when_the_password_changes(client):
    _login(client, "lea", "editor")
    assert client.get("/review").status_code == 200
    client.hub.accounts.set_password("lea", "another long password")
    assert client.get("/review", follow_redirects=False).status_code == 303  # back to the login page


def test_rate_limit_per_client_does_not_starve_others(tmp_path):
    # one token per 100 s: no token comes back while the test runs, however busy the machine
    with TestClient(_app(tmp_path, rate_limit=0.01, rate_burst=10)) as c:
        flood = c.app.state.hub.tokens.create("flood", "reader")
        codes = [c.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {flood}"}).status_code for _ in range(30)]
        assert codes == [200] * 10 + [429] * 20, codes
        limited = c.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {flood}"})
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        other = c.app.state.hub.tokens.create("calm", "reader")
        assert c.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {other}"}).status_code == 200
        assert c.get("/healthz").status_code == 200


def test_signed_in_users_see_themselves_on_every_page_and_pages_are_not_shared(client):
    pages = ["/", "/decisions", "/decision/cop/15/16.html", "/thesaurus", "/search?q=biodiversity"]
    anonymous = {p: client.get(p) for p in pages}  # rendered (and cached) for anonymous callers first
    for p, r in anonymous.items():
        assert r.status_code == 200 and "editor-anna" not in r.text, p
    _login(client, "editor-anna", "editor")
    for p in pages:
        r = client.get(p)
        assert r.status_code == 200, p
        assert "editor-anna" in r.text and 'action="/logout"' in r.text, p
        csrf = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert csrf and len(csrf.group(1)) > 20, p
    client.cookies.clear()
    assert "editor-anna" not in client.get("/decision/cop/15/16.html").text


def test_the_fast_path_and_the_app_take_one_token_per_request_from_one_bucket(tmp_path):
    """GET /sparql lookups are answered in front of the app's middleware (CachedQueries); they take
    their token from the same bucket as the rate limiter, and a request the fast path hands on is not
    counted twice."""
    lookup = {"query": str(fill("SELECT ?p ?o WHERE { $s ?p ?o }", s=ox.NamedNode(BASE + "decision/cop/15/16")))}
    with TestClient(_app(tmp_path, rate_limit=0.01, rate_burst=4)) as c:  # no token comes back during the test
        first, cached = c.get("/sparql", params=lookup), c.get("/sparql", params=lookup)
        assert first.status_code == cached.status_code == 200 and cached.headers.get("x-cache") == "hit"
        # two that the fast path hands on to the route (not a lookup): one token each, not two
        assert [c.get("/sparql", params={"query": "ASK {}"}).status_code for _ in range(2)] == [200, 200]
        limited = c.get("/sparql", params=lookup)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        assert limited.headers["x-frame-options"] == "DENY" and "script-src 'self'" in limited.headers["content-security-policy"]
        assert c.get("/sparql", params={"query": "ASK {}"}).status_code == 429
        # with an Origin the request passes the fast path untouched: the limiter still knows the client
        assert c.get("/sparql", params=lookup, headers={"origin": "https://partner.example"}).status_code == 429


def test_random_bearer_tokens_do_not_escape_the_limit(tmp_path):
    """The limiter keys on a verified identity; an unverified Authorization header counts as its address."""
    import secrets

    with TestClient(_app(tmp_path, rate_limit=0.01, rate_burst=10)) as c:
        codes = [c.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {secrets.token_hex(16)}"}).status_code
                 for _ in range(30)]
        assert codes == [401] * 10 + [429] * 20, codes  # refused as unknown, then refused as too many
        # the same address without a header is in the same (empty) bucket
        assert c.get("/sparql", params={"query": "ASK {}"}).status_code == 429
        # a verified token has a bucket of its own
        calm = c.app.state.hub.tokens.create("calm", "reader")
        assert c.get("/sparql", params={"query": "ASK {}"}, headers={"Authorization": f"Bearer {calm}"}).status_code == 200


def test_every_write_is_in_the_audit_log(client):
    token = client.hub.tokens.create("w", "editor")
    client.post("/sparql", data={"update": f"INSERT DATA {{ GRAPH <{BASE}graph/x> {{ <{BASE}a> <{BASE}b> \"c\" }} }}"},
                headers={"Authorization": f"Bearer {token}"})
    client.put("/gsp", params={"graph": BASE + "graph/y"}, content=b"<http://a.org/s> <http://a.org/p> <http://a.org/o> .",
               headers={"Authorization": f"Bearer {token}", "Content-Type": "application/n-triples"})
    client.post("/sparql", data={"update": "INSERT DATA { <http://a.org/s> <http://a.org/p> 1 }"}, headers={"Authorization": f"Bearer {token}"})
    lines = [json.loads(line) for line in client.hub.settings.audit_path.read_text().splitlines()]
    assert [(x["who"], x["outcome"]) for x in lines[-3:]] == [("w", "done"), ("w", "done"), ("w", "refused")]
    assert "SPARQL update" in lines[-3]["what"] and "GSP PUT" in lines[-2]["what"] and lines[-1]["detail"] == "E203"
    # a refused update with a syntax error is a write attempt too, and a write without a valid token
    bad = client.post("/sparql", data={"update": "INSERT DATA { GRAPH <http://a.org/g> { <http://a.org/s> "},
                      headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code == 400
    nobody = client.post("/sparql", data={"update": "DROP ALL"}, headers={"Authorization": "Bearer not-a-token"})
    assert nobody.status_code == 401
    lines = [json.loads(line) for line in client.hub.settings.audit_path.read_text().splitlines()]
    assert (lines[-2]["who"], lines[-2]["outcome"], lines[-2]["detail"]) == ("w", "refused", "E302")
    assert (lines[-1]["who"], lines[-1]["outcome"]) == ("-", "refused") and lines[-1]["detail"] == "E501"


def test_backup_and_restore_give_the_same_triples(tmp_path):
    app = _app(tmp_path / "a")
    with TestClient(app) as c:
        admin = c.app.state.hub.tokens.create("root", "admin")
        r = c.post("/admin/backup", headers={"Authorization": f"Bearer {admin}"})
        assert r.status_code == 201
        folder, manifest = r.json()["folder"], r.json()
        original = snapshot(c.app.state.hub.store)
    assert manifest["quads"] == len(original.splitlines()) and manifest["graphs"]
    runner = CliRunner()
    fresh = tmp_path / "b" / "store"
    r = runner.invoke(cli, ["--store", str(fresh), "restore", folder])
    assert r.exit_code == 0, r.output
    s = EmbeddedStore(fresh)
    try:
        assert snapshot(s) == original
    finally:
        s.close()
    # restoring over data needs --force; a damaged archive is refused and nothing changes
    assert runner.invoke(cli, ["--store", str(fresh), "restore", folder]).exit_code == 1
    archive = tmp_path / "damaged"
    import shutil

    shutil.copytree(folder, archive)
    data = bytearray((archive / "dataset.nq.gz").read_bytes())
    data[-10] ^= 0xFF
    (archive / "dataset.nq.gz").write_bytes(bytes(data))
    r = runner.invoke(cli, ["--store", str(fresh), "restore", str(archive), "--force"])
    assert r.exit_code == 1 and "SHA-256" in r.output
    s = EmbeddedStore(fresh)
    try:
        assert snapshot(s) == original
    finally:
        s.close()
    # the CLI backup of a stopped store, restored again
    r = runner.invoke(cli, ["--store", str(fresh), "backup", str(tmp_path / "cli-backup")])
    assert r.exit_code == 0 and "sha256" in r.output
    manifest2 = json.loads((tmp_path / "cli-backup" / "manifest.json").read_text())
    assert manifest2["graphs"] == manifest["graphs"]


def test_a_store_in_use_or_read_only_gives_a_clear_error(tmp_path):
    runner = CliRunner()
    s = EmbeddedStore(tmp_path / "busy" / "store")
    try:
        r = runner.invoke(cli, ["--store", str(tmp_path / "busy" / "store"), "stats"])
        assert r.exit_code == 1 and "in use by another process" in r.output
    finally:
        s.close()
    # a read-only store directory: a read-only bind mount in a private mount namespace (works as root),
    # else a directory without write permission
    import os
    import shutil
    import subprocess
    import sys

    ro = tmp_path / "ro" / "store"
    EmbeddedStore(ro).close()
    chmkg = str(Path(sys.executable).parent / "chmkg")
    if os.geteuid() == 0:
        if not shutil.which("unshare") or subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode:
            pytest.skip("running as root without user namespaces: cannot make a read-only directory")
        r = subprocess.run(["unshare", "-rm", "sh", "-c", f'mount --bind "{ro}" "{ro}" && mount -o remount,bind,ro "{ro}" && '
                            f'"{chmkg}" --store "{ro}" stats'], capture_output=True, text=True)
        assert r.returncode == 1 and r.stderr.startswith("Error [E301]") and "Read-only file system" in r.stderr, r.stderr
    else:
        ro.chmod(0o500)
        try:
            r = runner.invoke(cli, ["--store", str(ro), "stats"])
            assert r.exit_code == 1 and "Error [E301]" in r.output and "ermission denied" in r.output
        finally:
            ro.chmod(0o700)
