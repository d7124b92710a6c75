"""The ``chmkg`` command: one Typer app composed from one module per command group."""

from __future__ import annotations

import logging
from typing import Annotated, Optional

import typer

from hub.cli import backup, data, datafiles, harvest, matching, serve, tagging, tokens, tracking, users, vocabularies
from hub.cli.common import guard
from hub.settings import load_settings

app = typer.Typer(help="CHM Knowledge Hub: build, load, validate, query, export and serve the knowledge graph.",
                  no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)


@app.callback()
def main(
    ctx: typer.Context,
    store: Annotated[Optional[str], typer.Option(help="Path of the embedded store (CHMKG_STORE_PATH).")] = None,
    remote_query: Annotated[Optional[str], typer.Option(help="Query URL of a remote SPARQL store.")] = None,
    remote_update: Annotated[Optional[str], typer.Option(help="Update URL of a remote SPARQL store.")] = None,
    remote_engine: Annotated[Optional[str], typer.Option(help="The remote store's engine: sparql or virtuoso (CHMKG_REMOTE_ENGINE).")] = None,
    base: Annotated[Optional[str], typer.Option(help="Base IRI of minted IRIs (CHMKG_BASE).")] = None,
    config: Annotated[Optional[str], typer.Option(help="TOML config file (default chmkg.toml).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log at DEBUG.")] = False,
) -> None:
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = guard(lambda: load_settings(config, store_path=store, remote_query_url=remote_query,
                                          remote_update_url=remote_update, remote_engine=remote_engine, base=base))


for module in (data, harvest, tagging, tracking, matching, backup, serve):
    app.registered_commands.extend(module.commands.registered_commands)
app.add_typer(vocabularies.thesaurus_app, name="thesaurus")
app.add_typer(tokens.token_app, name="token")
app.add_typer(tracking.tracking_app, name="tracking")
app.add_typer(users.user_app, name="user")
app.add_typer(datafiles.data_app, name="data")

if __name__ == "__main__":  # pragma: no cover
    app()
