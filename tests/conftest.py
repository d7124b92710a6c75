"""Shared fixtures: real stores (embedded on disk, and a real `oxigraph serve` for remote mode)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

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


@pytest.fixture
def remote_store(oxigraph_server):
    s = RemoteStore(oxigraph_server + "/query", oxigraph_server + "/update")
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
    overrides.setdefault("rate_limit", 0)  # test clients are one address sending many requests; tests/test_protect.py turns it on
    settings = Settings(base=base, store_path=str(tmp / "store"), shared_data=str(SHARED / "data"),
                        tokens_file=str(tmp / "tokens.json"), dumps_dir=str(tmp / "dumps"), **extra, **overrides)
    if mode == "remote":
        wipe = RemoteStore(remote_url + "/query", remote_url + "/update")
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
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:  # bounded wait for uvicorn
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return LiveHub(base.rstrip("/"), app, editor, reader, admin), stop


MODES = ["embedded", pytest.param("remote", marks=pytest.mark.remote)]


@pytest.fixture(params=MODES)
def live_hub(request, tmp_path):
    remote = request.getfixturevalue("oxigraph_server") if request.param == "remote" else None
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
    """Tests over a heavy fixture are `slow`: the quick run (`-m "not slow"`) leaves them out."""
    for item in items:
        if HEAVY_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)
