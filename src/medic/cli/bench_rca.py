"""`medic bench rca DIR [--baselines] [--no-inject-time] [--json]` (BENCHMARK.md §2, §3)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from medic.bench.rca import run_rca
from medic.bench.report import emit
from medic.domain.errors import MedicError

__all__ = ["register", "comparison_table"]

_FIGURES = ("ac_at_1", "ac_at_3", "avg_at_5")


def register(app: typer.Typer) -> None:
    @app.command("rca")
    def rca(
        directory: Annotated[
            Path, typer.Argument(metavar="DIR", help="RCAEval-format cases (or one case).")
        ],
        baselines: Annotated[
            bool,
            typer.Option("--baselines", help="Also score random, N-sigma and BARO on the cases."),
        ] = False,
        no_inject_time: Annotated[
            bool,
            typer.Option(
                "--no-inject-time", help="Ignore inject_time.txt: find the onset from the data."
            ),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Rank root causes on offline cases; report AC@1, AC@3, Avg@5 and conclusiveness."""
        try:
            report = run_rca(directory, baselines=baselines, use_inject_time=not no_inject_time)
        except MedicError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        flat = {k: v for k, v in report.summary.items() if not isinstance(v, Mapping)}
        if as_json:
            emit(report, True)
            return
        emit(type(report)(report.suite, report.cases, flat, report.columns), False)
        console = Console(width=max(Console().width, 120))
        for key in ("by_dataset", "by_fault"):
            console.print(comparison_table(report.summary, key))


def comparison_table(summary: Mapping[str, object], key: str) -> Table:
    """medic beside each baseline (and the best of them) per dataset or fault type."""
    table = Table(title=f"rca: {key.replace('_', ' ')}")
    table.add_column(key.split("_", 1)[1])
    table.add_column("cases", justify="right")
    table.add_column("medic AC@1/AC@3/Avg@5", justify="right")
    baselines = summary.get("baselines")
    methods = dict(baselines) if isinstance(baselines, Mapping) else {}
    for method in methods:
        table.add_column(method, justify="right")
    if methods:
        table.add_column("best", justify="right")
    groups = summary.get(key)
    for name, figures in groups.items() if isinstance(groups, Mapping) else []:
        row = [str(name), str(figures.get("cases")), _figures(figures)]
        best: tuple[float, str] | None = None
        for method, per in methods.items():
            group = per.get(key, {}).get(name, {}) if isinstance(per, Mapping) else {}
            row.append(_figures(group))
            ac1 = group.get("ac_at_1")
            if isinstance(ac1, float) and (best is None or ac1 > best[0]):
                best = (ac1, method)
        if methods:
            row.append(f"{best[1]} {best[0]:.3f}" if best else "-")
        table.add_row(*row)
    return table


def _figures(figures: Mapping[str, object]) -> str:
    values = [figures.get(f) for f in _FIGURES]
    return "/".join(f"{v:.3f}" if isinstance(v, float) else "-" for v in values)
