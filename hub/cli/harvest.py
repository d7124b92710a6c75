"""Harvest commands: ``harvest SOURCE`` and ``harvests`` (the last runs and the quarantine)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timezone
from typing import Annotated, Optional

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli.common import err, guard, out, settings_of
from hub.settings import open_configured_store
from ontology.errors import BadParameter

commands = typer.Typer()


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(f"--since {value!r}: give an ISO date or date-time, e.g. 2024-01-31 or 2024-01-31T12:00:00Z") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _options(values: list[str]) -> dict[str, str]:
    out_: dict[str, str] = {}
    for value in values:
        key, sep, v = value.partition("=")
        if not sep or not key.strip():
            raise BadParameter(f"--option {value!r}: expected KEY=VALUE, e.g. country=CO")
        out_[key.strip()] = v.strip()
    return out_


@commands.command()
def harvest(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="cbd-decisions, cbd-index, chm-records, cbd-thesaurus, informea or bioland.")],
    url: Annotated[Optional[str], typer.Option(help="The source's base URL (default: its public address, or harvest_urls).")] = None,
    since: Annotated[Optional[str], typer.Option(help="Only records updated since (ISO date); default: since the last run.")] = None,
    full: Annotated[bool, typer.Option(help="Fetch everything and remove what the source no longer has.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="Stop after N records (a partial run; no sweep).")] = None,
    option: Annotated[list[str], typer.Option("--option", "-O", help="A source option KEY=VALUE (bioland: country=XX, locales=en,fr).")] = [],  # noqa: B006
    rate: Annotated[Optional[float], typer.Option(help="Requests per second (default harvest_rate; 0: no limit).")] = None,
    connections: Annotated[int, typer.Option(help="Connections to the source.")] = 2,
    timeout: Annotated[float, typer.Option(help="Seconds per request.")] = 30.0,
    retries: Annotated[int, typer.Option(help="Retries on 429, 5xx and timeouts (backoff with jitter; Retry-After honoured).")] = 5,
    batch: Annotated[int, typer.Option(help="Records per commit (each commit is atomic).")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Harvest a source of the CHM network into its own named graph: incremental, validated, resumable."""
    from harvest.client import Politeness
    from hub.harvesting import run_harvest

    s = settings_of(ctx)

    def run():
        politeness = Politeness(connections=max(1, connections), rate=s.harvest_rate if rate is None else rate,
                                timeout=timeout, retries=max(0, retries))
        store = open_configured_store(s)
        show = sys.stderr.isatty() and not as_json
        try:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=err,
                          disable=not show) as bar:
                task = bar.add_task(f"harvesting {source}", total=None)

                def progress(r):
                    bar.update(task, description=f"{source}: fetched {r.fetched:,} · new {r.new:,} · changed {r.changed:,} · "
                                                 f"unchanged {r.unchanged:,} · refused {len(r.refused):,}")

                return run_harvest(s, store, source, url=url, since=_since(since), full=full, limit=limit,
                                   options=_options(option), politeness=politeness, progress=progress, who="cli",
                                   batch=max(1, batch))
        finally:
            store.close()

    report = guard(run)
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
    else:
        table = Table("source", "status", "fetched", "new", "changed", "unchanged", "removed", "refused", "requests", "seconds")
        table.add_row(report.source, report.status, str(report.fetched), str(report.new), str(report.changed),
                      str(report.unchanged), str(report.removed), str(len(report.refused)), str(report.requests),
                      f"{report.seconds:.2f}")
        out.print(table)
        for r in report.refused[:20]:
            out.print(f"refused {r['key']}: {r['reason']}", highlight=False, markup=False, soft_wrap=True)
        if len(report.refused) > 20:
            out.print(f"… and {len(report.refused) - 20} more (chmkg harvests --json)")
    if report.status == "failed":
        err.print(f"Error [E105]: harvest {source} failed: {report.message} (what was committed stays; "
                  "the next run resumes from the checkpoint)", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1)


@commands.command()
def harvests(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """The last harvest runs, the records each source holds, and the quarantined records with their reasons."""
    from hub.harvesting import harvest_status

    status = guard(lambda: harvest_status(settings_of(ctx)))
    if as_json:
        out.print_json(json.dumps(status))
        return
    table = Table("source", "started", "status", "new", "changed", "unchanged", "removed", "refused")
    for r in status["runs"]:
        rep = r["report"] or {}
        table.add_row(r["source"], r["started"], r["status"], *(str(rep.get(k, "")) for k in ("new", "changed", "unchanged", "removed")),
                      str(len(rep.get("refused", []))))
    out.print(table)
    for q in status["quarantine"]:
        out.print(f"quarantined {q['source']} {q['key']}: {q['reason']}", highlight=False, markup=False, soft_wrap=True)
