"""``chmkg serve``: build the store when it is empty, then serve the hub with uvicorn."""

from __future__ import annotations

import os
from typing import Annotated, Optional

import typer

from hub.cli.common import err, guard, settings_of
from hub.cli.data import build
from hub.settings import SETTINGS_ENV, open_configured_store, settings_json

APP_FACTORY = "hub.web.app:create_app_from_environment"

commands = typer.Typer()

@commands.command()
def serve(
    ctx: typer.Context,
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    build_if_missing: Annotated[bool, typer.Option(help="Build the store first when it is empty.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request (off by default: it costs throughput).")] = False,
) -> None:
    """Serve the hub (HTTP) over the configured store."""
    import uvicorn

    s = settings_of(ctx)
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
    # the web app is imported by uvicorn, not by the CLI: the settings travel in the environment
    os.environ[SETTINGS_ENV] = settings_json(s)
    uvicorn.run(APP_FACTORY, factory=True, host=host or s.host, port=port or s.port, log_level="info", access_log=access_log)
