"""`medic sandbox …`: the built-in simulated cluster, outside the loop."""

from __future__ import annotations

import typer

__all__ = ["sandbox_app"]

sandbox_app = typer.Typer(
    help="The simulated cluster: list scenarios, export telemetry, serve /metrics.",
    no_args_is_help=True,
)


def _register_commands() -> None:
    from medic.cli import sandbox_commands, sandbox_rca

    sandbox_rca.register(sandbox_app)
    sandbox_commands.register(sandbox_app)


_register_commands()
