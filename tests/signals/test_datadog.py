"""Datadog notifications, through medic's documented template, become signals."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.domain import InvalidInputError, Severity, SignalSource
from medic.signals.datadog import parse_datadog

FIXTURES = Path(__file__).parent / "fixtures"


def _parse(name: str) -> object:
    return parse_datadog((FIXTURES / name).read_bytes()).signals[0]


def test_triggered_metric_monitor() -> None:
    signal = parse_datadog((FIXTURES / "datadog_metric_triggered.json").read_bytes()).signals[0]
    assert signal.source is SignalSource.DATADOG
    assert signal.name == "Checkout p99 latency high"
    assert signal.firing
    assert signal.starts_at == datetime(2026, 11, 21, 18, 40, tzinfo=UTC)
    assert (signal.service, signal.namespace) == ("checkout", "shop")
    assert signal.severity is Severity.CRITICAL
    assert signal.labels["datadog_monitor_kind"] == "monitor"
    assert signal.labels["team"] == "payments"


def test_recovery_is_the_same_alert_resolved() -> None:
    fired = parse_datadog((FIXTURES / "datadog_metric_triggered.json").read_bytes()).signals[0]
    recovered = parse_datadog((FIXTURES / "datadog_metric_recovered.json").read_bytes()).signals[0]
    assert not recovered.firing
    assert recovered.fingerprint == fired.fingerprint
    assert recovered.dedup_key != fired.dedup_key


def test_watchdog_and_anomaly_monitors() -> None:
    watchdog = parse_datadog((FIXTURES / "datadog_watchdog.json").read_bytes()).signals[0]
    assert watchdog.labels["datadog_monitor_kind"] == "watchdog"
    assert watchdog.service == "auth-service"
    assert "datadog_priority" not in watchdog.labels  # "$ALERT_PRIORITY" left unfilled
    anomaly = parse_datadog((FIXTURES / "datadog_anomaly_warn.json").read_bytes()).signals[0]
    assert anomaly.labels["datadog_monitor_kind"] == "anomaly"
    assert anomaly.severity is Severity.WARNING
    assert anomaly.firing
    assert anomaly.labels["datadog_alert_id"] == "91011"  # a number in the template
    assert anomaly.service is None  # a host is not a service


def test_one_monitor_alerting_for_two_groups_is_two_alerts() -> None:
    data = json.loads((FIXTURES / "datadog_metric_triggered.json").read_text())
    first = parse_datadog(json.dumps(data).encode()).signals[0]
    data["alert_scope"] = "kube_namespace:shop,service:cart"
    second = parse_datadog(json.dumps(data).encode()).signals[0]
    assert first.fingerprint != second.fingerprint


def test_transition_falls_back_to_the_title() -> None:
    data = json.loads((FIXTURES / "datadog_metric_recovered.json").read_text())
    data["alert_transition"] = "$ALERT_TRANSITION"
    assert not parse_datadog(json.dumps(data).encode()).signals[0].firing


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"date": "$DATE"}, "date"),
        ({"date": "yesterday"}, "date"),
        ({"alert_transition": "", "title": "no brackets"}, "alert_transition"),
        ({"alert_id": "", "aggreg_key": "", "id": ""}, "alert_id"),
    ],
)
def test_unusable_notifications_name_the_missing_variable(
    change: dict[str, str], words: str
) -> None:
    data = json.loads((FIXTURES / "datadog_metric_triggered.json").read_text())
    data.update(change)
    with pytest.raises(InvalidInputError, match=words):
        parse_datadog(json.dumps(data).encode())


def test_the_raw_template_itself_is_refused() -> None:
    with pytest.raises(InvalidInputError):
        parse_datadog((FIXTURES / "datadog_template.json").read_bytes())
