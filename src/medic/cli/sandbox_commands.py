"""`medic sandbox list | export-openmetrics | serve`: the sandbox as a real Prometheus sees it."""

from __future__ import annotations

import json
import math
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from prometheus_client import CollectorRegistry, start_http_server
from rich.console import Console
from rich.table import Table

from medic.domain.errors import MedicError
from medic.sandbox import SimClock, list_scenarios, load_scenario
from medic.sandbox.exposition import LiveTelemetry, SandboxCollector
from medic.sandbox.openmetrics import write_openmetrics

__all__ = ["register"]

console = Console()
errors = Console(stderr=True)


def _fail(exc: MedicError) -> typer.Exit:
    errors.print(f"[red]error:[/] {exc}")
    return typer.Exit(2)


def _aligned_now(step: float) -> datetime:
    # "now = 0" on a step boundary, as the sandbox does: points fall on round Unix times.
    return datetime.fromtimestamp(math.floor(time.time() / step) * step, tz=UTC)


def _list(folder: Path, as_json: bool) -> None:
    rows: list[dict[str, str | int]] = []
    sources = [(name, "packaged") for name in list_scenarios()]
    if folder.is_dir():
        sources += [(str(p), str(folder)) for p in sorted(folder.glob("*.y*ml"))]
    for ref, where in sources:
        try:
            scenario = load_scenario(ref)
        except MedicError as exc:
            rows.append({"name": ref, "source": where, "services": 0, "description": str(exc)})
            continue
        rows.append(
            {
                "name": scenario.name if where == "packaged" else ref,
                "source": where,
                "services": len(scenario.services),
                "description": scenario.description.strip().splitlines()[0]
                if scenario.description.strip()
                else "",
            }
        )
    if as_json:
        print(json.dumps(rows))
        return
    table = Table()
    table.add_column("scenario (a name or a file)", no_wrap=True, max_width=48)
    table.add_column("services", justify="right", min_width=8)
    table.add_column("description", overflow="fold", max_width=60)
    for row in rows:
        table.add_row(*(str(row[k]) for k in ("name", "services", "description")))
    console.print(table)


def register(app: typer.Typer) -> None:
    @app.command("list")
    def list_command(
        folder: Annotated[
            Path, typer.Option("--dir", help="Also list the scenario files of this folder.")
        ] = Path("scenarios"),
        as_json: Annotated[bool, typer.Option("--json", help="One JSON array on stdout.")] = False,
    ) -> None:
        """List the packaged scenarios and those in ./scenarios (or --dir)."""
        _list(folder, as_json)

    @app.command("export-openmetrics")
    def export_openmetrics_command(
        scenario: Annotated[str, typer.Argument(help="A packaged scenario name or a file.")],
        out: Annotated[Path, typer.Argument(help="The OpenMetrics text file to write.")],
        hours: Annotated[
            float | None,
            typer.Option(help="Only the last H hours of history (default: all of it)."),
        ] = None,
        now: Annotated[
            datetime | None,
            typer.Option(help="The moment of the scenario's now = 0 (default: the present)."),
        ] = None,
    ) -> None:
        """Write SCENARIO's history as OpenMetrics, for `promtool tsdb create-blocks-from`."""
        try:
            loaded = load_scenario(scenario)
            origin = _aligned_now(loaded.step) if now is None else now.astimezone(UTC)
            done = write_openmetrics(loaded, out, origin=origin, hours=hours)
        except MedicError as exc:
            raise _fail(exc) from exc
        console.print(
            f"wrote {out}: {done.families} families, {done.series} series, {done.samples} "
            f"samples from {done.start.isoformat()} to {done.end.isoformat()}\n"
            f"backfill: promtool tsdb create-blocks-from openmetrics {out} DATA_DIR"
        )

    @app.command("serve")
    def serve_command(
        scenario: Annotated[str, typer.Argument(help="A packaged scenario name or a file.")],
        port: Annotated[int, typer.Option(help="Port of the /metrics endpoint.")] = 9464,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        speed: Annotated[
            float, typer.Option(min=0.001, help="Simulated seconds per real second.")
        ] = 1.0,
    ) -> None:
        """Run SCENARIO live and expose its series at /metrics for Prometheus to scrape."""
        try:
            loaded = load_scenario(scenario)
        except MedicError as exc:
            raise _fail(exc) from exc
        origin = _aligned_now(loaded.step)
        clock = SimClock(origin, origin.timestamp(), speed)
        collector = SandboxCollector(LiveTelemetry(loaded, origin, clock))
        collector.current()  # the first step before the first scrape
        registry = CollectorRegistry(auto_describe=False)
        registry.register(collector)
        server, thread = start_http_server(port, host, registry)
        console.print(
            f"serving {loaded.name} (namespace {loaded.namespace}) at "
            f"http://{host}:{server.server_port}/metrics, {speed:g}x real time; Ctrl-C stops"
        )
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        try:
            stop.wait()
        except KeyboardInterrupt:
            pass
        finally:
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
