"""Grafana, Datadog and generic webhooks into a real `medic serve`, with their auth."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.sources import FIXTURES, generic_alert, post, rejected, sign, with_signing_secret
from tests.server import MedicServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedicServer]:
    data = tmp_path_factory.mktemp("sources")
    with_signing_secret(data)
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
    ) as running:
        yield running


def _grafana_headers(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "X-Grafana-Alerting-Signature": sign(body)}
    if timestamp is not None:
        headers["X-Grafana-Alerting-Timestamp"] = timestamp
        headers["X-Grafana-Alerting-Signature"] = sign(body, timestamp)
    return headers


def test_signed_grafana_sample_is_stored_once(server: MedicServer) -> None:
    body = (FIXTURES / "grafana_webhook.json").read_bytes()
    first = post(server, "grafana", body, _grafana_headers(body))
    assert first.status_code == 202, first.text
    assert first.json()["accepted"] == 2
    stamp = str(int(time.time()))
    again = post(server, "grafana", body, _grafana_headers(body, stamp))
    assert again.status_code == 202, again.text
    assert again.json()["duplicates"] == 2
    incident = first.json()["signals"][0]["incident_id"]
    detail = server.get(f"/incidents/{incident}")
    assert {s["source"] for s in detail["signals"]} == {"grafana"}


def _ids(server: MedicServer) -> set[str]:
    return {i["id"] for i in server.get("/incidents")}


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},  # a bearer token is not enough once signed
        {"Content-Type": "application/json", "X-Grafana-Alerting-Signature": "00" * 32},
        {
            "Content-Type": "application/json",
            "X-Grafana-Alerting-Timestamp": "1000000000",  # a replay from 2001
            "X-Grafana-Alerting-Signature": "from-test",
        },
    ],
)
def test_badly_signed_grafana_creates_nothing(server: MedicServer, headers: dict[str, str]) -> None:
    data = json.loads((FIXTURES / "grafana_webhook.json").read_text())
    data["alerts"][0]["fingerprint"] = "never-stored"
    body = json.dumps(data).encode()
    if headers.get("X-Grafana-Alerting-Signature") == "from-test":
        headers = {**headers, "X-Grafana-Alerting-Signature": sign(body, "1000000000")}
    token = server.credentials()["webhooks"]["grafana"]
    before = (_ids(server), rejected(server))
    response = post(server, "grafana", body, {**headers, "Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    # Other tests' incidents move on meanwhile; what must not change is which exist.
    assert (_ids(server), rejected(server)) == before


def test_datadog_trigger_then_recovery(server: MedicServer) -> None:
    fired = post(server, "datadog", (FIXTURES / "datadog_metric_triggered.json").read_bytes())
    assert fired.status_code == 202, fired.text
    incident = fired.json()["signals"][0]["incident_id"]
    assert fired.json()["signals"][0]["new_incident"]
    recovered = post(server, "datadog", (FIXTURES / "datadog_metric_recovered.json").read_bytes())
    assert recovered.status_code == 202, recovered.text
    assert recovered.json()["signals"][0]["incident_id"] == incident
    detail = server.get(f"/incidents/{incident}")
    assert detail["service"] == "checkout"
    assert [s["firing"] for s in detail["signals"]] == [True, False]


def test_datadog_watchdog_and_anomaly(server: MedicServer) -> None:
    for name in ("datadog_watchdog.json", "datadog_anomaly_warn.json"):
        response = post(server, "datadog", (FIXTURES / name).read_bytes())
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == 1


def test_generic_with_bearer_or_signature(server: MedicServer) -> None:
    body = (FIXTURES / "generic_alerts.json").read_bytes()
    response = post(server, "generic", body)
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2
    wrong = post(server, "generic", body, {"Content-Type": "application/json"})
    assert wrong.status_code == 401


@pytest.mark.parametrize("source", ["grafana", "datadog", "generic"])
def test_wrong_token_is_refused(server: MedicServer, source: str) -> None:
    body = json.dumps(generic_alert("X", "nobody")).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer wrong"}
    assert post(server, source, body, headers).status_code == 401


def test_openapi_lists_every_receiver(server: MedicServer) -> None:
    paths = server.get("/openapi.json")["paths"]
    for source in ("alertmanager", "grafana", "datadog", "generic"):
        assert f"/webhooks/{source}" in paths


def test_data_dir_keeps_the_secret(server: MedicServer) -> None:
    stored = json.loads(Path(server.data_dir / "credentials.json").read_text())
    assert set(stored["webhooks"]) >= {"alertmanager", "grafana", "datadog", "generic"}
    assert "grafana" in stored["signing"]
