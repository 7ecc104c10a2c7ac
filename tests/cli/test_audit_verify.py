"""`medic audit verify` on a log sealed as `medic serve` seals it (key file and
checkpoints in the data directory): every tampering of issue #12.6 exits 1, and the
output says what is proven and what is not."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import typer
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from medic.bootstrap.startup import audit_seal
from medic.cli.control import register
from medic.domain.audit import AuditDraft, AuditKind, chain_hash
from medic.settings import load_settings
from medic.store import Store
from tests.action.fakes import T0

app = typer.Typer()
register(app)
runner = CliRunner()


def _sql(url: str, *statements: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.delenv("MEDIC_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings()
    with Store(settings.effective_database_url, audit_seal(settings)) as store:
        store.migrate()
        for n, actor in enumerate(["medic", "alice", "medic"]):
            store.audit.append(
                AuditDraft(
                    at=T0 + timedelta(seconds=n),
                    actor=actor,
                    kind=AuditKind.APPROVAL if actor == "alice" else AuditKind.EXECUTION,
                    outcome="approved" if actor == "alice" else "succeeded",
                    incident_id="inc-1",
                    data={"n": n, "action": {"kind": "rollout_undo", "params": {"to": 2}}},
                )
            )
    return settings.effective_database_url


def _verify() -> tuple[int, str]:
    result = runner.invoke(app, ["audit", "verify"])
    return result.exit_code, " ".join(result.output.split())


def test_an_untouched_log_says_what_is_proven(url: str) -> None:
    code, output = _verify()
    assert code == 0, output
    assert "audit log intact: 3 entries verified" in output
    assert "3 entries carry a valid seal of the audit key" in output
    assert "chain intact up to checkpoint 3" in output


def test_every_row_and_the_head_deleted(url: str) -> None:
    _sql(url, "DELETE FROM medic_audit", "DELETE FROM medic_audit_head")
    code, output = _verify()
    assert code == 1 and "entries deleted" in output


def test_the_head_rewound_after_the_last_row_deleted(url: str) -> None:
    _sql(
        url,
        "DELETE FROM medic_audit WHERE seq = 3",
        "UPDATE medic_audit_head SET seq = 2, hash = (SELECT hash FROM medic_audit WHERE seq = 2)",
    )
    code, output = _verify()
    assert code == 1 and "broken at entry 3" in output


def test_an_approvers_name_rewritten_and_the_chain_recomputed(url: str) -> None:
    with Store(url) as store:  # no key: what someone with only database access has
        entries = list(store.audit.entries())
    prev, statements = entries[0].hash, []
    for entry in entries[1:]:
        actor = "mallory" if entry.actor == "alice" else entry.actor
        new = chain_hash(prev, entry.seq, replace(entry.draft, actor=actor))
        statements.append(
            f"UPDATE medic_audit SET actor = '{actor}', prev_hash = '{prev}', hash = '{new}' "
            f"WHERE seq = {entry.seq}"
        )
        prev = new
    _sql(url, *statements, f"UPDATE medic_audit_head SET hash = '{prev}'")
    code, output = _verify()
    assert code == 1 and "broken at entry 2" in output and "seal" in output


def test_a_nested_value_changed(url: str) -> None:
    changed = '{"n": 1, "action": {"kind": "rollout_undo", "params": {"to": 1}}}'
    _sql(url, f"UPDATE medic_audit SET data = '{changed}' WHERE seq = 2")
    code, output = _verify()
    assert code == 1 and "broken at entry 2" in output and "edited" in output


def test_the_database_removed_while_checkpoints_remain(url: str, tmp_path: Path) -> None:
    (tmp_path / "data" / "medic.sqlite").unlink()
    code, output = _verify()
    assert code == 1 and "3 checkpoints show entries were appended" in output


def test_a_data_directory_never_used_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.delenv("MEDIC_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "never"))
    code, output = _verify()
    assert code == 2 and "was never created" in output
    assert "no such table" not in output and "Traceback" not in output
    assert not (tmp_path / "never" / "medic.sqlite").exists()
