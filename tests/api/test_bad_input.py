"""Bad input against a real `medic serve`: a clear 4xx or a documented normalisation,
never a 5xx, never a lost valid alert."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.api.sources import FIXTURES, generic_alert, post, rejected
from tests.server import MedicServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedicServer]:
    data = tmp_path_factory.mktemp("bad-input")
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
    ) as running:
        yield running


@pytest.mark.parametrize(
    ("source", "body", "content_type", "status", "words"),
    [
        ("grafana", b'{"receiver": "x", "alerts": [{"status"', "application/json", 400, "not JSON"),
        ("datadog", b'{"date": "17952', "application/json", 400, "not JSON"),
        ("generic", b'[{"name": "A"', "application/json", 400, "not JSON"),
        ("grafana", (FIXTURES / "grafana_webhook.json").read_bytes(), "text/plain", 415, "json"),
        ("datadog", b"alert_id=1&date=2", "application/x-www-form-urlencoded", 415, "json"),
        ("generic", b"{" + b" " * (2 * 1024 * 1024) + b"}", "application/json", 413, "larger"),
        ("grafana", b'{"status": "firing", "alerts": {"a": 1}}', "application/json", 400, "alerts"),
        (
            "datadog",
            b'{"alert_transition": "Triggered", "date": "soon"}',
            "application/json",
            400,
            "date",
        ),
        ("generic", b'{"alerts": [{"name": 5, "starts_at": []}]}', "application/json", 400, "name"),
    ],
)
def test_malformed_bodies_get_a_clear_4xx_and_are_recorded(
    server: MedicServer, source: str, body: bytes, content_type: str, status: int, words: str
) -> None:
    before = {i["id"] for i in server.get("/incidents")}
    headers = {**server.webhook_headers(source), "Content-Type": content_type}
    response = post(server, source, body, headers)
    assert response.status_code == status, response.text
    assert words in response.json()["detail"].lower() or words in response.json()["detail"]
    assert rejected(server)[0]["source"] == source
    assert {i["id"] for i in server.get("/incidents")} == before


def test_bad_alerts_do_not_cost_the_good_ones(server: MedicServer) -> None:
    now = datetime.now(UTC)
    alerts = [
        generic_alert("Good", "orders", fingerprint="good-1"),
        generic_alert("Future", "orders", starts_at=(now + timedelta(days=3)).isoformat()),
        generic_alert("Zero", "orders", starts_at="0001-01-01T00:00:00Z"),
        generic_alert("WrongType", "orders", labels={"x": ["not", "text"]}),
        {"service": "orders", "starts_at": now.isoformat()},  # no name
    ]
    response = post(server, "generic", json.dumps({"alerts": alerts}).encode())
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 1
    reasons = " | ".join(r["reason"] for r in answer["rejected"])
    assert len(answer["rejected"]) == 4
    assert "in the future" in reasons and "before 2000-01-01" in reasons
    assert "alerts[3].labels.x" in reasons and "alerts[4].name: field required" in reasons
    assert "some alerts refused" in rejected(server)[0]["reason"]
    incident = server.get(f"/incidents/{answer['signals'][0]['incident_id']}")
    assert [s["name"] for s in incident["signals"]] == ["Good"]


def test_a_batch_with_no_valid_alert_is_a_400(server: MedicServer) -> None:
    later = (datetime.now(UTC) + timedelta(days=400)).isoformat()
    body = json.dumps([generic_alert("Future", "orders", starts_at=later)]).encode()
    response = post(server, "generic", body)
    assert response.status_code == 400
    assert "in the future" in response.json()["detail"]


def test_unknown_fields_are_accepted_and_ignored(server: MedicServer) -> None:
    data = json.loads((FIXTURES / "grafana_webhook.json").read_text())
    data["somethingNew"] = {"nested": [1, 2]}
    data["alerts"][0]["fingerprint"] = "unknown-fields-1"
    data["alerts"][0]["imageURL"] = "https://img.example/1.png"
    data["alerts"] = data["alerts"][:1]
    response = post(server, "grafana", json.dumps(data).encode())
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 1


def test_alert_without_labels_is_normalised(server: MedicServer) -> None:
    body = json.dumps({"name": "NoLabels", "starts_at": datetime.now(UTC).isoformat()}).encode()
    response = post(server, "generic", body)
    assert response.status_code == 202, response.text
    incident = server.get(f"/incidents/{response.json()['signals'][0]['incident_id']}")
    assert incident["signals"][0]["labels"] == {"alertname": "NoLabels"}


def test_same_fingerprint_different_contents_first_stored_wins(server: MedicServer) -> None:
    first = generic_alert("Dup", "billing", fingerprint="dup-1", summary="the first words")
    second = {**first, "summary": "different words", "severity": "critical"}
    one = post(server, "generic", json.dumps(first).encode())
    two = post(server, "generic", json.dumps(second).encode())
    assert (one.status_code, two.status_code) == (202, 202)
    assert two.json()["duplicates"] == 1
    assert two.json()["signals"][0]["signal_id"] == one.json()["signals"][0]["signal_id"]
    incident = server.get(f"/incidents/{one.json()['signals'][0]['incident_id']}")
    summaries = [s["summary"] for s in incident["signals"]]
    assert summaries == ["the first words"]
