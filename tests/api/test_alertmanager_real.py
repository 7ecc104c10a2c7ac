"""A real Alertmanager (Debian package) delivers to `medic serve` as its webhook receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import MedicServer, wait_until
from tests.services import alertmanager

pytestmark = pytest.mark.integration

CONFIG = """
route:
  receiver: medic
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: medic
    webhook_configs:
      - url: {url}/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {token}
"""


def test_alertmanager_notification_opens_one_incident(tmp_path: Path) -> None:
    server = MedicServer(
        tmp_path / "medic",
        f"sqlite:///{tmp_path / 'medic' / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
    )
    with server:
        token = server.credentials()["webhooks"]["alertmanager"]
        config = CONFIG.format(url=server.url, token=token)
        with alertmanager(tmp_path / "am", config) as am_url:
            alert = {
                "labels": {
                    "alertname": "PodMemoryLeak",
                    "namespace": "production",
                    "service": "auth-service",
                    "severity": "critical",
                },
                "annotations": {"summary": "auth-service memory growing linearly"},
                "startsAt": datetime.now(UTC).isoformat(),
            }
            response = httpx.post(f"{am_url}/api/v2/alerts", json=[alert], timeout=5)
            assert response.status_code == 200, response.text

            def incidents() -> list[dict[str, Any]]:
                found: list[dict[str, Any]] = server.get("/incidents")
                return found

            opened = wait_until("an incident from Alertmanager", incidents, timeout=120)
            detail = server.get(f"/incidents/{opened[0]['id']}")
            assert detail["service"] == "auth-service"
            assert detail["namespace"] == "production"
            sources = {s["source"] for s in detail["signals"]}
            assert sources == {"alertmanager"}
            assert detail["signals"][0]["labels"]["alertname"] == "PodMemoryLeak"
            # Alertmanager re-notifies the same group; it must not open a second incident.
            httpx.post(f"{am_url}/api/v2/alerts", json=[alert], timeout=5)
            wait_until(
                "the incident to be diagnosed",
                lambda: server.get(f"/incidents/{opened[0]['id']}")["diagnosis"],
                timeout=240,
            )
            assert len(incidents()) == 1
