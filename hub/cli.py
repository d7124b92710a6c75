"""The ``chmkg`` command line: thin front doors over the domain functions."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.settings import Settings, load_settings, open_configured_store
from ontology.errors import ChmError
from sparql.terms import rows_to_csv

app = typer.Typer(help="CHM Knowledge Hub: build, load, validate, query, export and serve the knowledge graph.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
err = Console(stderr=True)
out = Console()

READERS = ("rdf", "chm-record", "targets", "convention")
EXPORT_FORMATS = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG, "turtle": ox.RdfFormat.TURTLE,
                  "ntriples": ox.RdfFormat.N_TRIPLES}


class State:
    settings: Settings


state = State()


@app.callback()
def main(
    store: Annotated[Optional[str], typer.Option(help="Path of the embedded store (CHMKG_STORE_PATH).")] = None,
    remote_query: Annotated[Optional[str], typer.Option(help="Query URL of a remote SPARQL store.")] = None,
    remote_update: Annotated[Optional[str], typer.Option(help="Update URL of a remote SPARQL store.")] = None,
    base: Annotated[Optional[str], typer.Option(help="Base IRI of minted IRIs (CHMKG_BASE).")] = None,
    config: Annotated[Optional[str], typer.Option(help="TOML config file (default chmkg.toml).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG.")] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    state.settings = _guard(lambda: load_settings(config, store_path=store, remote_query_url=remote_query,
                                                  remote_update_url=remote_update, base=base))


def _guard(fn):
    try:
        return fn()
    except ChmError as e:
        err.print(f"Error [{e.code}]: {e.message}", highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _load_all(store, readers, settings: Settings, force: bool) -> list:
    from hub.service import append_audit
    from writes.ingest import ingest

    results = []
    show = sys.stderr.isatty()
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
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


def _print_results(results) -> None:
    table = Table("graph", "status", "triples", "added", "removed", "seconds")
    for source, r in results:
        table.add_row(source.name, r.status, f"{r.triples:,}", str(r.added), str(r.removed), f"{r.seconds:.2f}")
    out.print(table)


@app.command()
def build(
    force: Annotated[bool, typer.Option(help="Reload sources even when unchanged.")] = False,
    shared: Annotated[Optional[Path], typer.Option(help="The shared data folder (default ../shared/data).")] = None,
) -> None:
    """Build the store from the bundled dataset and the reference data in ../shared/data."""
    from hub.build import build_sources

    s = state.settings

    def run():
        store = open_configured_store(s)
        data = shared or Path(s.shared_data)
        if not data.is_dir():
            err.print(f"note: {data} not found; loading the bundled dataset only")
        results = _load_all(store, list(build_sources(s.base, data)), s, force)
        store.close()
        return results

    _print_results(_guard(run))


@app.command()
def load(
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

    s = state.settings

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

    _print_results(_guard(run))


@app.command()
def validate(
    engine: Annotated[str, typer.Option(help="sparql (compiled shapes in the store) or pyshacl (the reference).")] = "sparql",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Validate the whole store against the shapes."""
    from shapes.validate import validate_store, validate_with_pyshacl

    s = state.settings

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

    report = _guard(run)
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


@app.command()
def query(
    name_or_sparql: Annotated[str, typer.Argument(help="A named query (see --list) or SPARQL text (or @file.rq).")],
    param: Annotated[Optional[list[str]], typer.Option("--param", "-p", help="Binding name=value for a named query.")] = None,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or csv.")] = "table",
) -> None:
    """Run a named query with bindings, or an ad hoc SELECT."""
    from sparql import queries

    s = state.settings

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

    rows, columns = _guard(run)
    _render(rows, columns, output)


@app.command("queries")
def list_queries() -> None:
    """List the named queries and their parameters."""
    from sparql import queries

    table = Table("name", "title", "parameters")
    for q in queries.catalogue().values():
        table.add_row(q.name, q.title, ", ".join(f"{p.name}:{p.type}{'' if p.required else '?'}" for p in q.params))
    out.print(table)


@app.command()
def export(
    graph: Annotated[Optional[str], typer.Option(help="Short name or IRI of one graph (default: all).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="nquads, trig, turtle or ntriples.")] = "nquads",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default stdout).")] = None,
) -> None:
    """Export one graph or the whole dataset."""
    s = state.settings

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

    data = _guard(run)
    if output:
        output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False) -> None:
    """Triples per named graph and instances per class."""
    from sparql import queries

    s = state.settings

    def run():
        store = open_configured_store(s)
        try:
            return queries.run(store, "graphs"), queries.run(store, "stats")
        finally:
            store.close()

    graphs, classes = _guard(run)
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


thesaurus_app = typer.Typer(help="Vocabularies: import (InforMEA, GEMET, ECOLEX) and quality checks.", no_args_is_help=True)
app.add_typer(thesaurus_app, name="thesaurus")


@thesaurus_app.command("import")
def thesaurus_import(
    names: Annotated[list[str], typer.Argument(help="informea, gemet, ecolex, mappings (or all).")],
    shared: Annotated[Optional[str], typer.Option(help="Folder of the reference data (default: setting shared_data).")] = None,
    force: Annotated[bool, typer.Option(help="Load even when the source is unchanged.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the import reports as JSON.")] = False,
) -> None:
    """Import vocabularies into their own named graphs (thesaurus-<name>), normalised with skosify."""
    from dataclasses import asdict

    from writes.ingest import ingest
    from thesaurus.importers import READERS, read_mappings, read_vocabulary

    s = state.settings
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

    reports = _guard(run)
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
    graph: Annotated[list[str], typer.Option("--graph", help="Graph name(s); default: every thesaurus-* graph.")] = [],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    limit: Annotated[int, typer.Option(help="Findings shown per check.")] = 5,
) -> None:
    """Quality checks (qSKOS-style) over the imported vocabularies; exit 1 when a graph is missing."""
    from dataclasses import asdict

    from ontology.errors import ChmError
    from thesaurus.quality import check_stored

    s = state.settings

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

    reports = _guard(run)
    if as_json:
        out.print_json(data=[r.to_dict(limit=limit) for r in reports])
        return
    for r in reports:
        t = Table("check", "count", "examples", title=f"{r.graph}: {r.concepts:,} concepts, {r.seconds:.2f} s")
        for res in r.results:
            t.add_row(res.id, f"{res.count:,}", "\n".join(f"{f.concept} — {f.detail}" for f in res.findings[:limit]))
        out.print(t)
    _ = asdict


token_app = typer.Typer(help="API tokens for editors (stored hashed in the tokens file).", no_args_is_help=True)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="A name for the token (letters, digits, - and _).")],
    role: Annotated[str, typer.Option(help="reader, editor, publisher or admin.")] = "editor",
    days: Annotated[int, typer.Option(help="Days until it expires (0: never).")] = 365,
) -> None:
    """Create a token and print its secret once (only its hash is kept)."""
    from hub.auth import TokenStore

    secret = _guard(lambda: TokenStore(state.settings.tokens_path).create(name, role, days or None))
    out.print(secret, highlight=False, markup=False)
    err.print(f"token {name!r} ({role}) created; the secret above is shown only now", highlight=False, markup=False)


@token_app.command("list")
def token_list() -> None:
    """The tokens: name, role, created, expires (never the secrets)."""
    from hub.auth import TokenStore

    t = Table("name", "role", "created", "expires")
    for entry in _guard(lambda: TokenStore(state.settings.tokens_path).list()):
        t.add_row(entry["name"], entry["role"], entry["created"], entry.get("expires") or "never")
    out.print(t)


@token_app.command("revoke")
def token_revoke(name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token at once."""
    from hub.auth import TokenStore

    def revoke() -> None:
        if not TokenStore(state.settings.tokens_path).revoke(name):
            raise ChmError(f"no token named {name!r}")

    _guard(revoke)
    err.print(f"token {name!r} revoked", highlight=False, markup=False)


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to bind (default 127.0.0.1).")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000).")] = None,
    build_if_missing: Annotated[bool, typer.Option(help="Build the store first when it is empty.")] = True,
    access_log: Annotated[bool, typer.Option(help="Log every request (off by default: it costs throughput).")] = False,
) -> None:
    """Serve the hub (HTTP) over the configured store."""
    import uvicorn

    from hub.app import create_app

    s = state.settings
    if build_if_missing:
        def needs_build() -> bool:
            store = open_configured_store(s)
            try:
                return not store.named_graphs()
            finally:
                store.close()

        if _guard(needs_build):
            err.print("the store is empty: building it from the bundled data first")
            build(force=False, shared=None)
    application = _guard(lambda: create_app(s))
    uvicorn.run(application, host=host or s.host, port=port or s.port, log_level="info", access_log=access_log)


from hub import cli_admin, cli_tagging  # noqa: E402,F401 - register tag, eval-*, user, backup, restore on the app

if __name__ == "__main__":  # pragma: no cover
    app()
