"""``chmkg eval-matching``: nDCG@5 and recall@10 of the matchmaking on the labelled set, beside a
text-only baseline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import guard, out, settings_of
from hub.settings import open_configured_store

commands = typer.Typer()
DATA = Path(__file__).resolve().parents[2] / "tests" / "data"


@commands.command("eval-matching")
def eval_matching(
    ctx: typer.Context,
    needs: Annotated[Path, typer.Option(help="Needs with their judged offers (JSON lines).")] = DATA / "matching_needs.jsonl",
    offers: Annotated[Path, typer.Option(help="Offers (JSON lines).")] = DATA / "matching_offers.jsonl",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (with each need's scores and top 5).")] = False,
) -> None:
    """Rank the offers for each labelled need and score the ranking (nDCG@5, recall@10) beside BM25 alone.
    The thesaurus relations come from the store (run `chmkg build` first)."""
    from dataclasses import asdict

    from hub.matching import Matcher, evaluate, graph_from_store, read_labelled
    from ontology.errors import SourceError

    s = settings_of(ctx)

    def run():
        sides, judgments = read_labelled(needs, offers, s.base)
        store = open_configured_store(s)
        try:
            graph = graph_from_store(store)
        finally:
            store.close()
        if not graph.broader:
            raise SourceError("the store holds no thesaurus relations: run `chmkg build` (or `chmkg thesaurus import informea`) first")
        return evaluate(Matcher(sides, graph), judgments)

    sc = guard(run)
    if as_json:
        out.print_json(data=asdict(sc))
        return
    t = Table("ranking", "nDCG@5", "recall@10", title=f"{sc.needs} needs against {sc.offers} offers")
    t.add_row("matchmaking (concepts, targets, text, kind, region, language)", f"{sc.ndcg5:.3f}", f"{sc.recall10:.3f}")
    t.add_row("text only (BM25)", f"{sc.baseline_ndcg5:.3f}", f"{sc.baseline_recall10:.3f}")
    out.print(t)
