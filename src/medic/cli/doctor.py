"""`medic doctor`: check every configured integration and say what works and what doesn't.

The integrations come from the composition root (`medic.bootstrap.integrations`),
which builds them from the configuration; with none configured they are the
embedded defaults (the store and the sandbox). Every check runs at once, each with
a timeout. Exit status: 0 when all work, 1 otherwise, 2 for invalid configuration.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medic.domain.errors import MedicError
from medic.integrations import Integration, Result, check_all
from medic.settings import Settings, load_settings

__all__ = ["register", "results_table"]

IntegrationsFor = Callable[[Settings], Sequence[Integration]]


def _configured(settings: Settings) -> Sequence[Integration]:
    from medic.bootstrap import integrations  # the composition root is heavy: load on use

    return integrations(settings)


def results_table(results: Sequence[Result]) -> Table:
    table = Table(title="medic doctor", title_justify="left")
    table.add_column("integration", style="bold", no_wrap=True)
    table.add_column("status", justify="center", no_wrap=True)
    table.add_column("detail", overflow="fold")
    table.add_column("time", justify="right", no_wrap=True)
    for result in results:
        name = f"{result.name} ({result.kind})" if result.kind else result.name
        status = "[green]✓[/]" if result.ok else "[red]✗[/]"
        # The detail may quote a server's answer: print it as text, never as markup.
        table.add_row(name, status, _plain(result.detail), f"{result.seconds:.2f}s")
    return table


def _plain(text: str) -> str:
    return text.replace("[", "\\[")


def _as_json(results: Sequence[Result]) -> str:
    return json.dumps(
        {
            "ok": all(r.ok for r in results),
            "integrations": [
                {
                    "name": r.name,
                    "kind": r.kind,
                    "ok": r.ok,
                    "detail": r.detail,
                    "error": r.error or None,
                    "seconds": round(r.seconds, 3),
                }
                for r in results
            ],
        },
        indent=2,
    )


@contextmanager
def _scratch_data_dir(settings: Settings, note: Console) -> Iterator[Settings]:
    """`settings`, or, when its data directory does not exist, the same settings on a
    throwaway one: a check only reads, it never leaves a `medic-data` behind."""
    if settings.data_dir.exists():
        yield settings
        return
    note.print(
        f"{_plain(str(settings.data_dir))} does not exist yet (`medic serve` creates it): "
        "checking with a throwaway data directory"
    )
    with tempfile.TemporaryDirectory(prefix="medic-doctor-") as scratch:
        yield settings.model_copy(update={"data_dir": Path(scratch)})


def register(app: typer.Typer, integrations_for: IntegrationsFor | None = None) -> None:
    """Add `medic doctor` to `app`; `integrations_for` replaces the composition root's
    builder (tests pass fakes)."""

    @app.command()
    def doctor(
        json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
        timeout: Annotated[
            float, typer.Option(min=0.1, help="Seconds each check may take.")
        ] = 10.0,
    ) -> None:
        """Check every configured integration: what works and what doesn't."""
        out, errors = Console(), Console(stderr=True)
        try:
            settings = load_settings()
        except ValueError as exc:
            errors.print(f"[red]invalid configuration:[/] {_plain(str(exc))}")
            raise typer.Exit(2) from exc
        with _scratch_data_dir(settings, errors) as checked:
            try:
                integrations = (integrations_for or _configured)(checked)
            except MedicError as exc:
                errors.print(f"[red]cannot set up the integrations:[/] {_plain(str(exc))}")
                raise typer.Exit(1) from exc
            results = check_all(integrations, timeout_seconds=timeout)
        if json_output:
            print(_as_json(results))
        else:
            out.print(results_table(results))
            working = sum(r.ok for r in results)
            out.print(f"{working} of {len(results)} integrations work")
        raise typer.Exit(0 if all(r.ok for r in results) else 1)
