"""`medic bench rca DIR [--json]`: offline root-cause ranking (BENCHMARK.md §2 and §3)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from medic.bench.rca import run_rca
from medic.bench.report import emit
from medic.domain.errors import MedicError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("rca")
    def rca(
        directory: Annotated[
            Path, typer.Argument(metavar="DIR", help="RCAEval-format cases (or one case).")
        ],
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Rank root causes on offline cases; report AC@1, AC@3 and Avg@5."""
        try:
            report = run_rca(directory)
        except MedicError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        emit(report, as_json)
