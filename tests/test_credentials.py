"""Users' tokens, roles and CLI tokens: configured, generated, and read from a
`credentials.json` written before roles existed; what the CLI picks to send."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from medic.cli.client import client_token
from medic.credentials import Credentials, load_or_create
from medic.domain.access import AuthChannel, Role
from medic.settings import Settings, UserSettings


def test_a_fresh_install_gets_one_admin_with_an_api_and_a_cli_token(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    made = load_or_create(path, {}, {})
    assert list(made.users) == ["operator"]
    assert made.role_of("operator") is Role.ADMIN
    api = made.principal(made.users["operator"])
    cli = made.principal(made.cli_tokens["operator"])
    assert api is not None and (api.name, api.channel) == ("operator", AuthChannel.API)
    assert cli is not None and (cli.name, cli.channel) == ("operator", AuthChannel.CLI)
    assert made.cli_token() == made.cli_tokens["operator"]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path, {}, {}) == made  # read again, nothing regenerated


def test_a_file_from_before_roles_keeps_its_owner_an_admin(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"webhooks": {}, "users": {"operator": "old-token"}}))
    read = load_or_create(path, {}, {})
    assert read.principal("old-token") is not None
    assert read.role_of("operator") is Role.ADMIN
    assert read.cli_token() == "old-token"  # no CLI token: the CLI uses the API token
    assert json.loads(path.read_text())["roles"] == {"operator": "admin"}


def test_configured_users_take_the_default_role_unless_given_one() -> None:
    settings = Settings(
        users={
            "old": "old-style-token",
            "vera": UserSettings(token="vera-token", role=Role.VIEWER),
            "ada": {"token": "ada-token", "role": "admin", "cli_token": "ada-cli"},
        },
    )
    assert settings.user_tokens == {
        "old": "old-style-token",
        "vera": "vera-token",
        "ada": "ada-token",
    }
    made = Credentials(
        webhook_tokens={},
        users=settings.user_tokens,
        roles=settings.user_roles,
        cli_tokens=settings.user_cli_tokens,
        default_role=settings.auth.default_role,
    )
    assert made.role_of("old") is Role.APPROVER
    assert made.role_of("vera") is Role.VIEWER
    assert made.role_of("ada") is Role.ADMIN
    assert made.principal("nobody") is None


def test_an_unknown_role_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="viewer"):
        Settings(users={"x": {"token": "t", "role": "root"}})


def test_the_cli_sends_the_first_admins_cli_token_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIC_CONFIG", raising=False)
    monkeypatch.delenv("MEDIC_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    empty = Settings(data_dir=tmp_path / "nowhere")
    assert client_token(empty) is None
    assert not (tmp_path / "nowhere").exists()

    configured = Settings(
        users={
            "amir": {"token": "amir-token"},
            "ada": {"token": "ada-token", "role": "admin", "cli_token": "ada-cli"},
        }
    )
    assert client_token(configured) == "ada-cli"
    assert client_token(Settings(token="explicit")) == "explicit"
