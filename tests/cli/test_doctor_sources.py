"""`medic doctor` lists every configured source, including those that fail to set up."""

from __future__ import annotations

from pathlib import Path

import pytest

from medic.bootstrap import integrations
from medic.integrations import check_all
from medic.settings import load_settings
from tests.server import free_port


@pytest.fixture(autouse=True)
def no_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEDIC_CONFIG", str(tmp_path / "absent.yaml"))
    monkeypatch.setenv("MEDIC_DATA_DIR", str(tmp_path / "data"))


def test_an_unreachable_prometheus_and_a_broken_loki_are_listed_as_failing(
    tmp_path: Path,
) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(
        prometheus={"url": down, "retries": 0, "preset": "node_exporter"},
        loki={"url": f"http://127.0.0.1:{free_port()}", "retries": 0},
    )
    results = {r.name: r for r in check_all(integrations(settings), timeout_seconds=5)}
    assert "sandbox" not in results
    for name in ("store", "prometheus", "topology", "loki", "prometheus queries"):
        assert name in results, sorted(results)
    assert results["store"].ok
    assert (
        not results["prometheus"].ok and "cannot reach Prometheus" in results["prometheus"].detail
    )
    assert not results["prometheus queries"].ok
    assert not results["loki"].ok


def test_a_source_that_cannot_be_set_up_is_still_listed_with_why(tmp_path: Path) -> None:
    settings = load_settings(
        prometheus={"url": "http://127.0.0.1:9", "call_graph_file": str(tmp_path / "none.yaml")}
    )
    results = check_all(integrations(settings), timeout_seconds=5)
    failing = [r for r in results if not r.ok]
    assert failing, [r.name for r in results]
    assert all("prometheus.call_graph_file: cannot read" in r.detail for r in failing)
    assert {r.name for r in failing} >= {"configuration", "prometheus"}


def test_the_sandbox_is_checked_alone_and_slack_when_configured() -> None:
    names = [i.name for i in integrations(load_settings())]
    assert names == ["store", "sandbox", "code host"]  # the sandbox's own git clones
    configured = load_settings(slack={"bot_token": "xoxb-1", "channel": "#ops"})
    assert [i.name for i in integrations(configured)] == [*names, "slack"]
