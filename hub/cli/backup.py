"""``chmkg backup`` and ``chmkg restore``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.common import guard, out, settings_of
from hub.settings import open_configured_store

commands = typer.Typer()

@commands.command()
def backup(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A new folder for the backup.")]) -> None:
    """Back up the whole dataset (gzipped N-Quads + manifest with SHA-256 and counts).

    For a running embedded hub use POST /admin/backup (the store is locked by the hub); over a
    remote store this command runs while the hub serves."""
    from writes.backup import backup as run_backup

    def run():
        store = open_configured_store(settings_of(ctx))
        try:
            return run_backup(store, folder)
        finally:
            store.close()

    m = guard(run)
    out.print(f"backup {folder}: {m.quads:,} quads in {len(m.graphs)} graphs, {m.bytes:,} bytes, sha256 {m.sha256}",
              highlight=False, markup=False)


@commands.command()
def restore(
    ctx: typer.Context,
    folder: Annotated[Path, typer.Argument(help="A folder made by `chmkg backup`.")],
            force: Annotated[bool, typer.Option(help="Replace a store that is not empty.")] = False) -> None:
    """Restore a backup: the checksum and counts are checked before and after loading."""
    from writes.backup import restore as run_restore

    def run():
        store = open_configured_store(settings_of(ctx))
        try:
            return run_restore(store, folder, force)
        finally:
            store.close()

    m = guard(run)
    out.print(f"restored {m.quads:,} quads in {len(m.graphs)} graphs from {folder} (backup of {m.created}); counts verified",
              highlight=False, markup=False)
