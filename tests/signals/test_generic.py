"""medic's generic JSON alerts: one, a list, or {"alerts": [...]}; labels normalised."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from medic.domain import InvalidInputError, Severity, SignalSource
from medic.signals.generic import parse_generic

SAMPLE = Path(__file__).parent / "fixtures" / "generic_alerts.json"


def test_sample_gives_a_firing_and_a_resolved_alert() -> None:
    parsed = parse_generic(SAMPLE.read_bytes())
    assert parsed.problems == ()
    firing, resolved = parsed.signals
    assert firing.source is SignalSource.GENERIC
    assert (firing.name, firing.service, firing.namespace) == (
        "HighErrorRate",
        "payments",
        "production",
    )
    assert firing.fingerprint == "payments-5xx"
    assert firing.severity is Severity.CRITICAL
    assert firing.summary == "payments 5xx ratio at 7% (threshold 2%)"
    assert not resolved.firing
    assert resolved.starts_at == datetime(2026, 11, 27, 17, 10, tzinfo=UTC)
    assert resolved.ends_at == datetime(2026, 11, 27, 17, 30, tzinfo=UTC)


def test_an_alert_without_labels_is_normalised() -> None:
    body = json.dumps({"name": "DiskFull", "service": "db", "starts_at": 1795286400}).encode()
    signal = parse_generic(body).signals[0]
    assert signal.labels == {"alertname": "DiskFull", "service": "db"}
    assert signal.severity is Severity.WARNING
    assert signal.firing
    # No fingerprint given: the same alert sent again gets the same one.
    assert parse_generic(body).signals[0].fingerprint == signal.fingerprint


def test_a_bare_list_and_unknown_fields() -> None:
    body = json.dumps(
        [{"name": "A", "starts_at": "2026-11-27T18:00:00Z", "extra": {"x": 1}}]
    ).encode()
    assert [s.name for s in parse_generic(body).signals] == ["A"]


def test_wrong_types_refuse_only_that_alert() -> None:
    body = json.dumps(
        {
            "alerts": [
                {"name": "ok", "starts_at": "2026-11-27T18:00:00Z"},
                {"name": "bad", "starts_at": "2026-11-27T18:00:00Z", "labels": {"n": 3}},
                {"name": "naive", "starts_at": "2026-11-27T18:00:00"},
                {"starts_at": "2026-11-27T18:00:00Z"},
            ]
        }
    ).encode()
    parsed = parse_generic(body)
    assert [s.name for s in parsed.signals] == ["ok"]
    reasons = [p.reason for p in parsed.problems]
    assert reasons[0].startswith("alerts[1].labels.n")
    assert reasons[1] == "alerts[2].starts_at: timezone missing"
    assert reasons[2] == "alerts[3].name: field required"


@pytest.mark.parametrize(
    ("body", "words"),
    [(b"{", "not JSON"), (b'"text"', "alert object"), (b'{"alerts": 3}', "must be a list")],
)
def test_unusable_bodies(body: bytes, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        parse_generic(body)
