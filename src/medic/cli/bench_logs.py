"""`medic bench logs DIR [--json]`: template mining on Loghub-2k (BENCHMARK.md §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from medic.bench.logs import run_logs
from medic.bench.report import emit
from medic.domain.errors import MedicError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("logs")
    def logs(
        directory: Annotated[
            Path,
            typer.Argument(metavar="DIR", help="A Loghub-2k directory (<System>/<System>_2k.log)."),
        ],
        system: Annotated[
            list[str] | None,
            typer.Option("--system", help="Only this system (repeatable), e.g. HDFS."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Mine log templates; report grouping accuracy, parsing accuracy and lines/second."""
        try:
            report = run_logs(directory, system or None)
        except MedicError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        emit(report, as_json)
