"""Configuration: medic.yaml, then MEDIC_* variables, then explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from medic.settings import load_settings


def test_file_then_environment_then_overrides(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text("port: 9000\nsandbox:\n  speed: 30\napproval:\n  timeout_seconds: 60\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    monkeypatch.setenv("MEDIC_SANDBOX__SPEED", "90")
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))
    settings = load_settings(host="0.0.0.0")
    assert settings.port == 9000  # from the file
    assert settings.sandbox.speed == 90  # the environment wins over the file
    assert settings.approval.timeout_seconds == 60
    assert settings.host == "0.0.0.0"  # explicit overrides win over everything
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'data' / 'medic.sqlite'}"
    assert settings.effective_api_url == "http://0.0.0.0:9000"


def test_a_typo_in_the_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "medic.yaml"
    config.write_text("approval:\n  autonomy: yolo\n")
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    with pytest.raises(ValidationError, match="autonomy"):
        load_settings()
    config.write_text("prot: 8700\n")
    with pytest.raises(ValidationError, match="prot"):
        load_settings()
