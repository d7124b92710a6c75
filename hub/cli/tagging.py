"""``chmkg tag``, ``chmkg eval-tagging`` and ``chmkg eval-references``."""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hub.cli.common import err, guard, out, settings_of
from hub.settings import open_configured_store
from ontology.errors import ChmError

commands = typer.Typer()

SUFFIXES = (".txt", ".text", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx")


def _files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for p in paths:
        if p.is_dir():
            found.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES))
        elif p.is_file():
            found.append(p)
        else:
            raise ChmError(f"{p}: no such file or folder")
    if not found:
        raise ChmError("no documents to tag (supported: " + ", ".join(SUFFIXES) + ")")
    return found


def _tagging(settings, store, schemes: list[str]):
    from ontology.iris import Minter
    from tagging.references import Resolver
    from tagging.submission import known_iris, load_vocabulary, tagging_graphs
    from tagging.tagger import Tagger

    m = Minter(settings.base)
    graphs = tagging_graphs(store, m, schemes or settings.tag_scheme_list or None)
    if not graphs:
        raise ChmError("no vocabulary in the store; run `chmkg build` or `chmkg thesaurus import informea` first")
    return Tagger(load_vocabulary(store, graphs)), Resolver(m, known_iris(store)), m


@commands.command()
def tag(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (txt, md, html, pdf, docx).")],
    lang: Annotated[str | None, typer.Option("--lang", help="Language (en, fr, es); default: detected.")] = None,
    scheme: Annotated[list[str], typer.Option("--scheme", help="Vocabularies to tag with (default: all imported).")] = [],  # noqa: B006
    limit: Annotated[int, typer.Option(help="Suggestions per document.")] = 10,
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or csv.")] = "table",
    submit: Annotated[bool, typer.Option(help="Store each document as a record with its suggestions.")] = False,
    submitter: Annotated[str, typer.Option("--as", help="Submitter name recorded with --submit.")] = "cli",
) -> None:
    """Tag documents with thesaurus concepts and extract their references; optionally submit them."""
    from hub.service import append_audit
    from writes.update import apply_update
    from tagging.documents import DocumentError, extract
    from tagging.submission import analyse, submission_update

    s = settings_of(ctx)
    if output not in ("table", "json", "csv"):
        err.print(f"Error [E000]: unknown output {output!r} (table, json, csv)", highlight=False, markup=False)
        raise typer.Exit(1)

    def run():
        files = _files(paths)
        store = open_configured_store(s)
        results, failures = [], []
        try:
            tagger, resolver, minter = _tagging(s, store, scheme)
            with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                          TimeElapsedColumn(), console=err, disable=not sys.stderr.isatty()) as progress:
                task = progress.add_task("tagging", total=len(files))
                for f in files:
                    progress.update(task, description=f"tagging {f.name}")
                    try:
                        data = f.read_bytes()
                        a = analyse(extract(data, f.name, None, lang, s.max_document_bytes), tagger, resolver, limit, data)
                        row = {"file": str(f), **a.to_dict()}
                        if submit:
                            g = submission_update(a, minter, submitter)
                            if store.graph_exists(g.record_graph):
                                row["record"], row["submitted"] = g.record, "already submitted"
                            else:
                                apply_update(store, g.update, s.meta_graph, who=submitter)
                                append_audit(s.audit_path, submitter, f"submit document {f.name!r} → <{g.record}> (CLI)", "done")
                                row["record"], row["submitted"] = g.record, "stored"
                        results.append(row)
                    except (DocumentError, ChmError) as e:
                        failures.append({"file": str(f), "error": f"[{e.code}] {e.message}"})
                    progress.advance(task)
        finally:
            store.close()
        return results, failures

    results, failures = guard(run)
    if output == "json":
        out.print_json(data={"documents": results, "failures": failures})
    elif output == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["file", "kind", "rank", "concept_or_key", "label_or_iri", "score_or_status"])
        for r in results:
            for i, sug in enumerate(r["suggestions"], 1):
                w.writerow([r["file"], "subject", i, sug["concept"], sug["label"], sug["score"]])
            for ref in r["references"]:
                w.writerow([r["file"], f"reference:{ref['kind']}", "", ref["key"], ref["iri"] or "", ref["status"]])
        sys.stdout.write(buf.getvalue())
    else:
        for r in results:
            t = Table("score", "concept", "matched", title=f"{r['file']} — {r['title'][:60]} ({r['language']}, {r['words']:,} words)")
            for sug in r["suggestions"]:
                t.add_row(f"{sug['score']:.2f}", sug["label"], ", ".join(sug["matched"][:3]))
            out.print(t)
            resolved = [x for x in r["references"] if x["iri"]]
            out.print(f"  references: {len(resolved)} resolved, {len(r['references']) - len(resolved)} unresolved"
                      + (f"; record {r['record']} ({r['submitted']})" if r.get("record") else ""), highlight=False, markup=False)
    for f in failures:
        err.print(f"{f['file']}: {f['error']}", highlight=False, markup=False)
    if failures:
        raise typer.Exit(1)


@commands.command("eval-tagging")
def eval_tagging(
    ctx: typer.Context,
    gold: Annotated[Path | None, typer.Argument(help="Gold set (JSON); default: the InforMEA dev split in ../shared.")] = None,
    k: Annotated[list[int], typer.Option("--k", help="Cut-offs (repeatable).")] = [1, 3, 5],  # noqa: B006
    scheme: Annotated[list[str], typer.Option("--scheme", help="Vocabularies (default: informea).")] = ["informea"],  # noqa: B006
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with per-document details).")] = False,
) -> None:
    """Precision, recall and F1 at k of the tagger against a gold set of (document, concepts)."""
    from tagging.evaluation import evaluate_tagging, read_gold

    s = settings_of(ctx)
    path = gold or Path(s.shared_data) / "gold-tagging" / "informea-leo" / "cbd_decisions_informea_tags.dev.json"

    def run():
        items = read_gold(path)
        store = open_configured_store(s)
        try:
            tagger, _resolver, _m = _tagging(s, store, scheme)
        finally:
            store.close()
        return [evaluate_tagging(tagger, items, n) for n in k]

    scores = guard(run)
    if as_json:
        out.print_json(data=[sc.to_dict(details=True) for sc in scores])
        return
    t = Table("k", "documents", "P@k", "R@k", "F1@k", "micro P", "micro R", "micro F1", title=f"tagging vs {path.name}")
    for sc in scores:
        t.add_row(str(sc.k), str(sc.documents), f"{sc.precision:.3f}", f"{sc.recall:.3f}", f"{sc.f1:.3f}",
                  f"{sc.micro_precision:.3f}", f"{sc.micro_recall:.3f}", f"{sc.micro_f1:.3f}")
    out.print(t)


@commands.command("eval-references")
def eval_references(
    ctx: typer.Context,
    annotated: Annotated[Path, typer.Argument(help="Annotated texts (JSON list of {text, references}).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with misses).")] = False,
) -> None:
    """Precision and recall of the reference extractor against annotated texts."""
    from dataclasses import asdict

    from tagging.evaluation import evaluate_references, read_annotated

    sc = guard(lambda: evaluate_references(read_annotated(annotated)))
    if as_json:
        out.print_json(data=asdict(sc))
        return
    t = Table("kind", "expected", "found", "correct", "precision", "recall", title=f"references vs {annotated.name}")
    for kind, v in sc.per_kind.items():
        t.add_row(kind, str(v["expected"]), str(v["found"]), str(v["correct"]), f"{v['precision']:.3f}", f"{v['recall']:.3f}")
    t.add_row("all", str(sc.expected), str(sc.found), str(sc.correct), f"{sc.precision:.3f}", f"{sc.recall:.3f}")
    out.print(t)
    for miss in sc.misses[:10]:
        out.print(f"  {miss['text']!r}: missing {miss['missing']}, extra {miss['extra']}", highlight=False, markup=False)
