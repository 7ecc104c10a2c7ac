"""`medic pause`/`resume` against a real HTTP server; `medic audit verify`/`export` on the
database directly (the server need not run)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import typer
import uvicorn
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from medic.api import ApiContext, create_app
from medic.api.control import router
from medic.cli.control import register
from medic.credentials import Credentials
from medic.domain.access import Role
from medic.domain.audit import AuditDraft, AuditKind
from medic.store import Store
from tests.action.fakes import T0, FakeClock
from tests.server import free_port, wait_until

app = typer.Typer()
register(app)
runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'medic.sqlite'}"
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no medic.yaml from the working directory
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MEDIC_DATABASE_URL", url)
    with Store(url) as store:
        store.migrate()
        for n in range(3):
            store.audit.append(
                AuditDraft(
                    at=T0 + timedelta(seconds=n),
                    actor="medic",
                    kind=AuditKind.EXECUTION,
                    outcome="succeeded",
                    incident_id="inc-1",
                    data={"n": n},
                )
            )
    return url


def test_verify_reports_an_intact_log(env: str) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "audit log intact: 3 entries verified" in result.output


def test_verify_names_the_first_tampered_entry_and_exits_1(env: str) -> None:
    engine = create_engine(env)
    with engine.begin() as connection:
        connection.execute(text("UPDATE medic_audit SET outcome = 'failed' WHERE seq = 2"))
    engine.dispose()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "audit log broken at entry 2" in result.output
    assert "edited" in result.output


def test_export_writes_json_lines_oldest_first(env: str, tmp_path: Path) -> None:
    out = tmp_path / "audit.jsonl"
    result = runner.invoke(app, ["audit", "export", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(e["seq"], e["data"]["n"]) for e in lines] == [(1, 0), (2, 1), (3, 2)]
    assert lines[1]["prev_hash"] == lines[0]["hash"]

    to_stdout = runner.invoke(app, ["audit", "export"])
    assert to_stdout.output.splitlines() == out.read_text().splitlines()


def test_verify_on_a_database_never_migrated_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIC_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.sqlite'}")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2
    assert "was never created" in " ".join(result.output.split())
    assert "no such table" not in result.output


@pytest.fixture
def server(env: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    store = Store(env)
    ctx = ApiContext(
        store=store,
        credentials=Credentials(
            webhook_tokens={},
            users={"alice": "alice-token", "bob": "bob-token"},
            roles={"alice": Role.ADMIN},  # bob has the default role: approver
        ),
        clock=FakeClock(),
        base_url="http://127.0.0.1",
        routers=(router,),
    )
    port = free_port()
    config = uvicorn.Config(create_app(ctx), port=port, log_config=None, access_log=False)
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, daemon=True)
    thread.start()
    wait_until("the server to start", lambda: running.started, timeout=20)
    monkeypatch.setenv("MEDIC_PORT", str(port))
    monkeypatch.setenv("MEDIC_TOKEN", "alice-token")
    try:
        yield store
    finally:
        running.should_exit = True
        thread.join(timeout=10)
        store.close()


def test_pause_and_resume_through_the_server(server: Store) -> None:
    paused = runner.invoke(app, ["pause", "--reason", "db migration"])
    assert paused.exit_code == 0, paused.output
    assert "medic is paused by alice" in paused.output
    state = server.control.pause_state()
    assert (state.paused, state.reason) == (True, "db migration")

    resumed = runner.invoke(app, ["resume"])
    assert resumed.exit_code == 0, resumed.output
    assert not server.control.pause_state().paused
    assert runner.invoke(app, ["audit", "verify"]).exit_code == 0


def test_pause_with_a_wrong_token_is_refused(
    server: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIC_TOKEN", "nope")
    result = runner.invoke(app, ["pause"])
    assert result.exit_code == 1
    assert "invalid bearer token (HTTP 401)" in result.output
    assert not server.control.pause_state().paused


def test_pause_by_a_user_who_is_not_an_admin_names_the_role_needed(
    server: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDIC_TOKEN", "bob-token")
    result = runner.invoke(app, ["pause"])
    assert result.exit_code == 1
    assert "user 'bob' has the role approver; this needs admin (HTTP 403)" in result.output
    assert "ask an admin" in result.output
    assert not server.control.pause_state().paused
