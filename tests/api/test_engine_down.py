"""Ingestion keeps accepting while the workflow engine is down; the next start resumes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from medic.bootstrap import build
from medic.settings import Settings
from tests.api.sources import generic_alert
from tests.server import MedicServer, wait_until


def test_alert_is_stored_and_acknowledged_while_workflows_cannot_start(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'medic.sqlite'}"
    settings = Settings(data_dir=tmp_path, database_url=database)
    # Built but never started: the durable engine is not running, so no workflow can start.
    medic = build(settings)
    try:
        app = medic.api()
        token = medic.credentials.webhook_tokens["generic"]
        with TestClient(app) as client:
            response = client.post(
                "/webhooks/generic",
                content=json.dumps(generic_alert("PodMemoryLeak", "auth-service")).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            app.state.ingest_queue.close()
        assert response.status_code == 202, response.text
        incident_id = response.json()["signals"][0]["incident_id"]
        assert medic.store.get_incident(incident_id).state.value == "open"
        assert [s.name for s in medic.store.signals_of(incident_id)] == ["PodMemoryLeak"]
    finally:
        medic.stop()

    # The next `medic serve` on the same data starts the orphaned incident's workflow.
    with MedicServer(tmp_path, database, MEDIC_WATCHDOG__ENABLED="false") as server:

        def progressed() -> dict[str, Any] | None:
            detail: dict[str, Any] = server.get(f"/incidents/{incident_id}")
            return detail if detail["state"] != "open" and detail["diagnosis"] else None

        detail = wait_until("the orphan's workflow to run", progressed, timeout=60)
        assert [s["name"] for s in detail["signals"]] == ["PodMemoryLeak"]
