"""`medic demo`: the closed loop on the built-in sandbox, through the real server.

The demo starts `medic serve`'s own components (store, DBOS workflows, watchdog, API)
on a fresh data directory, lets the watchdog find the scenario's fault, asks for the
approval in the terminal (or approves with --yes) through the HTTP API, and follows
the incident to its end. The sandbox runs faster than real time.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
from contextlib import closing, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import uvicorn
from rich.console import Console
from rich.prompt import Confirm, Prompt

from medic.bootstrap import Medic, build
from medic.cli.client import ApiClient
from medic.cli.render import plan_panel
from medic.domain import InvalidInputError, MedicError
from medic.log import configure_logging
from medic.sandbox import load_scenario
from medic.settings import Settings, load_settings

__all__ = ["run_demo"]

DEMO_SPEED = 120.0  # simulated seconds per real second
DEADLINE_S = 240.0
TERMINAL = {"resolved", "escalated", "rejected", "self_resolved"}
DEFAULT_PORT = 8700


def run_demo(scenario: str | None, auto_approve: bool, as_json: bool) -> int:
    started = time.monotonic()
    out = Console(stderr=as_json, highlight=False)
    name = scenario or "auth-memory-leak-after-deploy"
    _check_scenario(name)
    root = Path("medic-data")
    data_dir = root / f"demo-{datetime.now():%Y%m%d-%H%M%S-%f}"
    port = _free_port(DEFAULT_PORT)
    settings = load_settings(
        data_dir=data_dir,
        port=port,
        database_url=None,
        sandbox={"scenario": name, "speed": DEMO_SPEED},
        watchdog={"enabled": True, "interval_seconds": 2},
        verification={"window_seconds": 900.0, "poll_seconds": 15.0},
    )
    finished = False
    try:
        detail = _run(settings, data_dir, out, auto_approve)
        finished = detail["state"] in TERMINAL
    finally:
        if not finished:
            # A failed demo leaves nothing behind.
            shutil.rmtree(data_dir, ignore_errors=True)
            _remove_if_empty(root)
    _keep_only(root, data_dir)
    summary = _summary(detail, time.monotonic() - started)
    if as_json:
        print(json.dumps(summary))
    else:
        out.print(
            f"\n[bold]{summary['status']}[/] in {summary['seconds']:.1f}s — "
            f"post-mortem: {summary['postmortem_path']}\n"
            f"data (only the last demo's is kept): {data_dir}"
        )
    return 0


def _check_scenario(name: str) -> None:
    try:
        load_scenario(name)
    except InvalidInputError as exc:
        raise InvalidInputError(
            f"{exc}. A scenario is a built-in name (see `medic sandbox list`) or a YAML "
            "file such as scenarios/<name>.yaml"
        ) from exc


def _run(settings: Settings, data_dir: Path, out: Console, auto_approve: bool) -> dict[str, Any]:
    data_dir.mkdir(parents=True, exist_ok=True)
    with (data_dir / "medic.log").open("a", encoding="utf-8") as log_stream:
        configure_logging("json", "info", stream=log_stream)
        medic = build(settings)
        try:
            server = _start_server(medic, settings.port)
        except BaseException:
            medic.stop()
            raise
        try:
            api = settings.effective_api_url
            client = ApiClient(api, medic.credentials.cli_token())
            out.print(
                f"medic demo: scenario [bold]{medic.deps.namespace}/"
                f"{settings.sandbox.scenario}[/], data in {data_dir}\n"
                f"  console: [bold]{api}/ui[/] (sign in with the token in "
                f"{settings.credentials_path})\n  API: {api} (docs: {api}/docs)",
                soft_wrap=True,
            )
            return _follow(client, out, auto_approve, _Hint(api, data_dir))
        finally:
            server.should_exit = True
            medic.stop()


def _keep_only(root: Path, latest: Path) -> None:
    """Successive demos do not pile up: only the newest demo's directory stays."""
    for old in root.glob("demo-*"):
        if old.is_dir() and old.resolve() != latest.resolve():
            shutil.rmtree(old, ignore_errors=True)


def _remove_if_empty(root: Path) -> None:
    with suppress(OSError):  # not empty (other data) or already gone
        root.rmdir()


@dataclass(frozen=True)
class _Hint:
    """How another terminal reaches this demo: its real address and its credentials."""

    api_url: str
    data_dir: Path

    def command(self, *args: str) -> str:
        return f"MEDIC_API_URL={self.api_url} MEDIC_DATA_DIR={self.data_dir} medic {' '.join(args)}"


def _free_port(preferred: int) -> int:
    for candidate in (preferred, 0):
        with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            port: int = sock.getsockname()[1]
            return port
    raise MedicError("no free TCP port on 127.0.0.1")


def _start_server(medic: Medic, port: int) -> uvicorn.Server:
    medic.start()
    server = uvicorn.Server(
        uvicorn.Config(medic.api(), host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, name="medic-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise MedicError(f"the API server did not start on port {port}")
        time.sleep(0.05)
    return server


def _follow(client: ApiClient, out: Console, auto_approve: bool, hint: _Hint) -> dict[str, Any]:
    """Print the incident's timeline as it grows; answer the approval request."""
    deadline = time.monotonic() + DEADLINE_S
    seen = 0
    asked = False
    with out.status("watching the sandbox cluster…") as status:
        while time.monotonic() < deadline:
            incidents = client.incidents(limit=5)
            if not incidents:
                time.sleep(0.2)
                continue
            detail = client.incident(incidents[-1]["id"])
            if not seen:
                out.print(
                    f"incident {detail['id']}: {hint.api_url}/ui/incidents/{detail['id']}",
                    soft_wrap=True,
                )
            for entry in detail["timeline"][seen:]:
                out.print(
                    f"[green]✓[/] {entry['at'][11:19]} {entry['kind']:<12} "
                    f"{_plain(entry['message'])}"
                )
            seen = len(detail["timeline"])
            status.update(f"{detail['id']}: {detail['state']}…")
            if detail["state"] in TERMINAL and detail.get("postmortem_path"):
                return detail
            if detail["state"] == "awaiting_approval" and not asked:
                asked = True
                status.stop()
                _answer(client, out, detail, auto_approve, hint)
                status.start()
            time.sleep(0.2)
    raise MedicError(f"the incident did not finish within {DEADLINE_S:.0f}s")


def _answer(
    client: ApiClient, out: Console, detail: dict[str, Any], auto: bool, hint: _Hint
) -> None:
    out.print(plan_panel(detail))
    out.print(
        f"approve in the console: {hint.api_url}/ui/incidents/{detail['id']}\n"
        f"  or the API: POST {detail['url']}/approve\n"
        f"  or another terminal: {hint.command('approve', detail['id'])}",
        soft_wrap=True,
    )
    if auto:
        approved = True
    else:
        try:
            approved = Confirm.ask("Approve this plan?", console=out, default=False)
        except EOFError as exc:
            # Nobody can answer: reject, so the incident ends instead of waiting for hours.
            client.decide(detail["id"], "reject", detail["plan_hash"], _NO_TERMINAL)
            raise MedicError(f"{_NO_TERMINAL}; use --yes") from exc
    if approved:
        client.decide(detail["id"], "approve", detail["plan_hash"])
        return
    reason = Prompt.ask("Reason for rejecting", console=out, default="rejected in the demo")
    client.decide(detail["id"], "reject", detail["plan_hash"], reason)


_NO_TERMINAL = "no terminal to ask for approval"


def _plain(text: str) -> str:
    return text.replace("[", r"\[")


def _summary(detail: dict[str, Any], seconds: float) -> dict[str, Any]:
    diagnosis = detail.get("diagnosis") or {}
    hypotheses = diagnosis.get("hypotheses") or []
    cause = hypotheses[0]["root_cause"] if hypotheses and diagnosis.get("conclusive") else None
    plan = detail.get("plan") or {}
    immediate = plan.get("immediate") or []
    verification = detail.get("verification") or {}
    return {
        "incident_id": detail["id"],
        "status": detail["state"],
        "root_cause": cause,
        "action": immediate[0]["kind"] if immediate else None,
        "recovered": verification.get("outcome") == "recovered",
        "postmortem_path": detail.get("postmortem_path"),
        "seconds": round(seconds, 2),
    }
