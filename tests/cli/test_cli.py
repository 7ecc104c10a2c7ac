"""The CLI against a real `medic serve`, and `medic demo` end to end."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

import medic
from tests.server import MedicServer, wait_until


def _medic(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "medic", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        cwd=cwd,
        timeout=timeout,
        check=False,
    )


def test_version() -> None:
    result = _medic("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"medic {medic.__version__}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[MedicServer]:
    serve = MedicServer(
        tmp_path / "data",
        f"sqlite:///{tmp_path / 'data' / 'medic.sqlite'}",
        MEDIC_SANDBOX__SPEED="60",
        MEDIC_WATCHDOG__INTERVAL_SECONDS="1",
    )
    serve.start_timeout = 180.0  # a loaded machine starts it slowly
    with serve as running:
        yield running


def _cli_env(server: MedicServer) -> dict[str, str]:
    # The CLI finds the server and the generated operator token through the same settings.
    return {"MEDIC_DATA_DIR": str(server.data_dir), "MEDIC_PORT": str(server.port)}


def _awaiting(server: MedicServer) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        incidents = server.get("/incidents")
        if not incidents:
            return None
        detail: dict[str, Any] = server.get(f"/incidents/{incidents[0]['id']}")
        return detail if detail["state"] == "awaiting_approval" else None

    return dict(wait_until("an incident awaiting approval", check, timeout=240))


def test_list_show_and_approve_through_the_cli(server: MedicServer) -> None:
    env = _cli_env(server)
    detail = _awaiting(server)
    listed = _medic("incidents", "list", env={**env, "COLUMNS": "80"})
    assert listed.returncode == 0, listed.stderr
    assert detail["id"] in listed.stdout  # whole, on one line, even 80 columns wide
    assert "awaiting_approval" in listed.stdout
    as_json = _medic("incidents", "list", "--json", env=env)
    assert as_json.returncode == 0, as_json.stderr
    assert [i["id"] for i in json.loads(as_json.stdout)] == [detail["id"]]

    shown = _medic("incidents", "show", detail["id"], env=env)
    assert shown.returncode == 0, shown.stderr
    assert "kubectl rollout undo deployment/auth-service -n production" in shown.stdout
    assert f"http://127.0.0.1:{server.port}/ui/incidents/{detail['id']}" in shown.stdout
    shown_json = json.loads(_medic("incidents", "show", detail["id"], "--json", env=env).stdout)
    assert shown_json["plan_hash"] == detail["plan_hash"]

    approved = _medic("approve", detail["id"], env=env)
    assert approved.returncode == 0, approved.stderr
    assert f"approved plan {detail['plan_hash'][:12]}" in approved.stdout

    again = _medic("approve", detail["id"], env=env)
    assert again.returncode == 1
    assert "409" in again.stderr

    done = wait_until(
        "the incident to resolve",
        lambda: server.get(f"/incidents/{detail['id']}")["state"] in {"resolved", "escalated"},
        timeout=240,
    )
    assert done
    final = server.get(f"/incidents/{detail['id']}")
    assert final["state"] == "resolved"
    assert final["approvals"][0]["channel"] == "cli"


def test_reject_through_the_cli_records_the_reason(server: MedicServer) -> None:
    env = _cli_env(server)
    detail = _awaiting(server)
    rejected = _medic("reject", detail["id"], "--reason", "customer demo running", env=env)
    assert rejected.returncode == 0, rejected.stderr
    wait_until(
        "the incident to close as rejected",
        lambda: server.get(f"/incidents/{detail['id']}")["postmortem_path"],
        timeout=60,
    )
    final = server.get(f"/incidents/{detail['id']}")
    assert final["state"] == "rejected"
    assert final["executions"] == []
    assert "customer demo running" in Path(final["postmortem_path"]).read_text()


def test_cli_errors_name_the_problem(server: MedicServer, tmp_path: Path) -> None:
    missing = _medic("incidents", "show", "inc-missing", env=_cli_env(server))
    assert missing.returncode == 1
    assert "inc-missing" in missing.stderr
    down = _medic(
        "incidents", "list", env={"MEDIC_DATA_DIR": str(tmp_path / "x"), "MEDIC_PORT": "1"}
    )
    assert down.returncode == 1
    assert "is `medic serve` running?" in down.stderr


def test_demo_runs_the_closed_loop(tmp_path: Path) -> None:
    older = tmp_path / "medic-data" / "demo-20260101-000000-000000"
    older.mkdir(parents=True)
    with socket.socket() as taken:
        # 8700 busy (here or by someone else): the demo picks another port, and says it.
        with suppress(OSError):
            taken.bind(("127.0.0.1", 8700))
            taken.listen()
        result = _medic("demo", "--yes", "--json", cwd=tmp_path, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    hint = re.search(
        r"MEDIC_API_URL=http://127\.0\.0\.1:(\d+) MEDIC_DATA_DIR=(\S+) medic approve", result.stderr
    )
    assert hint, result.stderr[-3000:]
    assert hint[1] != "8700"
    assert f"http://127.0.0.1:{hint[1]}/ui/incidents/inc-" in result.stderr  # the console page
    kept = list((tmp_path / "medic-data").glob("demo-*"))
    assert kept == [tmp_path / hint[2]]  # the older demo's data is gone
    summary = json.loads(result.stdout)
    assert summary["status"] == "resolved"
    assert summary["recovered"] is True
    assert summary["root_cause"] == {
        "service": "auth-service",
        "category": "bad_deploy",
        "change": "v1.2.1",
    }
    assert summary["action"] == "rollout_undo"
    postmortem = Path(tmp_path, summary["postmortem_path"]).read_text()
    assert "auth-service" in postmortem
    assert "kubectl rollout undo deployment/auth-service -n production" in postmortem
    assert set(summary) == {
        "incident_id",
        "status",
        "root_cause",
        "action",
        "recovered",
        "postmortem_path",
        "seconds",
    }


def test_interactive_demo_asks_and_records_a_rejection(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "medic", "demo", "--json"],
        input="n\nnot during the launch\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Approve this plan?" in result.stderr
    assert "/incidents/inc-" in result.stderr  # the incident's URL in the API
    summary = json.loads(result.stdout)
    assert summary["status"] == "rejected"
    assert summary["recovered"] is False
    assert "not during the launch" in Path(tmp_path, summary["postmortem_path"]).read_text()


def test_an_unknown_scenario_says_where_scenarios_are_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    result = _medic("demo", "--yes", "--scenario", "no-such-thing", cwd=tmp_path)
    assert result.returncode == 1
    error = " ".join(result.stderr.split())
    assert "'no-such-thing'" in error
    assert "medic sandbox list" in error and "scenarios/" in error
    assert list(tmp_path.iterdir()) == []


def test_reading_commands_create_no_data_directory(tmp_path: Path) -> None:
    env = {"MEDIC_PORT": "1"}
    for args in (("incidents", "list"), ("audit", "verify"), ("audit", "export"), ("doctor",)):
        result = _medic(*args, env=env, cwd=tmp_path, timeout=120)
        assert "Traceback" not in result.stderr, result.stderr
        assert not (tmp_path / "medic-data").exists(), args
    never = _medic("audit", "verify", cwd=tmp_path)
    assert never.returncode == 2 and "was never created" in never.stderr


def test_help_shows_no_type_tags_on_flags() -> None:
    for args in ((), ("demo",), ("incidents", "list"), ("doctor",)):
        result = _medic(*args, "--help", env={"COLUMNS": "80"})
        assert result.returncode == 0, result.stderr
        assert "<bool>" not in result.stdout, result.stdout
        assert "--version" in result.stdout or "--help" in result.stdout
    listed = _medic("incidents", "list", "--help").stdout
    assert "<int>" in listed  # an option that takes a value keeps its type


def test_invalid_scenario_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: broken\nhistory: 1h\nstep: 15s\nservices:\n  - {name: a, calls: [b]}\n")
    result = _medic("demo", "--yes", "--scenario", str(bad), cwd=tmp_path)
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert "'b'" in result.stderr


def test_serve_with_an_unreachable_database_says_so(tmp_path: Path) -> None:
    url = "postgresql+psycopg://medic:secret@127.0.0.1:1/medic"
    result = _medic(
        "serve", env={"MEDIC_DATA_DIR": str(tmp_path), "MEDIC_DATABASE_URL": url}, timeout=60
    )
    assert result.returncode == 1
    assert "127.0.0.1:1" in result.stderr
    assert "secret" not in result.stderr  # the password is never printed
    assert "Traceback" not in result.stderr
