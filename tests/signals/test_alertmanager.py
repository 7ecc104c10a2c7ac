"""The Alertmanager webhook as a user's Alertmanager really sends it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.domain.errors import InvalidInputError
from medic.domain.model import Severity, SignalSource
from medic.signals.alertmanager import parse_alertmanager

SAMPLE = Path(__file__).parent / "fixtures" / "alertmanager_webhook.json"


def _sample() -> dict[str, object]:
    loaded = json.loads(SAMPLE.read_bytes())
    assert isinstance(loaded, dict)
    return loaded


def _alert(payload: dict[str, object]) -> dict[str, object]:
    alerts = payload["alerts"]
    assert isinstance(alerts, list)
    first = alerts[0]
    assert isinstance(first, dict)
    return first


def _body(payload: dict[str, object]) -> bytes:
    return json.dumps(payload).encode()


def test_the_verbatim_sample_becomes_one_firing_signal() -> None:
    [signal] = parse_alertmanager(SAMPLE.read_bytes()).signals
    assert signal.source is SignalSource.ALERTMANAGER
    assert signal.name == "PodMemoryLeak"
    assert signal.service == "auth-service"
    assert signal.namespace == "prod"
    assert signal.severity is Severity.CRITICAL
    assert signal.firing is True
    assert signal.starts_at == datetime(2026, 11, 27, 19, 6, 25, tzinfo=UTC)
    assert signal.ends_at is None  # Go's zero time means "not ended"
    assert signal.fingerprint == "218a462f9e63af35"
    assert signal.summary == "auth-service-xyz memory growing linearly"
    assert signal.annotations["runbook_url"] == "https://runbooks.example/memory-leak"


def test_a_resolved_alert_carries_its_end_in_utc() -> None:
    payload = _sample()
    alert = _alert(payload)
    alert["status"] = "resolved"
    alert["endsAt"] = "2026-11-27T21:30:00+02:00"
    [signal] = parse_alertmanager(_body(payload)).signals
    assert signal.firing is False
    assert signal.ends_at == datetime(2026, 11, 27, 19, 30, tzinfo=UTC)


def test_nanosecond_timestamps_are_accepted() -> None:
    payload = _sample()
    _alert(payload)["startsAt"] = "2026-11-27T19:06:25.123456789Z"
    [signal] = parse_alertmanager(_body(payload)).signals
    assert signal.starts_at.replace(microsecond=0) == datetime(2026, 11, 27, 19, 6, 25, tzinfo=UTC)


def test_without_a_fingerprint_the_label_set_gives_a_stable_one() -> None:
    payload = _sample()
    alert = _alert(payload)
    del alert["fingerprint"]
    first = parse_alertmanager(_body(payload)).signals[0].fingerprint
    labels = alert["labels"]
    assert isinstance(labels, dict)
    alert["labels"] = dict(reversed(list(labels.items())))
    assert parse_alertmanager(_body(payload)).signals[0].fingerprint == first
    labels_changed = dict(labels, pod="auth-service-other")
    alert["labels"] = labels_changed
    assert parse_alertmanager(_body(payload)).signals[0].fingerprint != first


@pytest.mark.parametrize(
    ("labels", "service"),
    [
        ({"alertname": "X", "app": "cart", "job": "kubernetes-pods"}, "cart"),
        ({"alertname": "X", "app_kubernetes_io_name": "cart", "job": "node"}, "cart"),
        ({"alertname": "X", "job": "cart", "container": "main"}, "cart"),
        ({"alertname": "X", "deployment": "cart", "container": "main"}, "cart"),
        ({"alertname": "X", "container": "cart"}, "cart"),
        ({"alertname": "X"}, None),
    ],
)
def test_the_service_comes_from_the_most_specific_label(
    labels: dict[str, str], service: str | None
) -> None:
    payload = _sample()
    _alert(payload)["labels"] = labels
    [signal] = parse_alertmanager(_body(payload)).signals
    assert signal.service == service
    assert signal.namespace is None


@pytest.mark.parametrize(
    ("given", "severity"),
    [
        ("critical", Severity.CRITICAL),
        ("Info", Severity.INFO),
        ("page", Severity.CRITICAL),
        ("whenever", Severity.WARNING),
    ],
)
def test_severity_maps_and_unknown_values_become_warning(given: str, severity: Severity) -> None:
    payload = _sample()
    labels = _alert(payload)["labels"]
    assert isinstance(labels, dict)
    labels["severity"] = given
    assert parse_alertmanager(_body(payload)).signals[0].severity is severity


def test_an_empty_alert_list_is_refused() -> None:
    payload = _sample()
    payload["alerts"] = []
    with pytest.raises(InvalidInputError, match="no alert in the batch"):
        parse_alertmanager(_body(payload))


def _broken(change: str) -> bytes:
    payload = _sample()
    alert = _alert(payload)
    if change == "startsAt":
        alert["startsAt"] = "yesterday at noon"
    elif change == "naive":
        alert["startsAt"] = "2026-11-27T19:06:25"
    elif change == "status":
        alert["status"] = "burning"
    elif change == "labels":
        del alert["labels"]
    elif change == "alerts":
        del payload["alerts"]
    elif change == "version":
        payload["version"] = "3"
    return _body(payload)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (_broken("alerts"), "alerts: field required"),
        (_broken("version"), "version '3' is not supported (expected '4')"),
    ],
)
def test_malformed_payloads_name_the_problem(body: bytes, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        parse_alertmanager(body)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("startsAt", "alerts[0].startsAt: invalid datetime"),
        ("naive", "alerts[0].startsAt: timezone missing"),
        ("status", "alerts[0].status:"),
        ("labels", "alerts[0].labels: field required"),
    ],
)
def test_a_malformed_alert_is_a_problem_of_its_own(change: str, message: str) -> None:
    parsed = parse_alertmanager(_broken(change))
    assert parsed.signals == ()
    assert [p.index for p in parsed.problems] == [0]
    assert message in parsed.problems[0].reason
