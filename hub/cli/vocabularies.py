"""``chmkg thesaurus import`` and ``chmkg thesaurus check``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from hub.cli.common import guard, out, settings_of
from hub.settings import open_configured_store

thesaurus_app = typer.Typer(help="Vocabularies: import (InforMEA, GEMET, ECOLEX) and quality checks.", no_args_is_help=True)


@thesaurus_app.command("import")
def thesaurus_import(
    ctx: typer.Context,
    names: Annotated[list[str], typer.Argument(help="informea, gemet, ecolex, mappings (or all).")],
    shared: Annotated[Optional[str], typer.Option(help="Folder of the reference data (default: setting shared_data).")] = None,
    force: Annotated[bool, typer.Option(help="Load even when the source is unchanged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import reports as JSON.")] = False,
) -> None:
    """Import vocabularies into their own named graphs (thesaurus-<name>), normalised with skosify."""
    from dataclasses import asdict

    from writes.ingest import ingest
    from thesaurus.importers import READERS, read_mappings, read_vocabulary

    s = settings_of(ctx)
    wanted = [*READERS, "mappings"] if names == ["all"] else names
    mapping_lines: list[str] = []

    def run():
        store = open_configured_store(s)
        reports = []
        try:
            for name in wanted:
                if name == "mappings":
                    facts, suggestions, mreport = read_mappings(Path(shared or s.shared_data))
                    for source in (facts, suggestions):
                        result = ingest(store, source, s.graph(source.name), s.meta_graph, force=force)
                        mapping_lines.append(f"{source.name}: {result.status}, {result.triples:,} links → {result.graph}")
                    mapping_lines.append(f"  InforMEA → ECOLEX: {mreport.exact} exactMatch, {mreport.close} closeMatch, "
                                         f"{len(mreport.unresolved)} unresolved; InforMEA ↔ GEMET suggestions: {mreport.suggestions}")
                    mapping_lines.extend(f"  unresolved: {u}" for u in mreport.unresolved[:10])
                    continue
                source, report = read_vocabulary(name, Path(shared or s.shared_data))
                result = ingest(store, source, s.graph(source.name), s.meta_graph, force=force)
                reports.append((report, result))
        finally:
            store.close()
        return reports

    reports = guard(run)
    if as_json:
        out.print_json(data=[{**asdict(r), "quality": r.quality.to_dict(limit=10) if r.quality else None, "status": res.status}
                             for r, res in reports])
        return
    for report, result in reports:
        out.print(f"{report.name}: {result.status}, {report.concepts:,} concepts, {report.triples:,} triples → {result.graph}",
                  highlight=False, markup=False)
        out.print("  " + ", ".join(f"{k} {v:,}" for k, v in report.counts.items()), highlight=False, markup=False)
        for line in report.skosify_log[:8]:
            out.print(f"  skosify {line}", highlight=False, markup=False)
        if report.quality:
            found = ", ".join(f"{r.id} {r.count}" for r in report.quality.results if r.count)
            out.print(f"  source quality: {found or 'no issues'}", highlight=False, markup=False)
    for line in mapping_lines:
        out.print(line, highlight=False, markup=False)


@thesaurus_app.command("check")
def thesaurus_check(
    ctx: typer.Context,
    graph: Annotated[list[str], typer.Option("--graph", help="Graph name(s); default: every thesaurus-* graph.")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Findings shown per check.")] = 5,
) -> None:
    """Quality checks (qSKOS-style) over the imported vocabularies; exit 1 when a graph is missing."""
    from dataclasses import asdict

    from ontology.errors import ChmError
    from thesaurus.quality import check_stored

    s = settings_of(ctx)

    def run():
        store = open_configured_store(s)
        try:
            graphs = [s.graph(g) for g in graph] or [g for g in store.named_graphs() if g.startswith(s.graph("thesaurus-"))]
            if not graphs:
                raise ChmError("no thesaurus graph in the store; run `chmkg thesaurus import all` first")
            for g in graphs:
                if not store.graph_exists(g):
                    raise ChmError(f"no graph {g}")
            return [check_stored(store, g) for g in graphs]
        finally:
            store.close()

    reports = guard(run)
    if as_json:
        out.print_json(data=[r.to_dict(limit=limit) for r in reports])
        return
    for r in reports:
        t = Table("check", "count", "examples", title=f"{r.graph}: {r.concepts:,} concepts, {r.seconds:.2f} s")
        for res in r.results:
            t.add_row(res.id, f"{res.count:,}", "\n".join(f"{f.concept} — {f.detail}" for f in res.findings[:limit]))
        out.print(t)
    _ = asdict


