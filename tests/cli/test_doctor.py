"""`medic doctor`: every integration checked at once, what works and what doesn't."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from medic.adapters.datadog import DatadogMetrics
from medic.adapters.loki import LokiLogs
from medic.cli.doctor import register
from medic.domain.errors import PermanentError, TransientError
from medic.integrations import Integration, check_all
from medic.settings import Settings
from tests.adapters.fake_datadog import API_KEY, FakeDatadog
from tests.adapters.fake_loki import FakeLoki, Stream

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


class FixedClock:
    def now(self) -> datetime:
        return NOW

    def sleep(self, seconds: float) -> None:
        pass


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Holds hanging checks until the test is over, then lets their threads end."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))


def _working() -> str:
    return "all good"


def _refused() -> str:
    raise PermanentError("the API key is not valid for datadoghq.com")


def _doctor(integrations: Sequence[Integration], *args: str) -> Result:
    app = typer.Typer()
    seen: list[Settings] = []

    def build(settings: Settings) -> Sequence[Integration]:
        seen.append(settings)
        return integrations

    register(app, build)
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})
    assert len(seen) == 1  # the builder is given the loaded configuration
    return result


def test_all_working_prints_a_table_of_ticks_and_exits_0() -> None:
    result = _doctor([Integration("store", _working, "store"), Integration("sandbox", _working)])
    assert result.exit_code == 0, result.output
    assert "store (store)" in result.output and "sandbox" in result.output
    assert result.output.count("✓") == 2 and "✗" not in result.output
    assert "2 of 2 integrations work" in result.output


def test_a_failing_and_a_hanging_check_are_reported_and_exit_1(release: threading.Event) -> None:
    def hanging() -> str:
        release.wait()
        return "too late"

    integrations = [
        Integration("prometheus", _working, "metrics"),
        Integration("datadog", _refused, "metrics"),
        Integration("loki", hanging, "logs"),
    ]
    result = _doctor(integrations, "--timeout", "0.2")
    assert result.exit_code == 1
    lines = {line.split("│")[1].strip(): line for line in result.output.splitlines() if "│" in line}
    assert "✓" in lines["prometheus (metrics)"]
    assert (
        "✗" in lines["datadog (metrics)"] and "API key is not valid" in lines["datadog (metrics)"]
    )
    assert "✗" in lines["loki (logs)"] and "no answer within 0.2s" in lines["loki (logs)"]
    assert "1 of 3 integrations work" in result.output


def test_json_output_says_what_failed_and_why(release: threading.Event) -> None:
    def crashing() -> str:
        raise KeyError("version")

    def hanging() -> str:
        release.wait()
        return "too late"

    integrations = [
        Integration("store", _working, "store"),
        Integration("datadog", _refused, "metrics"),
        Integration("github", crashing, "code"),
        Integration("loki", hanging, "logs"),
    ]
    result = _doctor(integrations, "--json", "--timeout", "0.2")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    by_name = {item["name"]: item for item in report["integrations"]}
    assert list(by_name) == ["store", "datadog", "github", "loki"]  # the configured order
    assert by_name["store"]["ok"] is True and by_name["store"]["detail"] == "all good"
    assert by_name["datadog"]["error"] == "PermanentError"
    assert by_name["github"] == {
        **by_name["github"],
        "ok": False,
        "detail": "unexpected KeyError: 'version'",
    }
    assert by_name["loki"]["error"] == "TransientError"


def test_checks_run_concurrently_so_one_hang_costs_one_timeout(release: threading.Event) -> None:
    started: list[str] = []
    all_started = threading.Barrier(3, timeout=5)

    def waits_for_the_others(name: str) -> Integration:
        def health() -> str:
            started.append(name)
            all_started.wait()  # breaks (and fails the check) unless all three run at once
            release.wait()
            return "late"

        return Integration(name, health)

    results = check_all([waits_for_the_others(n) for n in ("a", "b", "c")], timeout_seconds=0.5)
    assert sorted(started) == ["a", "b", "c"]
    assert [r.detail for r in results] == ["no answer within 0.5s"] * 3


def test_a_detail_quoting_rich_markup_is_printed_as_text() -> None:
    def odd() -> str:
        raise TransientError("answered 502: [bold red]upstream[/] down")

    result = _doctor([Integration("proxy", odd)])
    assert "[bold red]upstream[/] down" in result.output


def test_doctor_checks_real_adapters_against_vendor_fakes() -> None:
    now_ns = int(NOW.timestamp()) * 10**9 - 10**9
    loki = LokiLogs(
        "http://loki.test:3100",
        clock=FixedClock(),
        transport=FakeLoki(
            streams=[Stream({"namespace": "p", "app": "a"}, [(now_ns, "x")])]
        ).transport(),
    )
    datadog = DatadogMetrics(
        API_KEY,
        "a-revoked-application-key",
        clock=FixedClock(),
        transport=FakeDatadog().transport(),
    )
    integrations = [
        Integration("loki", loki.health, "logs"),
        Integration("datadog", datadog.health),
    ]
    result = _doctor(integrations, "--json")
    report = json.loads(result.stdout)
    assert result.exit_code == 1
    loki_result, datadog_result = report["integrations"]
    assert loki_result["ok"] is True and "ready, 2 labels" in loki_result["detail"]
    assert datadog_result["ok"] is False and "application key" in datadog_result["detail"]


def test_invalid_configuration_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_PORT", "not-a-port")
    app = typer.Typer()
    register(app, lambda settings: [])
    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2
    assert "invalid configuration" in result.output


def test_with_no_configuration_doctor_checks_the_embedded_store_and_sandbox() -> None:
    from medic.cli import app

    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    names = [(i["name"], i["ok"]) for i in report["integrations"]]
    assert names[:2] == [("store", True), ("sandbox", True)]


def test_a_configured_integration_that_does_not_answer_fails_doctor(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from medic.cli import app

    monkeypatch.setenv("MEDIC_LOKI__URL", "http://127.0.0.1:9")
    monkeypatch.setenv("MEDIC_LOKI__RETRIES", "0")
    result = CliRunner().invoke(app, ["doctor", "--json"])
    assert result.exit_code == 1, result.output
    loki = json.loads(result.stdout)["integrations"][-1]
    assert loki["name"] == "loki" and loki["ok"] is False
    assert "cannot reach Loki at http://127.0.0.1:9" in loki["detail"]
