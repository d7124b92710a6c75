"""``chmkg user …`` (accounts), ``chmkg backup`` and ``chmkg restore``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli import _guard, app, out, state
from hub.settings import open_configured_store

user_app = typer.Typer(help="Accounts for editors (passwords hashed with Argon2; no default account).", no_args_is_help=True)
app.add_typer(user_app, name="user")


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def _accounts():
    from hub.accounts import Accounts

    return Accounts(state.settings.users_path)


@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="User name.")],
    role: Annotated[str, typer.Option(help="reader, editor, publisher or admin.")] = "editor",
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
) -> None:
    """Create an account (the first admin is made this way: there is no default account)."""
    password = _password(password_stdin)
    _guard(lambda: _accounts().create(name, role, password))
    out.print(f"user {name} created with the {role} role", highlight=False, markup=False)


@user_app.command("passwd")
def user_passwd(name: Annotated[str, typer.Argument()], password_stdin: Annotated[bool, typer.Option()] = False) -> None:
    """Set a new password (the user's open sessions end)."""
    password = _password(password_stdin)
    _guard(lambda: _accounts().set_password(name, password))
    out.print(f"password of {name} changed", highlight=False, markup=False)


@user_app.command("role")
def user_role(name: Annotated[str, typer.Argument()], role: Annotated[str, typer.Argument()]) -> None:
    """Change a user's role."""
    _guard(lambda: _accounts().set_role(name, role))
    out.print(f"{name} now has the {role} role", highlight=False, markup=False)


@user_app.command("disable")
def user_disable(name: Annotated[str, typer.Argument()]) -> None:
    """Disable an account (its sessions end at once)."""
    _guard(lambda: _accounts().disable(name))
    out.print(f"{name} disabled", highlight=False, markup=False)


@user_app.command("list")
def user_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    users = _guard(lambda: _accounts().list())
    if as_json:
        out.print_json(data=users)
        return
    t = Table("name", "role", "created", "disabled")
    for u in users:
        t.add_row(u["name"], u["role"], u["created"], "yes" if u["disabled"] else "")
    out.print(t)


@app.command()
def backup(folder: Annotated[Path, typer.Argument(help="A new folder for the backup.")]) -> None:
    """Back up the whole dataset (gzipped N-Quads + manifest with SHA-256 and counts).

    For a running embedded hub use POST /admin/backup (the store is locked by the hub); over a
    remote store this command runs while the hub serves."""
    from writes.backup import backup as run_backup

    def run():
        store = open_configured_store(state.settings)
        try:
            return run_backup(store, folder)
        finally:
            store.close()

    m = _guard(run)
    out.print(f"backup {folder}: {m.quads:,} quads in {len(m.graphs)} graphs, {m.bytes:,} bytes, sha256 {m.sha256}",
              highlight=False, markup=False)


@app.command()
def restore(folder: Annotated[Path, typer.Argument(help="A folder made by `chmkg backup`.")],
            force: Annotated[bool, typer.Option(help="Replace a store that is not empty.")] = False) -> None:
    """Restore a backup: the checksum and counts are checked before and after loading."""
    from writes.backup import restore as run_restore

    def run():
        store = open_configured_store(state.settings)
        try:
            return run_restore(store, folder, force)
        finally:
            store.close()

    m = _guard(run)
    out.print(f"restored {m.quads:,} quads in {len(m.graphs)} graphs from {folder} (backup of {m.created}); counts verified",
              highlight=False, markup=False)
