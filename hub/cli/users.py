"""``chmkg user create|passwd|role|disable|list``: accounts for the browser (Argon2 hashes)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.table import Table

from hub.cli.common import guard, out, settings_of

user_app = typer.Typer(help="Accounts for editors (passwords hashed with Argon2; no default account).", no_args_is_help=True)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _accounts(ctx: typer.Context):
    from hub.accounts import Accounts

    return Accounts(settings_of(ctx).users_path)


@user_app.command("create")
def user_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="reader, editor, publisher or admin.")] = "editor",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Create an account (the first admin is made this way: there is no default account)."""
    password = _password(password_stdin)
    guard(lambda: _accounts(ctx).create(name, role, password))
    out.print(f"user {name} created with the {role} role", highlight=False, markup=False)


@user_app.command("passwd")
def user_passwd(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()], password_stdin: Annotated[bool, typer.Option()] = False) -> None:
    """Set a new password (the user's open sessions end)."""
    password = _password(password_stdin)
    guard(lambda: _accounts(ctx).set_password(name, password))
    out.print(f"password of {name} changed", highlight=False, markup=False)


@user_app.command("role")
def user_role(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()], role: Annotated[str, typer.Argument()]) -> None:
    """Change a user's role."""
    guard(lambda: _accounts(ctx).set_role(name, role))
    out.print(f"{name} now has the {role} role", highlight=False, markup=False)


@user_app.command("disable")
def user_disable(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument()]) -> None:
    """Disable an account (its sessions end at once)."""
    guard(lambda: _accounts(ctx).disable(name))
    out.print(f"{name} disabled", highlight=False, markup=False)


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    users = guard(lambda: _accounts(ctx).list())
    if as_json:
        out.print_json(data=users)
        return
    t = Table("name", "role", "created", "disabled")
    for u in users:
        t.add_row(u["name"], u["role"], u["created"], "yes" if u["disabled"] else "")
    out.print(t)


