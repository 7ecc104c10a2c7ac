"""`medic bench …`: the benchmark suites of BENCHMARK.md §3.

Each suite's command lives in its own module with a `register(app)` function.
"""

from __future__ import annotations

import typer

__all__ = ["bench_app"]

bench_app = typer.Typer(
    help="Measure medic: scenarios, rca, nab, logs, ingest (BENCHMARK.md §3).",
    no_args_is_help=True,
)


def _register_suites() -> None:
    from medic.cli import bench_rca, bench_scenarios

    bench_scenarios.register(bench_app)
    bench_rca.register(bench_app)
    from medic.cli.bench_ingest import register as register_ingest

    register_ingest(bench_app)
    from medic.cli.bench_logs import register as register_logs

    register_logs(bench_app)
    from medic.cli.bench_nab import register as register_nab

    register_nab(bench_app)


_register_suites()
