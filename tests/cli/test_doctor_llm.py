"""`medic doctor` checks the LLM endpoint and the pagers when they are configured, over
real HTTP against fakes of the vendors' APIs, without spending tokens or paging."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.llm_server import FakeLLM, fake_llm
from tests.paging_server import GENIE_KEY, ROUTING_KEY, FakePaging, fake_paging


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def servers() -> Iterator[tuple[FakeLLM, FakePaging]]:
    with fake_llm() as llm, fake_paging() as paging:
        yield llm, paging


def _doctor() -> tuple[int, dict[str, dict[str, object]]]:
    from medic.cli import app

    result = CliRunner().invoke(app, ["doctor", "--json"])
    report = json.loads(result.stdout)
    return result.exit_code, {i["name"]: i for i in report["integrations"]}


def test_doctor_checks_the_configured_llm_and_pagers(
    servers: tuple[FakeLLM, FakePaging], monkeypatch: pytest.MonkeyPatch
) -> None:
    llm, paging = servers
    llm.api_key = "sk-ant-test"
    for key, value in {
        "MEDIC_LLM__PROVIDER": "anthropic",
        "MEDIC_LLM__MODEL": "fake-model",
        "MEDIC_LLM__BASE_URL": llm.url,
        "MEDIC_LLM__API_KEY": "sk-ant-test",
        "MEDIC_PAGERDUTY__ROUTING_KEY": ROUTING_KEY,
        "MEDIC_PAGERDUTY__URL": paging.url,
        "MEDIC_OPSGENIE__API_KEY": GENIE_KEY,
        "MEDIC_OPSGENIE__URL": paging.url,
    }.items():
        monkeypatch.setenv(key, value)
    code, found = _doctor()
    assert code == 0, found
    assert "model fake-model is listed" in str(found["llm (anthropic)"]["detail"])
    assert found["pagerduty"]["ok"] is True and found["opsgenie"]["ok"] is True
    assert llm.posts == [] and (paging.pagerduty, paging.opsgenie) == ({}, {})


def test_doctor_fails_when_the_llm_refuses_the_key(
    servers: tuple[FakeLLM, FakePaging], monkeypatch: pytest.MonkeyPatch
) -> None:
    llm, _ = servers
    llm.api_key = "sk-right"
    monkeypatch.setenv("MEDIC_LLM__PROVIDER", "openai-compatible")
    monkeypatch.setenv("MEDIC_LLM__MODEL", "fake-model")
    monkeypatch.setenv("MEDIC_LLM__BASE_URL", f"{llm.url}/v1")
    monkeypatch.setenv("MEDIC_LLM__API_KEY", "sk-wrong")
    code, found = _doctor()
    assert code == 1
    check = found["llm (openai-compatible)"]
    assert check["ok"] is False and "answered 401" in str(check["detail"])
