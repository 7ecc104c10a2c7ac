"""`medic pause` and `medic resume` (the kill switch), and `medic audit verify|export`.

`pause`/`resume` talk to the running server over HTTP (like `medic approve`), so the
change is authenticated and audited as the user whose token the CLI uses. `audit
verify` and `audit export` read the database directly (MEDIC_DATABASE_URL, or the
SQLite file in the data directory): they must work when the server does not.
Exit status: 0 fine, 1 a broken chain or a refused request, 2 invalid configuration
or an unreadable database.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url

from medic.action.audit import export_line, verify_chain
from medic.cli.client import client_token
from medic.cli.control_client import ControlClient
from medic.cli.readonly import missing_store
from medic.domain import MedicError
from medic.settings import Settings, load_settings
from medic.store import Store
from medic.store.audit_seal import audit_key, read_checkpoints

__all__ = ["audit_app", "register"]

audit_app = typer.Typer(help="Verify and export the hash-chained audit log.", no_args_is_help=True)

console = Console()
errors = Console(stderr=True)


def register(app: typer.Typer) -> None:
    app.command()(pause)
    app.command()(resume)
    app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    try:
        return load_settings()
    except ValueError as exc:
        errors.print(f"[red]invalid configuration:[/] {escape(str(exc))}")
        raise typer.Exit(2) from exc


def _client(settings: Settings) -> ControlClient:
    return ControlClient(settings.effective_api_url, client_token(settings))


def _fail(exc: MedicError, code: int = 1) -> typer.Exit:
    errors.print(f"[red]error:[/] {escape(str(exc))}")
    return typer.Exit(code)


def pause(
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "",
) -> None:
    """Kill switch: stop every action of every medic process until `medic resume`."""
    client = _client(_settings())
    try:
        state = client.pause(reason)
    except MedicError as exc:
        raise _fail(exc) from exc
    console.print(f"medic is paused by {escape(state['actor'])}; nothing will be executed")


def resume(
    reason: Annotated[str, typer.Option(help="Why (recorded in the audit log).")] = "",
) -> None:
    """Lift the kill switch: medic acts again, within its policy."""
    client = _client(_settings())
    try:
        state = client.resume(reason)
    except MedicError as exc:
        raise _fail(exc) from exc
    console.print(f"medic is resumed by {escape(state['actor'])}")


def _store(settings: Settings) -> Store:
    try:
        return Store(settings.effective_database_url)
    except MedicError as exc:
        raise _fail(exc, 2) from exc


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the hash chain, check its seals and the checkpoints kept outside the
    database; say what is proven. Exit 1 and name the first broken entry if tampered."""
    settings = _settings()
    try:
        key = audit_key(settings.audit.key, settings.audit_key_path, create=False)
        checkpoints, bad = read_checkpoints(settings.audit_checkpoint_path)
    except MedicError as exc:
        raise _fail(exc, 2) from exc
    if bad:
        errors.print(
            f"[red]audit checkpoints damaged:[/] line(s) {', '.join(map(str, bad[:5]))} of "
            f"{escape(str(settings.audit_checkpoint_path))} are not checkpoints"
        )
        raise typer.Exit(1)
    with _existing_store(settings, len(checkpoints)) as store:
        try:
            report = verify_chain(store.audit.entries(), store.audit.head(), key, checkpoints)
        except MedicError as exc:
            raise _fail(exc, 2) from exc
    if not report.intact:
        errors.print(
            f"[red]audit log broken at entry {report.broken_seq}:[/] {escape(report.problem)} "
            f"({report.checked} entries before it verified)"
        )
        raise typer.Exit(1)
    console.print(f"audit log intact: {report.checked} entries verified")
    for line in report.proofs():
        console.print(f"  - {escape(line)}")


def _existing_store(settings: Settings, checkpoints: int) -> Store:
    """The store, if it was ever created; else say so (exit 1 if checkpoints show that
    entries were appended to it, 2 if there is simply nothing to verify)."""
    url = make_url(settings.effective_database_url)
    missing = url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file()
    store = None if missing else _store(settings)
    try:
        present = store is not None and store.audit.present()
    except MedicError as exc:
        raise _fail(exc, 2) from exc
    if present and store is not None:
        return store
    if store is not None:
        store.close()
    where = escape(str(url.render_as_string(hide_password=True)))
    if checkpoints:
        errors.print(
            f"[red]audit log missing:[/] there is no medic store at {where}, yet "
            f"{checkpoints} checkpoints show entries were appended to it (deleted?)"
        )
        raise typer.Exit(1)
    errors.print(
        f"no audit log to verify: the medic store at {where} was never created "
        "(has `medic serve` run with this configuration?)"
    )
    raise typer.Exit(2)


@audit_app.command("export")
def audit_export(
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: standard output).")
    ] = None,
) -> None:
    """Write the audit log as JSON lines, oldest first."""
    settings = _settings()
    if (missing := missing_store(settings)) is not None:
        errors.print(f"no audit log yet: {missing} does not exist (nothing was recorded)")
        return
    with _store(settings) as store:
        try:
            if out is None:
                count = _write(store, sys.stdout)
            else:
                tmp = out.with_name(out.name + ".tmp")
                with tmp.open("w", encoding="utf-8") as file:
                    count = _write(store, file)
                tmp.replace(out)
        except MedicError as exc:
            raise _fail(exc, 2) from exc
        except OSError as exc:
            errors.print(f"[red]error:[/] cannot write {out}: {exc.strerror or exc}")
            raise typer.Exit(2) from exc
    if out is not None:
        console.print(f"{count} audit entries written to {out}")


def _write(store: Store, file: TextIO) -> int:
    count = 0
    for entry in store.audit.entries():
        file.write(export_line(entry) + "\n")
        count += 1
    return count
