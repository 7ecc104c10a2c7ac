"""`medic users add|list|remove`: the people who sign in to the UI with a password.

They are kept in medic's database (MEDIC_DATABASE_URL, or the SQLite file in the data
directory), so every `medic serve` sharing it knows them at once, without a restart.
Only an Argon2id hash of the password is stored. The password is asked twice on a
terminal, or read from standard input (one line) when it is not a terminal:
`printf '%s\\n' "$PW" | medic users add alice --role approver`.
Exit status: 0 done, 1 refused (bad name or password, unknown user), 2 invalid
configuration or an unreachable database.
"""

from __future__ import annotations

import re
import sys
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from medic.credentials import MIN_PASSWORD_LENGTH, hash_password
from medic.domain import InvalidInputError, MedicError
from medic.domain.access import Role
from medic.settings import Settings, load_settings
from medic.store import Store

__all__ = ["users_app"]

users_app = typer.Typer(
    help="Local users: who signs in to the web UI with a password, with which role.",
    no_args_is_help=True,
)

console = Console()
errors = Console(stderr=True)

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        errors.print(f"[red]invalid configuration:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _fail(message: str, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/] {escape(message)}")
    return typer.Exit(code)


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first: str = typer.prompt("Password", hide_input=True)
    again: str = typer.prompt("Again", hide_input=True)
    if first != again:
        raise _fail("the two passwords differ")
    return first


@users_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The user name approvals and the audit record.")],
    role: Annotated[Role, typer.Option(help="viewer, approver or admin.")] = Role.VIEWER,
) -> None:
    """Add a user, or set a known user's password and role."""
    if not NAME.fullmatch(name):
        raise _fail("a user name is 1 to 64 letters, digits or . _ @ - (starting alphanumeric)")
    try:
        hashed = hash_password(_password())
    except InvalidInputError as exc:
        raise _fail(f"{exc} (at least {MIN_PASSWORD_LENGTH})") from exc
    settings = _settings()
    try:
        with Store(settings.effective_database_url) as store:
            store.migrate()
            new = store.users.put(name, role, hashed, datetime.now(UTC))
    except MedicError as exc:
        raise _fail(str(exc), 2) from exc
    verb = "added" if new else "updated"
    console.print(f"user {escape(name)} {verb} with the role {role.value}")


@users_app.command("list")
def list_users() -> None:
    """The local users and their roles (never their passwords)."""
    settings = _settings()
    try:
        with Store(settings.effective_database_url) as store:
            found = store.users.all()
    except MedicError as exc:
        raise _fail(str(exc), 2) from exc
    table = Table("name", "role", "since", "password changed")
    for user in found:
        table.add_row(
            escape(user.name),
            user.role.value,
            f"{user.created_at:%Y-%m-%d}",
            f"{user.updated_at:%Y-%m-%d}",
        )
    console.print(table)


@users_app.command("remove")
def remove(name: str) -> None:
    """Remove a user: its sessions end at its next request."""
    settings = _settings()
    try:
        with Store(settings.effective_database_url) as store:
            store.migrate()
            gone = store.users.remove(name)
    except MedicError as exc:
        raise _fail(str(exc), 2) from exc
    if not gone:
        raise _fail(f"no user {name!r}")
    console.print(f"user {escape(name)} removed")
