"""``chmkg serve``: build the store when it is empty, then serve the hub with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from hub.cli.common import err, guard, settings_of
from hub.cli.data import build
from hub.settings import SETTINGS_ENV, open_configured_store, settings_json

APP_FACTORY = "hub.web.app:create_app_from_environment"
# uvicorn's httptools protocol with the SPARQL fast path at the transport (named, not imported: the CLI never imports the web app)
HTTP_PROTOCOL = "hub.web.lean:LeanHttp"

commands = typer.Typer()

@commands.command()
def serve(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    build_if_missing: Annotated[bool, typer.Option(help="Build the store first when it is empty.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request (off by default: it costs throughput).")] = False,
    workers: Annotated[Optional[int], typer.Option(
        help="Reader processes on the public port beside one writer process (embedded store); 0: one per core; "
             "1: one process does all. Default: the `workers` setting.")] = None,
) -> None:
    """Serve the hub (HTTP) over the configured store."""
    import uvicorn

    s = settings_of(ctx)
    n = s.workers if workers is None else workers
    if n <= 0:
        n = os.cpu_count() or 1
    if n > 1 and s.remote_query_url:
        err.print("--workers runs reader processes over an embedded store; over a remote store run one hub per "
                  "process instead (docs/deploy.md). Serving with one process.")
        n = 1
    if build_if_missing:
        def needs_build() -> bool:
            store = open_configured_store(s)
            try:
                return not store.named_graphs()
            finally:
                store.close()

        if guard(needs_build):
            err.print("the store is empty: building it from the bundled data first")
            build(ctx, force=False, shared=None)
    if n > 1:
        serve_with_readers(s, n, host or s.host, port or s.port, access_log)
        return
    # the web app is imported by uvicorn, not by the CLI: the settings travel in the environment
    os.environ[SETTINGS_ENV] = settings_json(s)
    uvicorn.run(APP_FACTORY, factory=True, host=host or s.host, port=port or s.port, log_level="info", access_log=access_log,
                http=HTTP_PROTOCOL)


def serve_with_readers(s, n: int, host: str, port: int, access_log: bool) -> None:
    """One writer process on an internal port of 127.0.0.1 (it holds the store open for writing, tags
    and harvests), then ``n`` reader processes on the public port (uvicorn's workers) that answer
    reads over a read-only view and pass everything else to the writer."""
    import socket
    import subprocess
    import sys
    import time
    from dataclasses import replace

    import httpx
    import uvicorn

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        internal = sock.getsockname()[1]
    writer_settings = replace(s, role="writer", rate_limit=0.0, host="127.0.0.1", port=internal, workers=1)
    env = {**os.environ, SETTINGS_ENV: settings_json(writer_settings)}
    writer = subprocess.Popen([sys.executable, "-m", "uvicorn", APP_FACTORY, "--factory", "--host", "127.0.0.1",
                               "--port", str(internal), "--log-level", "warning", "--no-access-log"], env=env)
    try:
        deadline = time.monotonic() + s.warm_up_seconds + 300
        while True:  # bounded: the writer answers, exits, or the deadline passes
            if writer.poll() is not None:
                err.print(f"the writer process ended (exit {writer.returncode}); nothing is served")
                raise typer.Exit(1)
            try:
                if httpx.get(f"http://127.0.0.1:{internal}/healthz", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                err.print("the writer process did not start in time; nothing is served")
                raise typer.Exit(1)
            time.sleep(0.2)
        os.environ[SETTINGS_ENV] = settings_json(replace(s, role="reader", writer_url=f"http://127.0.0.1:{internal}", workers=n))
        err.print(f"serving with {n} reader processes and one writer (internal port {internal})")
        uvicorn.run(APP_FACTORY, factory=True, host=host, port=port, workers=n, log_level="info", access_log=access_log,
                    http=HTTP_PROTOCOL)
    finally:
        writer.terminate()
        try:
            writer.wait(timeout=30)
        except subprocess.TimeoutExpired:
            writer.kill()
            writer.wait()
