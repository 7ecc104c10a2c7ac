"""Grafana's documented webhook body becomes signals; bad alerts spare the rest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from medic.domain import InvalidInputError, SignalSource
from medic.signals.grafana import parse_grafana

SAMPLE = Path(__file__).parent / "fixtures" / "grafana_webhook.json"


def _sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text())
    return data


def test_documented_example_gives_one_signal_per_alert() -> None:
    parsed = parse_grafana(SAMPLE.read_bytes())
    assert parsed.problems == ()
    memory, cpu = parsed.signals
    assert memory.source is SignalSource.GRAFANA
    assert memory.name == "High memory usage"
    assert memory.fingerprint == "c6eadffa33fcdf37"
    assert memory.starts_at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=UTC)
    assert memory.ends_at is None  # Go's zero time means "not ended"
    assert memory.firing
    assert memory.summary == "This alert was triggered for zone us-1"
    assert memory.labels["team"] == "blue"
    assert memory.annotations["values"] == "B=44.2394, C=1"
    assert cpu.fingerprint == "bc97ff14869b13e3"


def test_resolved_alert_and_service_label() -> None:
    data = _sample()
    alert = data["alerts"][0]
    alert["status"] = "resolved"
    alert["endsAt"] = "2021-10-12T10:01:03Z"
    alert["labels"].update({"service": "auth-service", "namespace": "prod", "severity": "critical"})
    signal = parse_grafana(json.dumps(data).encode()).signals[0]
    assert not signal.firing
    assert signal.ends_at == datetime(2021, 10, 12, 10, 1, 3, tzinfo=UTC)
    assert (signal.service, signal.namespace, signal.severity.value) == (
        "auth-service",
        "prod",
        "critical",
    )


def test_one_bad_alert_does_not_cost_the_others() -> None:
    data = _sample()
    data["alerts"][1]["startsAt"] = "yesterday"
    parsed = parse_grafana(json.dumps(data).encode())
    assert [s.name for s in parsed.signals] == ["High memory usage"]
    assert len(parsed.problems) == 1
    assert parsed.problems[0].index == 1
    assert "alerts[1].startsAt" in parsed.problems[0].reason


def test_unknown_fields_are_ignored() -> None:
    data = _sample()
    data["newTopLevelField"] = {"x": 1}
    data["alerts"][0]["imageURL"] = "https://example/img.png"
    assert len(parse_grafana(json.dumps(data).encode()).signals) == 2


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"receiver": "x", "alerts": [', "not JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps({**json.loads(SAMPLE.read_text()), "version": "2"}).encode(), "version"),
        (json.dumps({"status": "firing", "alerts": "nope"}).encode(), "alerts"),
    ],
)
def test_unusable_bodies_are_refused_with_the_reason(body: bytes, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        parse_grafana(body)
