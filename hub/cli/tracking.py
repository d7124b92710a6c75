"""``chmkg structure``, ``chmkg eval-elements`` and ``chmkg tracking …``: decision text → structure,
its scores on the annotated set, and the derived statuses."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import err, guard, out, settings_of
from hub.settings import open_configured_store
from ontology.errors import SourceError

commands = typer.Typer()
tracking_app = typer.Typer(help="Decision tracking: derive statuses, list decisions by status, show a decision's elements.",
                           no_args_is_help=True)

ANNOTATED = Path(__file__).resolve().parents[2] / "tests" / "data" / "decision_elements.jsonl"
MAX_TEXT = 5_000_000


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise SourceError(f"{path}: no such file")
    if path.stat().st_size > MAX_TEXT:
        raise SourceError(f"{path}: over {MAX_TEXT:,} bytes; a decision text is smaller")
    data = path.read_bytes()
    if path.suffix.lower() in (".pdf", ".docx"):
        from tagging.documents import DocumentError, extract

        try:
            return extract(data, path.name, None, None, MAX_TEXT).text
        except DocumentError as e:
            raise SourceError(f"{path}: {e.message}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SourceError(f"{path}: not UTF-8 text") from None


@commands.command()
def structure(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="A decision text (txt, md, html, pdf, docx).")],
    lang: Annotated[str | None, typer.Option("--lang", help="en, fr or es; default: detected.")] = None,
    symbol: Annotated[str | None, typer.Option("--symbol", help="The decision's symbol (needed for --load and RDF).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the elements as JSON.")] = False,
    load: Annotated[bool, typer.Option("--load", help="Load the structure into the store (validated) and derive statuses again.")] = False,
) -> None:
    """Segment a decision text into preamble, paragraphs, sub-paragraphs and annexes, and classify
    each element: act, actors addressed, deadline, references."""
    from tagging.structure import detect_language, segment_text

    s = settings_of(ctx)
    if load and not symbol:
        err.print("Error [E306]: --load needs --symbol (the decision the text belongs to)", highlight=False, markup=False)
        raise typer.Exit(1)

    def run():
        text = _read_text(path)
        language = lang or detect_language(text)
        if language not in ("en", "fr", "es"):
            raise SourceError(f"unsupported language {language!r} (en, fr, es)")
        els = segment_text(text, language)
        if not els:
            raise SourceError(f"{path}: no paragraphs found; is it a decision text?")
        loaded = None
        if load:
            loaded = _load(s, els, symbol or "", language, path)
        return language, els, loaded

    language, els, loaded = guard(run)
    if as_json:
        out.print_json(data={"file": str(path), "language": language, "elements": [e.to_dict() for e in els],
                             **({"loaded": loaded} if loaded else {})})
        return
    t = Table("number", "kind", "acts", "actors", "deadline", "references", title=f"{path.name} ({language}, {len(els)} elements)")
    for e in els:
        t.add_row(e.number, e.kind, ", ".join(a.code for a in e.acts), ", ".join(e.actors),
                  (e.deadline.to_dict()["meeting"] or str(e.deadline.year)) if e.deadline else "",
                  ", ".join(r.key for r in e.references)[:60])
    out.print(t)
    if loaded:
        out.print(f"loaded into graph {loaded['graph']}: {loaded['status']}, {loaded['triples']:,} triples; statuses derived again",
                  highlight=False, markup=False)


def _load(s, els, symbol: str, lang: str, path: Path) -> dict:
    import hashlib

    from hub.service import append_audit
    from hub.tracking import decision_exists, decision_iri, refresh
    from ontology.iris import Minter, slug
    from tagging.decision_rdf import decision_triples
    from writes.commit import WriterLock
    from writes.ingest import ParsedSource, ingest

    canonical, iri = decision_iri(s.base, symbol)
    store = open_configured_store(s)
    try:
        if not decision_exists(store, iri):
            raise SourceError(f"the hub holds no decision {canonical}; load its facts (symbol, title, meeting) first")
        nt = decision_triples(els, canonical, Minter(s.base), lang).ntriples()
        data = nt if isinstance(nt, bytes) else nt.encode()
        name = "decision-text-" + slug(canonical)
        source = ParsedSource(name=name, reader="decision-text", location=str(path.resolve()),
                              checksum="sha256:" + hashlib.sha256(data).hexdigest(), ntriples=data,
                              title=f"Decision {canonical}: structure read from its text")
        with WriterLock(s.writer_lock_path):
            result = ingest(store, source, s.graph(name), s.meta_graph)
            refresh(store, s)
        append_audit(s.audit_path, os.environ.get("USER", "cli"), f"structure of {canonical} from {path} (CLI)", result.status,
                     f"{result.triples} triples")
        return {"graph": s.graph(name), "status": result.status, "triples": result.triples}
    finally:
        store.close()


@commands.command("eval-elements")
def eval_elements(
    annotated: Annotated[Path | None, typer.Argument(help="Annotated elements (JSON lines); default: tests/data/decision_elements.jsonl.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with misses).")] = False,
) -> None:
    """Precision, recall and F1 of act, actor and deadline classification against annotated elements."""
    from dataclasses import asdict

    from tagging.evaluation import evaluate_elements, read_elements

    path = annotated or ANNOTATED
    sc = guard(lambda: evaluate_elements(read_elements(path)))
    if as_json:
        out.print_json(data=asdict(sc))
        return
    t = Table("field", "tp", "fp", "fn", "precision", "recall", "F1", title=f"{sc.elements} elements of {path.name}")
    for name, v in sc.per_field.items():
        t.add_row(name, str(v["tp"]), str(v["fp"]), str(v["fn"]), f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}")
    out.print(t)
    lt = Table("language", *next(iter(sc.per_language.values()), {}).keys(), title="F1 by language")
    for lang, v in sc.per_language.items():
        lt.add_row(lang, *(f"{x:.3f}" for x in v.values()))
    out.print(lt)
    for miss in sc.misses[:10]:
        out.print(f"  {miss}", highlight=False, markup=False)


@tracking_app.command("derive")
def derive(ctx: typer.Context) -> None:
    """Derive statuses (with their reasons) and decision lineage again into graph 'tracking'."""
    from hub.service import append_audit
    from hub.tracking import refresh
    from writes.commit import WriterLock

    s = settings_of(ctx)

    def run():
        store = open_configured_store(s)
        try:
            with WriterLock(s.writer_lock_path):
                return refresh(store, s)[1]
        finally:
            store.close()
    r = guard(run)
    append_audit(s.audit_path, os.environ.get("USER", "cli"), "derive decision-tracking statuses (CLI)", r.status, f"{r.triples} triples")
    out.print(f"tracking: {r.status}, {r.triples:,} triples (+{r.added} −{r.removed}) in {r.seconds:.2f} s", highlight=False, markup=False)


@tracking_app.command("list")
def list_decisions(
    ctx: typer.Context,
    meeting: Annotated[str, typer.Option(help="A meeting code, e.g. COP-15.")] = "",
    actor: Annotated[str, typer.Option(help="An actor key (executive-secretary), tracker code (SCBD) or IRI.")] = "",
    status: Annotated[str, typer.Option(help="active, elapsed, superseded, retired, implemented …")] = "",
    subject: Annotated[str, typer.Option(help="A subject concept IRI.")] = "",
    target: Annotated[str, typer.Option(help="A target concept IRI or its last segment (e.g. 21).")] = "",
    output: Annotated[str, typer.Option("--output", "-o", help="table, json or csv.")] = "table",
) -> None:
    """Decisions with their derived status and why, filtered like /api/decisions."""
    from hub.tracking import build_index

    s = settings_of(ctx)
    if output not in ("table", "json", "csv"):
        err.print(f"Error [E000]: unknown output {output!r} (table, json, csv)", highlight=False, markup=False)
        raise typer.Exit(1)

    def run():
        store = open_configured_store(s)
        try:
            idx = build_index(store, s)
            return idx, idx.filter(meeting=meeting, actor=actor, status=status, subject=subject, target=target)
        finally:
            store.close()
    idx, rows = guard(run)
    dicts = [r.to_dict(idx.labels) for r in rows]
    if output == "json":
        sys.stdout.write(json.dumps(dicts, ensure_ascii=False, indent=1) + "\n")
    elif output == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(["symbol", "meeting", "status", "reason", "title"])
        for r in dicts:
            w.writerow([r["symbol"], r["meeting"], r["status"], r["reason"], r["title"]])
        sys.stdout.write(buf.getvalue())
    else:
        t = Table("symbol", "meeting", "status", "why", title=f"{len(rows)} decisions")
        for r in dicts:
            t.add_row(r["symbol"], r["meeting"], r["status"], r["reason"][:90])
        out.print(t)


@tracking_app.command("show")
def show(
    ctx: typer.Context,
    symbol: Annotated[str, typer.Argument(help="A decision symbol, e.g. 15/16 or X/15.")],
    lang: Annotated[str, typer.Option(help="Language of the texts.")] = "en",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A decision's elements: acts, actors, deadlines, statuses and why."""
    from hub.tracking import UnknownDecision, decision_exists, elements_of

    s = settings_of(ctx)

    def run():
        store = open_configured_store(s)
        try:
            found = elements_of(store, s.base, symbol, lang)
            if not found["elements"] and not decision_exists(store, found["decision"]):
                raise UnknownDecision(f"the hub holds no decision {found['symbol']}")
            return found
        finally:
            store.close()
    found = guard(run)
    if as_json:
        out.print_json(data=found)
        return
    out.print(f"{found['symbol']}: {found['status'] or '?'} — {found['reason']}", highlight=False, markup=False)
    t = Table("number", "acts", "actors", "due", "status", "why")
    for el in found["elements"]:
        acts = el["acts"]
        t.add_row("  " * el["depth"] + el["number"], ", ".join(a["act"] for a in acts),
                  ", ".join(x.rsplit("/", 1)[-1] for a in acts for x in a["actors"]),
                  ", ".join(_due(a["due"]) for a in acts if a["due"]), el["status"] or "", el["reason"][:70])
    out.print(t)



def _due(due: str | None) -> str:
    if not due:
        return ""
    if due.startswith(("http://", "https://")):
        body, n = due.rsplit("/", 2)[-2:]
        return f"{body.upper()}-{n}"
    return due
