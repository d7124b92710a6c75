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

    from hub.service import make_tagger, tagger_state

    m = Minter(settings.base)
    resolver = Resolver(m, known_iris(store))
    if not schemes:  # the hub's own tagger: the matcher over its vocabularies, re-scored by the trained model if any
        stamp, graphs, model_path = tagger_state(store, settings)
        if graphs:
            return make_tagger(store, settings, stamp, graphs, model_path), resolver, m
    graphs = tagging_graphs(store, m, schemes or settings.tag_scheme_list or None)
    if not graphs:
        raise ChmError("no vocabulary in the store; run `chmkg build` or `chmkg thesaurus import informea` first")
    return Tagger(load_vocabulary(store, graphs)), resolver, m


@commands.command()
def tag(
    ctx: typer.Context,
    paths: Annotated[list[Path], typer.Argument(help="Files or folders (txt, md, html, pdf, docx).")],
    lang: Annotated[str | None, typer.Option("--lang", help="Language (en, fr, es); default: detected.")] = None,
    scheme: Annotated[list[str], typer.Option("--scheme", help="Vocabularies to tag with, by the matcher alone (default: the hub's tagger: all imported, with the trained model if any).")] = [],  # noqa: B006
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


DEV_SPLIT = ("gold-tagging", "informea-leo", "cbd_decisions_informea_tags.dev.json")


def _gold_path(s, gold: Path | None) -> Path:
    return gold or Path(s.shared_data).joinpath(*DEV_SPLIT)


def _training(s, store, gold: Path, scheme: str, c: float = 1.0, k: int = 5):
    """(trainer, training documents, gold labels the vocabulary does not know) for ``scheme``."""
    from ontology.iris import Minter
    from tagging.evaluation import read_gold
    from tagging.model import label_index, trainer_for, training_docs
    from tagging.submission import tagging_graphs

    graph = tagging_graphs(store, Minter(s.base), [scheme])[0]
    trainer = trainer_for(store, graph, c=c, k=k)
    docs, unknown = training_docs(read_gold(gold), label_index(trainer.tagger, set(trainer.concept_texts)))
    return trainer, docs, unknown


def _scores_table(title: str, columns: list[tuple[str, list]]) -> Table:
    """One row per metric ("F1@5 (micro)"), one column per tagger, for every k."""
    t = Table("metric", *(name for name, _ in columns), title=title)
    for i, sc in enumerate(columns[0][1]):
        for name in sc.metrics():
            t.add_row(name, *(f"{col[i].metrics()[name]:.3f}" for _n, col in columns))
        t.add_row(f"suggestions (k = {sc.k})", *(str(col[i].suggestions) for _n, col in columns), end_section=True)
    return t


@commands.command("eval-tagging")
def eval_tagging(
    ctx: typer.Context,
    gold: Annotated[Path | None, typer.Argument(help="Gold set (JSON); default: the InforMEA dev split in ../shared.")] = None,
    k: Annotated[list[int], typer.Option("--k", help="Cut-offs (repeatable).")] = [1, 3, 5],  # noqa: B006
    scheme: Annotated[list[str], typer.Option("--scheme", help="Vocabularies (repeatable); the learned model "
                                                               "is cross-validated on the first.")] = ["informea"],  # noqa: B006
    folds: Annotated[int, typer.Option("--folds", help="Cross-validate the learned tagger with this many folds; "
                                                       "0: score the hub's current tagger on the gold set as it is.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Cross-validation runs with different shuffles.")] = 3,
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation strength of the model cross-validated.")] = 1.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with per-document details without --folds).")] = False,
) -> None:
    """Precision, recall, F1 and nDCG at k, micro and document-averaged, as Annif reports them.

    By default the learned tagger is cross-validated on the gold set (every document scored by a model
    trained without it) beside the lexical matcher alone. With --folds 0 the hub's current tagger
    (the trained model if there is one) is scored on the gold set: use that for a held-out set."""
    from tagging.evaluation import cross_validate, evaluate_tagging, read_gold

    s = settings_of(ctx)
    path = _gold_path(s, gold)

    def run():
        store = open_configured_store(s)
        try:
            if folds:
                trainer, docs, unknown = _training(s, store, path, scheme[0], c=c, k=max(k))
                return "cv", cross_validate(trainer, docs, folds, repeats, tuple(sorted(set(k)))), unknown
            tagger, _r, _m = _tagging(s, store, scheme)
            model = _current_model(s, store, tagger)
            return "direct", [evaluate_tagging(model or tagger, read_gold(path), n) for n in k], \
                (model.version if model else "lexical")
        finally:
            store.close()

    mode, scores, extra = guard(run)
    if mode == "cv":
        if as_json:
            out.print_json(data={"gold": str(path), "folds": folds, "repeats": repeats, "unknown_gold_labels": extra,
                                 **{name: {str(n): sc.to_dict() for n, sc in by_k.items()} for name, by_k in scores.items()}})
            return
        ks = sorted(scores["model"])
        out.print(_scores_table(f"{path.name}: {folds}-fold cross-validation × {repeats}",
                                [("learned model", [scores["model"][n] for n in ks]),
                                 ("lexical matcher", [scores["lexical"][n] for n in ks])]))
        if extra:
            out.print(f"  gold labels not in the vocabulary (always missed): {', '.join(extra)}", highlight=False, markup=False)
        return
    if as_json:
        out.print_json(data={"gold": str(path), "tagger": extra, "scores": [sc.to_dict(details=True) for sc in scores]})
        return
    out.print(_scores_table(f"{path.name}: the hub's tagger", [(extra, scores)]))


def _current_model(s, store, tagger):
    """The trained tagger model the hub serves, over ``tagger`` for other vocabularies, or None."""
    from tagging.model import current_model_path, load_model, models_dir

    path = current_model_path(models_dir(s.state_path))
    return load_model(path, store, tagger) if path else None


@commands.command("train-tagger")
def train_tagger(
    ctx: typer.Context,
    gold: Annotated[Path | None, typer.Argument(help="Human-tagged documents (JSON); default: the InforMEA dev split.")] = None,
    scheme: Annotated[str, typer.Option("--scheme", help="The vocabulary of the gold set.")] = "informea",
    folds: Annotated[int, typer.Option("--folds", help="Folds of the cross-validation reported in the model card.")] = 5,
    repeats: Annotated[int, typer.Option("--repeats", help="Cross-validation runs with different shuffles.")] = 3,
    c: Annotated[float, typer.Option("--c", help="Inverse regularisation strength of the logistic regression.")] = 1.0,
    k: Annotated[int, typer.Option("--k", help="Suggestions the threshold is tuned for.")] = 5,
    to: Annotated[Path | None, typer.Option("--to", help="Models folder (default: models/tagger in the store's folder).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Train the tagger on human-tagged documents, cross-validate it, write a versioned model with its
    model card beside the store and make it the one the hub serves."""
    from datetime import UTC, datetime

    from tagging.evaluation import cross_validate
    from tagging.model import FEATURES, models_dir, save_model

    s = settings_of(ctx)
    path = _gold_path(s, gold)

    def run():
        store = open_configured_store(s)
        try:
            trainer, docs, unknown = _training(s, store, path, scheme, c=c, k=k)
        finally:
            store.close()
        cv = cross_validate(trainer, docs, folds, repeats, (k,)) if folds else None
        model = trainer.train(docs)
        card = {
            "trained": datetime.now(UTC).isoformat(timespec="seconds"),
            "data": {"gold set": str(path), "documents": len(docs), "gold pairs": sum(len(d.concepts) for d in docs),
                     "vocabulary": trainer.graph, "concepts (pseudo-documents)": len(trainer.concept_texts),
                     "gold labels not in the vocabulary": ", ".join(unknown) or "none"},
            "parameters": {"model": "logistic regression (scikit-learn), balanced classes, standardised features",
                           "C": c, "k": k, "threshold (inner 4-fold CV)": model.threshold,
                           "features": ", ".join(FEATURES)},
            "weights": {f: round(float(w), 4) for f, w in zip(FEATURES, model.coef, strict=True)},
        }
        if cv:
            card["cross_validation"] = {"folds": folds, "repeats": repeats, "seed": 0,
                                        "model": cv["model"][k].metrics(), "lexical": cv["lexical"][k].metrics()}
        target = save_model(model, to or models_dir(s.state_path), card)
        return model, target, card, cv

    model, target, card, cv = guard(run)
    if as_json:
        out.print_json(data={"version": model.version, "path": str(target), "card": card})
        return
    out.print(f"tagger model {model.version} → {target} (now the hub's tagger)", highlight=False, markup=False)
    if cv:
        out.print(_scores_table(f"{folds}-fold cross-validation × {repeats}",
                                [("learned model", [cv["model"][k]]), ("lexical matcher", [cv["lexical"][k]])]))


@commands.command("eval-references")
def eval_references(
    ctx: typer.Context,
    annotated: Annotated[Path | None, typer.Argument(help="Annotated texts (JSON list of {text, language, references}); "
                                                          "default: the hub's own set (tests/data/references_annotated.json).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with misses).")] = False,
) -> None:
    """Precision and recall of the reference extractor against annotated texts."""
    from dataclasses import asdict

    from tagging.evaluation import evaluate_references, read_annotated

    if annotated is None:
        annotated = Path(__file__).resolve().parents[2] / "tests" / "data" / "references_annotated.json"
    sc = guard(lambda: evaluate_references(read_annotated(annotated)))
    if as_json:
        out.print_json(data=asdict(sc))
        return
    t = Table("category", "expected", "found", "correct", "precision", "recall", title=f"references vs {annotated.name}")
    for kind, v in sc.per_kind.items():
        t.add_row(kind, str(v["expected"]), str(v["found"]), str(v["correct"]), f"{v['precision']:.3f}", f"{v['recall']:.3f}")
    t.add_row("all", str(sc.expected), str(sc.found), str(sc.correct), f"{sc.precision:.3f}", f"{sc.recall:.3f}", end_section=True)
    if len(sc.per_language) > 1:
        for lang, v in sc.per_language.items():
            t.add_row(f"language {lang}", str(v["expected"]), str(v["found"]), str(v["correct"]), f"{v['precision']:.3f}", f"{v['recall']:.3f}")
    out.print(t)
    for miss in sc.misses[:10]:
        out.print(f"  {miss['text']!r}: missing {miss['missing']}, extra {miss['extra']}", highlight=False, markup=False)
