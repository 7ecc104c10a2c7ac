"""`medic sandbox …`: the built-in simulated cluster, outside the loop."""

from __future__ import annotations

import typer

__all__ = ["sandbox_app"]

sandbox_app = typer.Typer(
    help="The simulated cluster: list scenarios, export telemetry, serve /metrics.",
    no_args_is_help=True,
)
