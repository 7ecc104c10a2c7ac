"""`medic bench ingest [--alerts N] [--concurrency C] [--batch B] [--json]`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from medic.bench.ingest import IngestRun, run_ingest
from medic.bench.report import emit
from medic.domain.errors import MedicError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest(
        alerts: Annotated[int, typer.Option(min=1, help="Distinct alerts to send.")] = 5000,
        concurrency: Annotated[int, typer.Option(min=1, help="Concurrent connections.")] = 32,
        batch: Annotated[
            int,
            typer.Option(min=1, help="Mean alerts per Alertmanager notification (1 to 2B-1 each)."),
        ] = 10,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object on stdout.")] = False,
    ) -> None:
        """Drive a fresh `medic serve` (SQLite) with concurrent Alertmanager notifications
        and redeliveries; report alerts/second, lost, duplicated and p99 ack latency."""
        try:
            report = run_ingest(IngestRun(alerts=alerts, concurrency=concurrency, batch=batch))
        except MedicError as exc:
            Console(stderr=True).print(f"[red]error:[/] {exc}")
            raise typer.Exit(2) from exc
        emit(report, as_json)
