"""`medic bench nab DIR`: medic's streaming detectors (CAD OSE as `medic`, and the older
robust-statistics `streaming` one) on the NAB corpus, scored as NAB scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from medic.bench.nab import run_nab
from medic.bench.nab_detectors import DETECTORS
from medic.bench.report import emit
from medic.domain.errors import MedicError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("nab")
    def nab(
        directory: Annotated[
            Path, typer.Argument(help="The NAB corpus (data/, labels/, config/).")
        ],
        detector: Annotated[str, typer.Option(help=f"One of: {', '.join(DETECTORS)}.")] = "medic",
        workers: Annotated[
            int | None, typer.Option(help="Processes to stream files in (default: all cores).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Stream every NAB file through a detector and score it with NAB's method."""
        try:
            report = run_nab(directory, detector, workers)
        except MedicError as exc:
            Console(stderr=True).print(f"[red]nab:[/] {exc}")
            raise typer.Exit(2) from exc
        emit(report, as_json)
