"""Faults: the hub killed (SIGKILL) in the middle of SPARQL updates, of a load and of editor
publications; a remote store that goes away and comes back; several hub processes over one store.
Every server here is a real process on 127.0.0.1; every wait is bounded."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from conftest import BASE, META, _free_port, start_live_hub

from sparql.store import EmbeddedStore

BIN = Path(sys.executable).parent
CHMKG = str(BIN / "chmkg")
OXIGRAPH = str(BIN / "oxigraph")
ENV = {**os.environ, "CHMKG_RATE_LIMIT": "0", "CHMKG_BASE": BASE}
pytestmark = pytest.mark.slow


def _wait(url: str, proc: subprocess.Popen | None = None, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:  # bounded
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or (proc is not None and proc.poll() is not None):
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.1)


def _token(args: list[str], role: str = "editor") -> str:
    out = subprocess.run([CHMKG, *args, "token", "create", f"t{time.monotonic_ns()}", "--role", role],
                         env=ENV, check=True, capture_output=True, text=True)
    return out.stdout.strip()


def _serve(args: list[str], port: int, extra_env: dict | None = None) -> subprocess.Popen:
    proc = subprocess.Popen([CHMKG, *args, "serve", "--port", str(port), "--no-build-if-missing"],
                            env={**ENV, **(extra_env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/healthz", proc)
    return proc


def _insert(i: int, n: int = 50) -> str:
    body = " ".join(f"<{BASE}fault/{i}/{k}> <{BASE}fault/p> {k} ." for k in range(n))
    return f"INSERT DATA {{ GRAPH <{BASE}graph/fault-{i}> {{ {body} }} }}"


def test_sigkill_during_sparql_updates_keeps_every_acknowledged_write_and_no_partial_one(tmp_path):
    store = tmp_path / "store"
    args = ["--store", str(store)]
    token = _token(args)
    port = _free_port()
    proc = _serve(args, port)
    acked: list[int] = []
    stop = threading.Event()

    def writer():
        with httpx.Client(timeout=10) as c:
            for i in range(100_000):
                if stop.is_set():
                    return
                try:
                    r = c.post(f"http://127.0.0.1:{port}/sparql", data={"update": _insert(i)}, headers={"Authorization": f"Bearer {token}"})
                except httpx.HTTPError:
                    return
                if r.status_code == 200:
                    acked.append(i)

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    deadline = time.monotonic() + 300  # bounded, and generous: a busy machine acknowledges slowly
    while len(acked) < 10 and time.monotonic() < deadline:  # let some writes land
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    t.join(timeout=15)
    assert len(acked) >= 10
    s = EmbeddedStore(store)  # the store opens after the crash
    try:
        s.recover(META)
        counts = {r["g"].value: int(r["n"].value) for r in s.select(
            "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER STRSTARTS(STR(?g), \"" + BASE + "graph/fault-\") } GROUP BY ?g",
            union=False)}
    finally:
        s.close()
    for i in acked:
        assert counts.get(f"{BASE}graph/fault-{i}") == 50, f"acknowledged write {i} lost"
    assert set(counts.values()) == {50}, "a partial write is in the store"


def test_sigkill_during_a_load_leaves_the_graph_absent_or_complete(tmp_path):
    store = tmp_path / "store"
    big = tmp_path / "big.nt"
    with open(big, "w", encoding="utf-8") as f:
        f.writelines(f"<{BASE}big/{k}> <{BASE}big/p> \"value {k}\" .\n" for k in range(300_000))
    args = ["--store", str(store)]
    subprocess.run([CHMKG, *args, "load", str(big), "--graph", "before"], env=ENV, check=True, capture_output=True)
    proc = subprocess.Popen([CHMKG, *args, "load", str(big), "--graph", "big"], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)  # the load takes several seconds: this kills it in the middle
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    s = EmbeddedStore(store)
    try:
        s.recover(META)
        n_big = s.count(BASE + "graph/big")
        assert s.count(BASE + "graph/before") == 300_000  # the completed load is there
        assert n_big in (0, 300_000), f"a partial load: {n_big} triples"
        meta_says = s.select(f"SELECT ?n WHERE {{ GRAPH <{META}> {{ <{BASE}graph/big> <https://w3id.org/chmkg/ns#tripleCount> ?n }} }}", union=False)
        assert (int(meta_says[0]["n"].value) if meta_says else 0) == n_big  # provenance agrees with the data
    finally:
        s.close()


def test_sigkill_during_editor_publications(tmp_path):
    from test_editing import TTL, V

    store = tmp_path / "store"
    args = ["--store", str(store)]
    vocab = tmp_path / "vocab.ttl"
    vocab.write_text(TTL, encoding="utf-8")
    subprocess.run([CHMKG, *args, "load", str(vocab), "--graph", "thesaurus-test"], env=ENV, check=True, capture_output=True)
    editor, publisher = _token(args, "editor"), _token(args, "publisher")
    port = _free_port()
    proc = _serve(args, port)
    url = f"http://127.0.0.1:{port}"
    published: list[str] = []
    stop = threading.Event()

    def edit():
        with httpx.Client(timeout=10) as c:
            for i in range(10_000):
                if stop.is_set():
                    return
                try:
                    v = c.get(url + "/api/thesaurus/concept", params={"iri": V + "wetland"}).json()["version"]
                    r = c.post(url + "/api/thesaurus/changes", json={"concept": V + "wetland", "base_version": v, "alt": {"en": [f"name {i}"]}},
                               headers={"Authorization": f"Bearer {editor}"})
                    p = c.post(url + "/api/thesaurus/changes/publish", json={"change": r.json()["change"]}, headers={"Authorization": f"Bearer {publisher}"})
                except (httpx.HTTPError, ValueError, KeyError):
                    return
                if p.status_code == 200:
                    published.append(f"name {i}")

    t = threading.Thread(target=edit, daemon=True)
    t.start()
    deadline = time.monotonic() + 60
    while len(published) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    stop.set()
    t.join(timeout=15)
    assert len(published) >= 5
    s = EmbeddedStore(store)
    try:
        alts = [r["l"].value for r in s.select(f"SELECT ?l WHERE {{ <{V}wetland> <http://www.w3.org/2004/02/skos/core#altLabel> ?l }}")]
        versions = s.select(f"SELECT (COUNT(?c) AS ?n) WHERE {{ ?c <https://w3id.org/chmkg/ns#changedConcept> <{V}wetland> ; "
                            f"<https://w3id.org/chmkg/ns#changeStatus> \"published\" }}")
    finally:
        s.close()
    n = int(versions[0]["n"].value)
    assert n in (len(published), len(published) + 1)  # the last one may have committed before its answer was sent
    assert len(alts) == 1 and alts[0] == (published[-1] if n == len(published) else alts[0])  # data and history agree


def _oxigraph(location: Path, port: int) -> subprocess.Popen:
    if not Path(OXIGRAPH).exists():
        pytest.skip("the `oxigraph` server binary is not installed (pip install oxigraph)")
    proc = subprocess.Popen([OXIGRAPH, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc, 30)
    return proc


@pytest.mark.remote
def test_a_remote_store_that_goes_away_and_comes_back(tmp_path):
    port = _free_port()
    location = tmp_path / "ox"
    ox_proc = _oxigraph(location, port)
    remote = f"http://127.0.0.1:{port}"
    live, stop = start_live_hub(tmp_path / "hub", "remote", remote)
    try:
        q = {"query": f"ASK {{ <{live.url}/decision/cop/10/15> ?p ?o }}"}
        assert httpx.get(live.url + "/sparql", params=q, headers={"Accept": "application/sparql-results+json"}).json()["boolean"]
        ox_proc.terminate()
        ox_proc.wait(timeout=10)
        down = httpx.get(live.url + "/sparql", params={"query": "ASK { ?s ?p 42 }"}, headers={"Accept": "application/sparql-results+json"})
        assert down.status_code == 503 and down.json()["code"] == "E301" and "Retry-After" in down.headers
        page = httpx.get(live.url + "/decision/cop/11/2.html")
        assert page.status_code == 503
        ox_proc = _oxigraph(location, port)  # back, same data
        deadline = time.monotonic() + 20
        while True:  # bounded: the hub reconnects on its own
            r = httpx.get(live.url + "/sparql", params={"query": "ASK { ?s ?p 43 }"}, headers={"Accept": "application/sparql-results+json"})
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 200
        assert httpx.get(live.url + "/decision/cop/11/2.html").status_code == 200
    finally:
        stop()
        ox_proc.terminate()
        ox_proc.wait(timeout=10)


@pytest.mark.remote
def test_two_hub_processes_over_one_store_see_each_others_writes(tmp_path):
    port = _free_port()
    ox_proc = _oxigraph(tmp_path / "ox", port)
    remote = f"http://127.0.0.1:{port}"
    args = ["--remote-query", remote + "/query", "--remote-update", remote + "/update"]
    env = {"CHMKG_TOKENS_FILE": str(tmp_path / "tokens.json"), "CHMKG_STORE_PATH": str(tmp_path / "var" / "store")}
    ENV.update(env)
    try:
        token = _token(args)
        pa, pb = _free_port(), _free_port()
        a, b = _serve(args, pa), _serve(args, pb)
        try:
            ask = {"query": f"ASK {{ <{BASE}shared/s> ?p ?o }}"}
            accept = {"Accept": "application/sparql-results+json"}
            assert httpx.get(f"http://127.0.0.1:{pb}/sparql", params=ask, headers=accept).json()["boolean"] is False  # now cached in B
            r = httpx.post(f"http://127.0.0.1:{pa}/sparql", headers={"Authorization": f"Bearer {token}"},
                           data={"update": f"INSERT DATA {{ GRAPH <{BASE}graph/shared> {{ <{BASE}shared/s> <{BASE}shared/p> 1 }} }}"})
            assert r.status_code == 200, r.text
            t0 = time.monotonic()
            while True:  # bounded: B sees A's write within its sync interval (1 s over a remote store)
                seen = httpx.get(f"http://127.0.0.1:{pb}/sparql", params=ask, headers=accept).json()["boolean"]
                if seen or time.monotonic() - t0 > 120:
                    break
                time.sleep(0.1)
            assert seen  # how soon is the sync interval's business (bench, docs), not a test's
        finally:
            for p in (a, b):
                p.terminate()
                p.wait(timeout=10)
    finally:
        for k in env:
            ENV.pop(k, None)
        ox_proc.terminate()
        ox_proc.wait(timeout=10)


def test_a_full_disk_during_a_load_gives_a_clear_error_and_loses_nothing(tmp_path):
    """The file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) makes the store's writes fail the way a
    full disk does: the write system call refuses; no root or special filesystem needed."""
    import resource

    store = tmp_path / "store"
    big = tmp_path / "big.nt"
    p = ox.NamedNode(BASE + "full/p")
    triples = (ox.Triple(ox.NamedNode(f"{BASE}full/{k}"), p, ox.Literal(f"value {k} with padding to make the file bigger"))
               for k in range(60_000))
    big.write_bytes(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b"")
    args = ["--store", str(store)]
    subprocess.run([CHMKG, *args, "load", str(big), "--graph", "first"], env=ENV, check=True, capture_output=True)

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1_200_000, 1_200_000))

    r = subprocess.run([CHMKG, *args, "load", str(big), "--graph", "second"], env=ENV, capture_output=True, text=True, preexec_fn=limit)
    assert r.returncode == 1 and r.stderr.startswith("Error [E301]") and "File too large" in r.stderr and "Traceback" not in r.stderr
    s = EmbeddedStore(store)
    try:
        s.recover(META)
        assert s.count(BASE + "graph/first") == 60_000 and s.count(BASE + "graph/second") in (0, 60_000)
    finally:
        s.close()


def test_a_slow_derived_value_follows_writes_and_a_very_slow_one_is_served_stale_meanwhile(tmp_path, monkeypatch):
    import hub.service as service
    from hub.service import Hub
    from hub.settings import Settings

    monkeypatch.setattr(service, "STALE_AFTER", -1.0)  # every build counts as slow: rebuilt in the background
    hub = Hub(Settings(base=BASE, store_path=str(tmp_path / "store")), EmbeddedStore(tmp_path / "store"))
    release = threading.Event()
    builds: list[int] = []

    def compute() -> int:
        builds.append(hub.generation)
        if len(builds) == 3:  # the third build hangs until released
            release.wait(30)
        return hub.generation

    assert hub.derived("k", compute, stale_ok=True) == 0
    hub.write(lambda: None)
    assert hub.derived("k", compute, stale_ok=True) == 1  # a rebuild that ends within the wait is served
    monkeypatch.setattr(service, "STALE_WAIT", 0.05)
    hub.write(lambda: None)
    assert hub.derived("k", compute, stale_ok=True) == 1  # still building: the previous value, not a stall
    assert hub.derived("k", compute, stale_ok=True) == 1 and len(builds) == 3  # one rebuild at a time
    release.set()
    for _ in range(300):  # bounded: the background build lands
        if hub._derived["k"][0] == 2:
            break
        time.sleep(0.01)
    assert hub.derived("k", compute, stale_ok=True) == 2 and len(builds) == 3
