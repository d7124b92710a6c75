"""Three hub processes over one `oxigraph serve`, with writes that conflict under the shapes.

Process A takes concepts out of the vocabulary (removes ``a skos:Concept``); processes B and C make
them the subject of a record (the shapes want a record's subject to be a skos:Concept). Each write
is valid against the store it was validated on; committed blindly, an interleaving leaves a record
whose subject is no concept. With the write-stamp guard (writes/commit.py) every commit happens
against the state it was validated on, so the store conforms after any interleaving."""

from __future__ import annotations

import subprocess
import threading

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE, _free_port
from test_faults import CHMKG, ENV, _oxigraph, _serve, _token

from sparql.builder import fill

pytestmark = [pytest.mark.slow, pytest.mark.remote]

N = 24
SCHEME = BASE + "scheme/conflicts"
RECORD = BASE + "record/conflicts"


def _concept(i: int) -> str:
    return f"{BASE}concept/conflict-{i}"


def _setup_turtle() -> tuple[str, str]:
    skos = "http://www.w3.org/2004/02/skos/core#"
    concepts = ["<" + SCHEME + "> a <" + skos + 'ConceptScheme> ; <' + skos + 'prefLabel> "conflicts"@en .']
    for i in range(N):
        concepts.append("<" + _concept(i) + "> a <" + skos + "Concept> ; <" + skos + 'prefLabel> "concept %d"@en ; <' % i
                        + skos + "inScheme> <" + SCHEME + "> .")
    record = ("<" + RECORD + "> a <https://w3id.org/chmkg/ns#Record> ; "
              '<http://purl.org/dc/terms/title> "a record"@en ; <http://purl.org/dc/terms/language> "en" .')
    return "\n".join(concepts), record


def test_three_processes_with_conflicting_writes_leave_a_conforming_store(tmp_path):
    port = _free_port()
    ox_proc = _oxigraph(tmp_path / "ox", port)
    remote = f"http://127.0.0.1:{port}"
    args = ["--remote-query", remote + "/query", "--remote-update", remote + "/update"]
    env = {"CHMKG_TOKENS_FILE": str(tmp_path / "tokens.json"), "CHMKG_STORE_PATH": str(tmp_path / "var" / "store"),
           "CHMKG_AUDIT_FILE": str(tmp_path / "audit.log")}
    ENV.update(env)
    hubs: list[subprocess.Popen] = []
    try:
        token = _token(args)
        auth = {"Authorization": f"Bearer {token}"}
        ports = [_free_port() for _ in range(3)]
        hubs = [_serve(args, p) for p in ports]
        concepts, record = _setup_turtle()
        for name, body in (("conflict-concepts", concepts), ("conflict-records", record)):
            r = httpx.put(f"http://127.0.0.1:{ports[0]}/gsp", params={"graph": BASE + "graph/" + name}, content=body,
                          headers={"content-type": "text/turtle", **auth}, timeout=120)
            assert r.status_code == 201, r.text
        outcomes: dict[str, list[int]] = {"remove": [], "link": []}
        barrier = threading.Barrier(3)

        skos = "http://www.w3.org/2004/02/skos/core#"
        remove_one = "DELETE DATA { GRAPH <" + BASE + "graph/conflict-concepts> { $c a <" + skos + "Concept> } }"
        link_one = "INSERT DATA { GRAPH <" + BASE + "graph/conflict-records> { <" + RECORD + "> <http://purl.org/dc/terms/subject> $c } }"

        def remove(port: int) -> None:
            barrier.wait(timeout=60)
            with httpx.Client(timeout=120) as c:
                for i in range(N):
                    u = fill(remove_one, c=ox.NamedNode(_concept(i)))
                    outcomes["remove"].append(c.post(f"http://127.0.0.1:{port}/sparql", data={"update": u}, headers=auth).status_code)

        def link(port: int, order: range) -> None:
            barrier.wait(timeout=60)
            with httpx.Client(timeout=120) as c:
                for i in order:
                    u = fill(link_one, c=ox.NamedNode(_concept(i)))
                    outcomes["link"].append(c.post(f"http://127.0.0.1:{port}/sparql", data={"update": u}, headers=auth).status_code)

        threads = [threading.Thread(target=remove, args=(ports[0],)),
                   threading.Thread(target=link, args=(ports[1], range(N))),
                   threading.Thread(target=link, args=(ports[2], range(N - 1, -1, -1)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        assert not any(t.is_alive() for t in threads)
        # every answer is a commit or a refusal that names the conflict with the shapes (or a busy store)
        assert set(outcomes["remove"]) | set(outcomes["link"]) <= {200, 409, 422}, outcomes
        # which side wins each race depends on timing; every request was answered either way
        assert len(outcomes["remove"]) == N and len(outcomes["link"]) == 2 * N
        # the whole store conforms to the shapes
        check = subprocess.run([CHMKG, *args, "validate", "--json"], env=ENV, capture_output=True, text=True, timeout=600)
        assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-2000:]
        # and directly: no subject of the record lost its concept
        q = ("SELECT ?c WHERE { <" + RECORD + "> <http://purl.org/dc/terms/subject> ?c "
             "FILTER NOT EXISTS { ?c a <http://www.w3.org/2004/02/skos/core#Concept> } }")
        dangling = httpx.get(remote + "/query", params={"query": q, "union-default-graph": ""},
                             headers={"accept": "application/sparql-results+json"}).json()["results"]["bindings"]
        assert dangling == []
    finally:
        for k in env:
            ENV.pop(k, None)
        for p in hubs:
            p.terminate()
            p.wait(timeout=10)
        ox_proc.terminate()
        ox_proc.wait(timeout=10)
