"""`medic sandbox export-rca SCENARIO OUT`: a scenario as an offline root-cause case."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from medic.domain.errors import MedicError
from medic.sandbox.rca_export import export_rca

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("export-rca")
    def export_rca_command(
        scenario: Annotated[str, typer.Argument(help="A packaged scenario name or a file.")],
        out: Annotated[Path, typer.Argument(help="The case directory to write.")],
    ) -> None:
        """Write SCENARIO as an RCAEval-format case (BENCHMARK.md §2) in OUT."""
        try:
            done = export_rca(scenario, out)
        except MedicError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        truth = done.truth or "none"
        Console().print(
            f"wrote {done.directory}: {len(done.services)} services, {done.columns} metric "
            f"columns, {done.rows} rows; truth: {truth}"
        )
