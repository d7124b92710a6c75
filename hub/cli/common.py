"""What every command module shares: the consoles, the error guard and the settings of this run.

The settings live on the Typer context (``ctx.obj``), set once by the main callback: no module
keeps global state, so commands can be invoked many times in one process (the tests do).
"""

from __future__ import annotations

import typer
from rich.console import Console

from hub.settings import Settings
from ontology.errors import ChmError

err = Console(stderr=True)
out = Console()


def guard(fn):
    """Run ``fn``; a :class:`ChmError` becomes ``Error [code]: message`` on stderr and exit 1."""
    try:
        return fn()
    except ChmError as e:
        err.print(f"Error [{e.code}]: {e.message}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


def settings_of(ctx: typer.Context) -> Settings:
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):
        raise typer.BadParameter("no settings: run the command through `chmkg`")
    return root.obj
