"""Shared fixtures: real stores (embedded on disk, and a real `oxigraph serve` and Virtuoso for remote mode)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.cli.serve import HTTP_PROTOCOL
from hub.settings import Settings
from loaders.bundled import read_bundled
from writes.ingest import ingest
from sparql.store import EmbeddedStore, RemoteStore

BASE = "http://127.0.0.1:8000/"
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
META = BASE + "graph/meta"


def graph(name: str) -> str:
    return BASE + "graph/" + name


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(base=BASE, store_path=str(tmp_path / "store"), shared_data=str(SHARED / "data"), rate_limit=0)


@pytest.fixture
def store(tmp_path: Path):
    s = EmbeddedStore(tmp_path / "store")
    yield s
    s.close()


@pytest.fixture
def bundled_store(store):
    ingest(store, read_bundled(BASE), graph("bundled"), META)
    return store


@pytest.fixture
def shared_data() -> Path:
    data = SHARED / "data"
    if not data.is_dir():
        pytest.skip(f"../shared/data not found at {data}: reference-data tests need it")
    return data


def snapshot(store) -> bytes:
    """The store's whole content, canonically ordered, to compare before and after."""
    data = store.dump(None, ox.RdfFormat.N_QUADS)
    return b"\n".join(sorted(line for line in data.split(b"\n") if line.strip()))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory):
    """A real `oxigraph serve` on 127.0.0.1 (the `oxigraph` package from PyPI)."""
    exe = shutil.which("oxigraph") or str(Path(sys.executable).parent / "oxigraph")
    if not Path(exe).exists():
        pytest.skip("the `oxigraph` server binary is not installed (pip install oxigraph)")
    port = _free_port()
    location = tmp_path_factory.mktemp("oxigraph")
    proc = subprocess.Popen(
        [exe, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:  # bounded wait for the server to answer
        try:
            httpx.get(url + "/query", params={"query": "ASK {}"}, timeout=1)
            break
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("oxigraph serve did not start") from None
            time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


VIRTUOSO_USER = ("dba", "dba")  # a fresh database's administrator


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory):
    from sparql.virtuoso import virtuoso_ini

    """A real Virtuoso Open Source 7 (Debian's virtuoso-opensource-7-bin) on 127.0.0.1, on a fresh
    database; its /sparql endpoint's base URL."""
    exe = shutil.which("virtuoso-t")
    if exe is None:
        pytest.skip("Virtuoso is not installed (Debian's virtuoso-opensource-7-bin; scripts/engines installs it)")
    folder = tmp_path_factory.mktemp("virtuoso")
    http, sql = _free_port(), _free_port()
    (folder / "virtuoso.ini").write_text(virtuoso_ini(folder, http, sql))
    proc = subprocess.Popen([exe, "+foreground", "+configfile", str(folder / "virtuoso.ini")], cwd=folder,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{http}"
    deadline = time.monotonic() + 60
    while True:  # bounded wait: a fresh database takes a few seconds to create
        try:
            if httpx.post(url + "/sparql", data={"query": "ASK {}"}, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError("virtuoso-t did not start: " + (folder / "virtuoso.log").read_text()[-2000:])
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


def open_remote(engine: str, url: str, meta: str | None = META):
    """The hub's store over a test server: `oxigraph serve` or Virtuoso."""
    from sparql.virtuoso import VirtuosoStore

    if engine == "virtuoso":
        return VirtuosoStore(url + "/sparql", user=VIRTUOSO_USER[0], password=VIRTUOSO_USER[1], meta_graph=meta)
    return RemoteStore(url + "/query", url + "/update")


ENGINES = ["oxigraph", pytest.param("virtuoso", marks=pytest.mark.virtuoso)]


@pytest.fixture(params=ENGINES)
def remote_store(request):
    url = request.getfixturevalue("virtuoso_server" if request.param == "virtuoso" else "oxigraph_server")
    s = open_remote(request.param, url)
    s.update("DROP SILENT ALL")
    yield s
    s.close()


# -- a live hub (uvicorn on 127.0.0.1) over the embedded store or a real `oxigraph serve` ------------

class LiveHub:
    def __init__(self, url: str, app, editor: str, reader: str, admin: str = "") -> None:
        self.url, self.app, self.editor, self.reader, self.admin = url, app, editor, reader, admin
        self.hub = app.state.hub
        self.settings = app.state.settings

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.editor}"}


def start_live_hub(tmp: Path, mode: str, remote_url: str | None = None, load_bundled: bool = True, **overrides):
    """Serve a fresh hub with uvicorn in a thread; returns (LiveHub, stop)."""
    import threading

    import uvicorn

    from hub.web.app import create_app

    port = _free_port()
    base = f"http://127.0.0.1:{port}/"
    extra = {"remote_query_url": remote_url + "/query", "remote_update_url": remote_url + "/update"} if mode == "remote" else {}
    if mode == "virtuoso":
        extra = {"remote_query_url": remote_url + "/sparql", "remote_engine": "virtuoso",
                 "remote_user": VIRTUOSO_USER[0], "remote_password": VIRTUOSO_USER[1]}
    overrides.setdefault("rate_limit", 0)  # test clients are one address sending many requests; tests/test_protect.py turns it on
    settings = Settings(base=base, store_path=str(tmp / "store"), shared_data=str(SHARED / "data"),
                        tokens_file=str(tmp / "tokens.json"), dumps_dir=str(tmp / "dumps"), **extra, **overrides)
    if mode in ("remote", "virtuoso"):
        wipe = open_remote("oxigraph" if mode == "remote" else mode, remote_url, meta=None)  # every graph
        wipe.update("DROP SILENT ALL")
        wipe.close()
    app = create_app(settings)
    if load_bundled:  # as `chmkg build` leaves it: the bundled dataset and the statuses derived from it
        from hub.build import read_ontology
        from hub.tracking import refresh

        ingest(app.state.hub.store, read_ontology(), settings.graph("ontology"), settings.meta_graph)
        ingest(app.state.hub.store, read_bundled(base), settings.graph("bundled"), settings.meta_graph)
        refresh(app.state.hub.store, settings)
    editor = app.state.hub.tokens.create("test-editor", "editor")
    reader = app.state.hub.tokens.create("test-reader", "reader")
    admin = app.state.hub.tokens.create("test-admin", "admin")  # emptying the whole store (DROP ALL) is the admin's
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", http=HTTP_PROTOCOL))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # bounded wait for uvicorn
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=30)
        if mode in ("remote", "virtuoso"):
            # the lifespan's shutdown closes the store's HTTP client; close it here too (it may be
            # cut short), so no pooled connection is left for the garbage collector to find later
            app.state.hub.store.close()

    return LiveHub(base.rstrip("/"), app, editor, reader, admin), stop


@contextlib.contextmanager
def hub_serving(tmp: Path, mode: str, remote_url: str | None = None, **overrides):
    """A live hub for the ``with`` block (start_live_hub, stopped after)."""
    live, stop = start_live_hub(tmp, mode, remote_url, **overrides)
    try:
        yield live
    finally:
        stop()


MODES = ["embedded", pytest.param("remote", marks=pytest.mark.remote),
         pytest.param("virtuoso", marks=[pytest.mark.remote, pytest.mark.virtuoso])]
SERVERS = {"remote": "oxigraph_server", "virtuoso": "virtuoso_server"}


def server_for(request, mode: str) -> str | None:
    """The test server a mode runs against (None: embedded)."""
    return request.getfixturevalue(SERVERS[mode]) if mode in SERVERS else None


@pytest.fixture(params=MODES)
def live_hub(request, tmp_path):
    remote = server_for(request, request.param)
    live, stop = start_live_hub(tmp_path, request.param, remote)
    yield live
    stop()


HEAVY_FIXTURES = {"kg", "built", "built_once", "w3c_hub"}  # real vocabularies or a full build: tens of seconds


@pytest.fixture(autouse=True)
def _default_switch_interval():
    """create_app shortens the GIL switch interval for serving; a test after it gets the default back,
    so CPU-bound tests do not pay for threads an earlier test left idling."""
    yield
    sys.setswitchinterval(0.005)


def pytest_collection_modifyitems(config, items):
    """Tests over a heavy fixture are `slow`: the quick run (`-m "not slow"`) leaves them out. The
    page tests run over Virtuoso only where marked `on_virtuoso` (one of each page kind; the others
    take the same store calls, and a Virtuoso hub costs seconds to start): the rest are deselected."""
    keep, dropped = [], []
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
        callspec = getattr(item, "callspec", None)
        if (item.path.name == "test_pages.py" and callspec is not None and callspec.params.get("live_hub") == "virtuoso"
                and item.get_closest_marker("on_virtuoso") is None):
            dropped.append(item)
        else:
            keep.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
