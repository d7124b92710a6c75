"""``chmkg token create|list|revoke``: API tokens, stored hashed in the tokens file."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import err, guard, out, settings_of
from ontology.errors import ChmError

token_app = typer.Typer(help="API tokens for editors (stored hashed in the tokens file).", no_args_is_help=True)


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the token (letters, digits, - and _).")],
    role: Annotated[str, typer.Option(help="reader, editor, publisher or admin.")] = "editor",
    days: Annotated[int, typer.Option(help="Days until it expires (0: never).")] = 365,
) -> None:
    """Create a token and print its secret once (only its hash is kept)."""
    from hub.auth import TokenStore

    secret = guard(lambda: TokenStore(settings_of(ctx).tokens_path).create(name, role, days or None))
    out.print(secret, highlight=False, markup=False)
    err.print(f"token {name!r} ({role}) created; the secret above is shown only now", highlight=False, markup=False)


@token_app.command("list")
def token_list(ctx: typer.Context) -> None:
    """The tokens: name, role, created, expires (never the secrets)."""
    from hub.auth import TokenStore

    t = Table("name", "role", "created", "expires")
    for entry in guard(lambda: TokenStore(settings_of(ctx).tokens_path).list()):
        t.add_row(entry["name"], entry["role"], entry["created"], entry.get("expires") or "never")
    out.print(t)


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The token's name.")]) -> None:
    """Revoke a token at once."""
    from hub.auth import TokenStore

    def revoke() -> None:
        if not TokenStore(settings_of(ctx).tokens_path).revoke(name):
            raise ChmError(f"no token named {name!r}")

    guard(revoke)
    err.print(f"token {name!r} revoked", highlight=False, markup=False)


