"""Data commands: ``build``, ``load``, ``validate``, ``query``, ``queries``, ``export``, ``stats``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import pyoxigraph as ox
import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli.common import err, guard, out, settings_of
from hub.settings import Settings, open_configured_store
from ontology.errors import ChmError
from sparql.terms import rows_to_csv

commands = typer.Typer()

READERS = ("rdf", "chm-record", "targets", "convention")
EXPORT_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "turtle": ox.RdfFormat.TURTLE,
                  "ntriples": ox.RdfFormat.N_TRIPLES}


def _load_all(store, readers, settings: Settings, force: bool) -> list:
    from hub.service import append_audit
    from writes.ingest import ingest

    from writes.commit import WriterLock

    results = []
    show = sys.stderr.isatty()
    with WriterLock(settings.writer_lock_path), Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err, disable=not show) as progress:
        task = progress.add_task("loading", total=len(readers))
        for reader in readers:
            source = reader()
            progress.update(task, description=f"loading {source.name} ({source.triple_count:,} triples)")
            result = ingest(store, source, settings.graph(source.name), settings.meta_graph, force=force)
            append_audit(settings.audit_path, os.environ.get("USER", "cli"), f"load {source.name} from {source.location} (CLI)",
                         result.status, f"{result.triples} triples")
            results.append((source, result))
            progress.advance(task)
    return results


def _derive_tracking(store, settings: Settings):
    """The decision-tracking statuses and lineage, derived from what the build loaded."""
    from hub.service import append_audit
    from hub.tracking import refresh
    from writes.commit import WriterLock

    with WriterLock(settings.writer_lock_path):
        source, result = refresh(store, settings)
    append_audit(settings.audit_path, os.environ.get("USER", "cli"), "derive decision-tracking statuses (CLI)",
                 result.status, f"{result.triples} triples")
    return source, result


def _print_results(results) -> None:
    table = Table("graph", "status", "triples", "added", "removed", "seconds")
    for source, r in results:
        table.add_row(source.name, r.status, f"{r.triples:,}", str(r.added), str(r.removed), f"{r.seconds:.2f}")
    out.print(table)


@commands.command()
def build(
    ctx: typer.Context,
    force: Annotated[bool, typer.Option(help="Reload sources even when unchanged.")] = False,
    shared: Annotated[Optional[Path], typer.Option(help="The shared data folder (default ../shared/data).")] = None,
) -> None:
    """Build the store from the bundled dataset and the reference data in ../shared/data."""
    from hub.build import build_sources, check_shared, missing_readers, read_seed_documents, seed_folder

    s = settings_of(ctx)

    def run():
        if shared is not None:
            check_shared(shared)  # a folder the user names must be the shared data
        data = shared or Path(s.shared_data)
        if not data.is_dir():
            err.print(f"note: {data} not found; loading the bundled dataset only (get the shared data with "
                      f"`chmkg data fetch --to {data}`)", highlight=False, soft_wrap=True)
        elif missing := missing_readers(data):
            err.print(f"note: {data} lacks the files of {', '.join(missing)}; building the rest (a full copy: "
                      f"`chmkg data fetch --mirror URL`)", highlight=False, soft_wrap=True)
        store = open_configured_store(s)
        try:
            # --force reads every source again (and refreshes the build cache)
            results = _load_all(store, list(build_sources(s.base, data, cache=None if force else s.build_cache_path)), s, force)
            seeds = seed_folder(data)
            if seeds.is_dir():
                results += _load_all(store, [lambda: read_seed_documents(seeds, store, s.base)], s, force)
            results.append(_derive_tracking(store, s))
            from hub.service import prepare_tagger

            prepare_tagger(store, s)  # the served hub then loads the tagger's label patterns instead of building them
        finally:
            store.close()
        return results

    _print_results(guard(run))


@commands.command()
def load(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files to load.")],
    reader: Annotated[str, typer.Option(help=f"Reader: {', '.join(READERS)}.")] = "rdf",
    graph: Annotated[Optional[str], typer.Option(help="Short name of the target graph (default: file stem).")] = None,
    fmt: Annotated[Optional[str], typer.Option("--format", help="RDF format (ttl, nt, nq, trig, rdf, jsonld).")] = None,
    force: Annotated[bool, typer.Option(help="Reload even when unchanged.")] = False,
) -> None:
    """Load sources through the one ingest path: parse, validate, replace the graph atomically."""
    from loaders.cbd_reference import read_convention, read_targets
    from loaders.chm_records import read_chm_records
    from loaders.rdf import read_rdf

    s = settings_of(ctx)

    def run():
        if reader not in READERS:
            raise ChmError(f"unknown reader {reader!r} (known: {', '.join(READERS)})")
        if reader == "rdf":
            readers = [lambda p=p: read_rdf(p, graph if len(paths) == 1 else None, fmt) for p in paths]
        elif reader == "chm-record":
            readers = [lambda: read_chm_records(paths, s.base, graph or "chm-records")]
        elif reader == "targets":
            readers = [lambda p=p: read_targets(p, s.base) for p in paths]
        else:
            readers = [lambda p=p: read_convention(p, s.base) for p in paths]
        store = open_configured_store(s)
        try:
            return _load_all(store, readers, s, force)
        finally:
            store.close()

    _print_results(guard(run))


@commands.command()
def validate(
    ctx: typer.Context,
    engine: Annotated[str, typer.Option(help="sparql (compiled shapes in the store) or pyshacl (the reference).")] = "sparql",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate the whole store against the shapes."""
    from shapes.validate import validate_store, validate_with_pyshacl

    s = settings_of(ctx)

    def run():
        store = open_configured_store(s)
        try:
            if engine == "pyshacl":
                data = store.dump(None, ox.RdfFormat.N_QUADS)
                triples = b"".join(
                    str(ox.Triple(q.subject, q.predicate, q.object)).encode() + b" .\n"
                    for q in ox.parse(data, ox.RdfFormat.N_QUADS) if q.graph_name.value != s.meta_graph
                )
                return validate_with_pyshacl(triples)
            if engine != "sparql":
                raise ChmError(f"unknown engine {engine!r} (sparql or pyshacl)")
            return validate_store(store)
        finally:
            store.close()

    report = guard(run)
    if as_json:
        out.print_json(json.dumps(report.to_dict()))
    else:
        out.print(report.summary(), highlight=False, markup=False)
    if not report.conforms:
        raise typer.Exit(1)


def _render(rows: list[dict], columns: list[str], output: str) -> None:
    if output == "json":
        print(json.dumps([{k: v.value for k, v in r.items()} for r in rows], indent=2, ensure_ascii=False))
    elif output == "csv":
        sys.stdout.write(rows_to_csv(columns, rows))
    else:
        table = Table(*columns)
        for r in rows:
            table.add_row(*[r[c].value if c in r else "" for c in columns])
        out.print(table)


@commands.command()
def query(
    ctx: typer.Context,
    name_or_sparql: Annotated[str, typer.Argument(help="A named query (see --list) or SPARQL text (or @file.rq).")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Binding name=value for a named query.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or csv.")] = "table",
) -> None:
    """Run a named query with bindings, or an ad hoc SELECT."""
    from sparql import queries

    s = settings_of(ctx)

    def run():
        if output not in ("table", "json", "csv"):
            raise ChmError(f"unknown output {output!r} (table, json or csv)")
        values = {}
        for p in param or []:
            k, sep, v = p.partition("=")
            if not sep:
                raise ChmError(f"--param needs name=value, got {p!r}")
            values[k] = v
        store = open_configured_store(s)
        try:
            if name_or_sparql in queries.catalogue():
                return queries.run_table(store, name_or_sparql, values)[::-1]
            text = Path(name_or_sparql[1:]).read_text() if name_or_sparql.startswith("@") else name_or_sparql
            columns, rows = store.select_table(text)
            return rows, columns
        finally:
            store.close()

    rows, columns = guard(run)
    _render(rows, columns, output)


@commands.command("queries")
def list_queries(ctx: typer.Context) -> None:
    """List the named queries and their parameters."""
    from sparql import queries

    table = Table("name", "title", "parameters")
    for q in queries.catalogue().values():
        table.add_row(q.name, q.title, ", ".join(f"{p.name}:{p.type}{'' if p.required else '?'}" for p in q.params))
    out.print(table)


@commands.command()
def export(
    ctx: typer.Context,
    graph: Annotated[Optional[str], typer.Option(help="Short name or IRI of one graph (default: all).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="nquads, trig, turtle or ntriples.")] = "nquads",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
) -> None:
    """Export one graph or the whole dataset."""
    s = settings_of(ctx)

    def run():
        if fmt not in EXPORT_FORMATS:
            raise ChmError(f"unknown format {fmt!r} (known: {', '.join(EXPORT_FORMATS)})")
        store = open_configured_store(s)
        try:
            rdf_fmt = EXPORT_FORMATS[fmt]
            if graph:
                iri = graph if ":" in graph else s.graph(graph)
                if iri not in store.named_graphs():
                    raise ChmError(f"no graph {iri} in the store")
                return store.dump(iri, rdf_fmt)
            if rdf_fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.N_TRIPLES):
                quads = ox.parse(store.dump(None, ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
                return ox.serialize([ox.Triple(q.subject, q.predicate, q.object) for q in quads], format=rdf_fmt) or b""
            return store.dump(None, rdf_fmt)
        finally:
            store.close()

    data = guard(run)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@commands.command()
def stats(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Triples per named graph and instances per class."""
    from sparql import queries

    s = settings_of(ctx)

    def run():
        store = open_configured_store(s)
        try:
            return queries.run(store, "graphs"), queries.run(store, "stats")
        finally:
            store.close()

    graphs, classes = guard(run)
    if as_json:
        print(json.dumps({
            "graphs": {r["graph"].value: int(r["triples"].value) for r in graphs},
            "classes": {r["class"].value: int(r["instances"].value) for r in classes},
        }, indent=2))
        return
    t1 = Table("graph", "triples", "source", "loaded")
    for r in graphs:
        t1.add_row(r["graph"].value, f"{int(r['triples'].value):,}", r.get("source").value if "source" in r else "",
                   r.get("loaded").value if "loaded" in r else "")
    out.print(t1)
    t2 = Table("class", "instances")
    for r in classes:
        t2.add_row(r["class"].value, f"{int(r['instances'].value):,}")
    out.print(t2)


