"""`medic bench scenarios [PATHS] [--json] [--llm none|scripted]`."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from medic.bench.report import emit
from medic.bench.scenario_case import CaseConfig
from medic.bench.scenarios import discover, run_suite

__all__ = ["register"]


class BenchLlm(StrEnum):
    NONE = "none"
    SCRIPTED = "scripted"  # medic.bench.scripted_llm: the real agent, a scripted model


def register(app: typer.Typer) -> None:
    @app.command("scenarios")
    def scenarios(
        paths: Annotated[
            list[Path] | None, typer.Argument(help="Scenario files or directories.")
        ] = None,
        json_output: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
        jobs: Annotated[int | None, typer.Option(help="Cases run in parallel.")] = None,
        scan_every: Annotated[
            float, typer.Option(help="Simulated seconds between two watchdog scans.")
        ] = 120.0,
        timeout: Annotated[float, typer.Option(help="Real seconds per case at most.")] = 900.0,
        llm: Annotated[
            BenchLlm,
            typer.Option(
                help="The LLM agent: none, or scripted (the real agent driven by a scripted "
                "model that bills tokens like a provider; for llm_tokens_per_case)."
            ),
        ] = BenchLlm.NONE,
    ) -> None:
        """Run scenarios through the real loop (auto-approving policy) and score them."""
        files = discover(paths or [Path("scenarios")])
        if not files:
            raise typer.BadParameter("no scenario files found", param_hint="PATHS")
        console = Console(stderr=json_output)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress:
            task = progress.add_task("scenarios", total=len(files))

            def done(case: dict[str, object]) -> None:
                mark = "[red]failed[/]" if case.get("error") else "done"
                progress.console.print(f"{mark} {case['name']}")
                progress.advance(task)

            report = run_suite(
                files,
                CaseConfig(
                    scan_every_s=scan_every,
                    timeout_s=timeout,
                    llm=None if llm is BenchLlm.NONE else llm.value,
                ),
                jobs,
                done,
            )
        emit(report, json_output, console)
