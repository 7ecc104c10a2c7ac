"""The command line (Typer + Rich): `medic serve`, `medic demo`, incidents, approvals.

Owns: argument parsing, terminal rendering, exit codes. Must not: hold domain logic;
commands other than `serve` and `demo` talk to a running server through its HTTP API.
"""

from __future__ import annotations

import json
from typing import Annotated, Literal

import typer
from rich.console import Console

import medic
from medic.cli.bench import bench_app
from medic.cli.client import ApiClient, client_token
from medic.cli.control import register as register_control
from medic.cli.doctor import register as register_doctor
from medic.cli.help import hide_flag_types
from medic.cli.render import incident_panel, incidents_table
from medic.cli.sandbox import sandbox_app
from medic.cli.users import users_app
from medic.domain import MedicError
from medic.log import configure_logging
from medic.settings import Settings, load_settings

__all__ = ["app", "main"]

hide_flag_types()
app = typer.Typer(
    name="medic",
    help="A self-healing operations agent: detect, diagnose, propose, approve, act, verify.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
incidents_app = typer.Typer(help="List and show incidents.", no_args_is_help=True)
app.add_typer(incidents_app, name="incidents")
app.add_typer(bench_app, name="bench")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(users_app, name="users")
register_doctor(app)
register_control(app)

console = Console()
errors = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        console.print(f"medic {medic.__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """medic: the first responder an on-call team wishes it had."""


def _settings(**overrides: object) -> Settings:
    try:
        return load_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        errors.print(f"[red]invalid configuration:[/] {exc}")
        raise typer.Exit(2) from exc


def _with_sandbox(settings: Settings) -> Settings:
    if settings.real_sources:
        errors.print(
            "[red]invalid configuration:[/] --sandbox, but real sources are configured "
            f"({', '.join(settings.real_sources)}): medic never mixes the sandbox with them"
        )
        raise typer.Exit(2)
    enabled = settings.sandbox.model_copy(update={"enabled": True})
    return settings.model_copy(update={"sandbox": enabled})


def _client(settings: Settings) -> ApiClient:
    # Read-only: a CLI that only asks the server never creates the data directory.
    return ApiClient(settings.effective_api_url, client_token(settings))


def _fail(exc: MedicError) -> typer.Exit:
    errors.print(f"[red]error:[/] {exc}")
    return typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8700).")] = None,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Watch the built-in sandbox (no real source).")
    ] = False,
) -> None:
    """Run the API, the durable workflows and the watchdog."""
    from medic.bootstrap import serve as run

    settings = _settings(host=host, port=port)
    if sandbox:
        settings = _with_sandbox(settings)
    configure_logging(settings.log_format, settings.log_level)
    try:
        run(settings)
    except MedicError as exc:
        raise _fail(exc) from exc


@app.command()
def demo(
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Approve automatically.")] = False,
    scenario: Annotated[
        str | None, typer.Option(help="A built-in scenario name or a scenario file.")
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Run the closed loop on the built-in sandbox cluster, through the real server."""
    from medic.cli.demo import run_demo

    try:
        code = run_demo(scenario=scenario, auto_approve=yes, as_json=json_output)
    except MedicError as exc:
        raise _fail(exc) from exc
    raise typer.Exit(code)


_JSON = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


@incidents_app.command("list")
def incidents_list(
    limit: Annotated[int, typer.Option(help="How many.")] = 50, json_output: _JSON = False
) -> None:
    """List incidents, newest first (whole ids, ready to copy)."""
    client = _client(_settings())
    try:
        listed = client.incidents(limit)
    except MedicError as exc:
        raise _fail(exc) from exc
    if json_output:
        print(json.dumps(listed, indent=2))
        return
    console.print(incidents_table(listed, console.width))
    console.print(f"console: {client.base_url}/ui", soft_wrap=True)


@incidents_app.command("show")
def incidents_show(incident_id: str, json_output: _JSON = False) -> None:
    """Show one incident: diagnosis, plan, and the whole timeline."""
    client = _client(_settings())
    try:
        detail = client.incident(incident_id)
    except MedicError as exc:
        raise _fail(exc) from exc
    if json_output:
        print(json.dumps(detail, indent=2))
        return
    console.print(incident_panel(detail, f"{client.base_url}/ui/incidents/{incident_id}"))


def _decide(
    incident_id: str, verb: Literal["approve", "reject"], plan_hash: str | None, reason: str
) -> None:
    client = _client(_settings())
    try:
        if plan_hash is None:
            detail = client.incident(incident_id)
            plan_hash = detail.get("plan_hash")
            if not plan_hash:
                errors.print(f"[red]error:[/] incident {incident_id} has no plan to {verb}")
                raise typer.Exit(1)
        result = client.decide(incident_id, verb, plan_hash, reason)
    except MedicError as exc:
        raise _fail(exc) from exc
    console.print(
        f"{result['decision']} plan {result['plan_hash'][:12]} of {incident_id} "
        f"as {result['actor']}"
    )
    if result["decision"] == "pending":
        console.print("a high-risk plan: medic acts once a second approver approves it too")


@app.command()
def approve(
    incident_id: str,
    plan_hash: Annotated[
        str | None, typer.Option(help="Bind to this plan hash (default: the current plan).")
    ] = None,
) -> None:
    """Approve an incident's current plan."""
    _decide(incident_id, "approve", plan_hash, "")


@app.command()
def reject(
    incident_id: str,
    reason: Annotated[str, typer.Option(help="Why (recorded in the post-mortem).")],
    plan_hash: Annotated[str | None, typer.Option(help="Bind to this plan hash.")] = None,
) -> None:
    """Reject an incident's current plan."""
    _decide(incident_id, "reject", plan_hash, reason)


def main() -> None:
    app()
