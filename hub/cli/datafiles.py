"""``chmkg data fetch`` and ``chmkg data check``: the shared reference data on a fresh machine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from hub.cli.common import err, guard, out, settings_of

data_app = typer.Typer(help="The shared reference data (../shared/data): download it, check it.", no_args_is_help=True)


@data_app.command("fetch")
def fetch_command(
    ctx: typer.Context,
    to: Annotated[Optional[Path], typer.Option(help="Where to lay the files out (default: the shared_data setting).")] = None,
    mirror: Annotated[Optional[str], typer.Option(help="A server holding a copy of the shared data (every file, derived ones too).")] = None,
    only: Annotated[list[str], typer.Option(help="Only these files or folders (repeatable), e.g. kmgbf-ontology.")] = [],  # noqa: B006
    no_upstream: Annotated[bool, typer.Option("--no-upstream", help="Ask only the mirror, not the public repositories.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Download the public files the hub reads, check each one's SHA-256, and lay them out as shared_data expects."""
    from harvest.datafiles import fetch
    from ontology.errors import BadParameter

    s = settings_of(ctx)
    target = to or Path(s.shared_data)

    def run():
        if mirror is not None and not mirror.startswith(("http://", "https://")):
            raise BadParameter(f"--mirror {mirror!r}: an http(s) URL")
        return fetch(target, mirror=mirror, only=only or None, timeout=timeout, use_upstream=not no_upstream)

    report = guard(run)
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        out.print(f"{target}: {report.summary()}", highlight=False)
        for f in report.failed[:20]:
            out.print(f"failed {f['path']}: {f['reason']}", highlight=False, markup=False, soft_wrap=True)
        if report.unavailable:
            out.print(f"{len(report.unavailable)} derived files come only from a mirror (--mirror URL), e.g. {report.unavailable[0]}",
                      highlight=False, markup=False)
    if report.failed:
        err.print(f"Error [E105]: {len(report.failed)} files could not be fetched (nothing partial was left)", highlight=False)
        raise typer.Exit(1)


@data_app.command("check")
def check_command(
    ctx: typer.Context,
    shared: Annotated[Optional[Path], typer.Option(help="The folder to check (default: the shared_data setting).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Which of the manifest's files the shared data folder holds intact, which are missing or differ."""
    from harvest.datafiles import check

    folder = shared or Path(settings_of(ctx).shared_data)
    result = check(folder)
    if as_json:
        out.print_json(json.dumps({k: v for k, v in result.items()}))
    else:
        out.print(f"{folder}: {len(result['ok'])} intact, {len(result['missing'])} missing, {len(result['different'])} different",
                  highlight=False)
        for path in result["different"][:20]:
            out.print(f"different: {path}", highlight=False, markup=False)
    if result["missing"] or result["different"]:
        raise typer.Exit(1)
