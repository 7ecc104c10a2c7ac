"""The one shape every suite reports: `{"suite": NAME, "cases": [...], "summary": {...}}`."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rich.console import Console
from rich.table import Table

__all__ = ["Report", "emit"]


@dataclass(frozen=True)
class Report:
    suite: str
    cases: Sequence[Mapping[str, object]]
    summary: Mapping[str, object]
    columns: Sequence[str] = field(default_factory=tuple)  # per-case columns for the table

    def to_json(self) -> dict[str, object]:
        return {
            "suite": self.suite,
            "cases": [dict(c) for c in self.cases],
            "summary": dict(self.summary),
        }


def _cell(value: object) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.3f}".rstrip("0").rstrip(".")
    if value is None:
        return "-"
    return str(value)


def emit(report: Report, as_json: bool, console: Console | None = None) -> None:
    """Print `report`: one JSON object on stdout, or Rich tables (cases, then summary)."""
    if as_json:
        print(json.dumps(report.to_json(), default=str))
        return
    out = console or Console()
    if report.cases:
        columns = list(report.columns) or list(report.cases[0].keys())
        table = Table(title=f"{report.suite}: cases")
        for column in columns:
            table.add_column(column.replace("_", " "), overflow="fold")
        for case in report.cases:
            table.add_row(*(_cell(case.get(c)) for c in columns))
        out.print(table)
        for case in report.cases:
            if case.get("error"):
                out.print(f"[red]{case.get('name')}[/]: {case['error']}", markup=True)
    summary = Table(title=f"{report.suite}: summary")
    summary.add_column("metric")
    summary.add_column("value", justify="right")
    for key, value in report.summary.items():
        summary.add_row(key, _cell(value))
    out.print(summary)
