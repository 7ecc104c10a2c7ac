"""`medic users add|list|remove` on the database directly; what it stores signs in."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from medic.cli import app
from medic.credentials import Credentials
from medic.domain.access import Role
from medic.store import Store
from medic.web.session import SignIn
from medic.web.signin import Desk

runner = CliRunner()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    database = f"sqlite:///{tmp_path / 'medic.sqlite'}"
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MEDIC_DATABASE_URL", database)
    return database


def test_a_user_added_with_a_password_from_stdin_can_sign_in(url: str) -> None:
    added = runner.invoke(
        app, ["users", "add", "priya", "--role", "approver"], input="correct horse battery\n"
    )
    assert added.exit_code == 0, added.output
    assert "user priya added with the role approver" in added.output
    with Store(url) as store:
        kept = store.users.get("priya")
        assert kept is not None and kept.role is Role.APPROVER
        assert "correct horse battery" not in kept.password_hash
        desk = Desk(Credentials(webhook_tokens={}, users={}), store.users)
        signed = desk.sign_in({"username": "priya", "password": "correct horse battery"})
        assert signed is not None and (signed.user, signed.via) == ("priya", SignIn.PASSWORD)
        assert desk.sign_in({"username": "priya", "password": "correct horse batter"}) is None

    listed = runner.invoke(app, ["users", "list"])
    assert listed.exit_code == 0, listed.output
    assert "priya" in listed.output and "approver" in listed.output
    assert "argon2" not in listed.output


def test_adding_again_changes_the_password_and_role(url: str) -> None:
    runner.invoke(app, ["users", "add", "priya"], input="correct horse battery\n")
    again = runner.invoke(
        app, ["users", "add", "priya", "--role", "admin"], input="another long secret\n"
    )
    assert again.exit_code == 0, again.output
    assert "user priya updated with the role admin" in again.output
    with Store(url) as store:
        desk = Desk(Credentials(webhook_tokens={}, users={}), store.users)
        assert desk.sign_in({"username": "priya", "password": "correct horse battery"}) is None
        assert desk.sign_in({"username": "priya", "password": "another long secret"})
        kept = store.users.get("priya")
        assert kept is not None and kept.role is Role.ADMIN


@pytest.mark.parametrize(
    ("args", "password", "problem"),
    [
        (["users", "add", "priya"], "short\n", "at least 8 characters"),
        (["users", "add", "bad name"], "correct horse battery\n", "a user name is"),
        (["users", "add", "priya", "--role", "root"], "correct horse battery\n", "root"),
    ],
)
def test_a_bad_name_password_or_role_adds_nobody(
    url: str, args: list[str], password: str, problem: str
) -> None:
    result = runner.invoke(app, args, input=password)
    assert result.exit_code != 0
    assert problem in result.output
    with Store(url) as store:
        store.migrate()
        assert store.users.all() == []


def test_remove(url: str) -> None:
    runner.invoke(app, ["users", "add", "priya"], input="correct horse battery\n")
    assert runner.invoke(app, ["users", "remove", "priya"]).exit_code == 0
    missing = runner.invoke(app, ["users", "remove", "priya"])
    assert missing.exit_code == 1
    assert "no user 'priya'" in missing.output
