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


def test_a_misspelled_key_at_any_depth_is_an_error_naming_its_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "medic.yaml"
    monkeypatch.setenv("MEDIC_CONFIG", str(config))
    config.write_text("prometheus:\n  ulr: http://127.0.0.1:9090\n")
    with pytest.raises(ValidationError, match=r"prometheus\.ulr\s+Extra inputs"):
        load_settings()
    config.write_text("grouping:\n  storm_secs: 60\n")
    with pytest.raises(ValidationError, match=r"grouping\.storm_secs"):
        load_settings()
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("MEDIC_LOKI__TENNANT", "a")
    with pytest.raises(ValidationError, match=r"loki\.tennant"):
        load_settings()


def test_any_real_source_means_no_sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "absent.yaml"))
    assert load_settings().uses_sandbox
    for source in (
        {"prometheus": {"url": "http://p:9090"}},
        {"victoriametrics": {"url": "http://vm:8428"}},
        {"loki": {"url": "http://loki:3100"}},
        {"datadog": {"api_key": "k", "app_key": "a"}},
        {"kubernetes": {"enabled": True}},
    ):
        settings = load_settings(**source)
        assert not settings.uses_sandbox, source
        assert settings.real_sources == [next(iter(source))]
    assert load_settings(sandbox={"enabled": True}).uses_sandbox
    with pytest.raises(ValidationError, match="never mixes the sandbox"):
        load_settings(sandbox={"enabled": True}, prometheus={"url": "http://p:9090"})
    with pytest.raises(ValidationError, match="not both"):
        load_settings(prometheus={"url": "http://p"}, victoriametrics={"url": "http://vm"})
