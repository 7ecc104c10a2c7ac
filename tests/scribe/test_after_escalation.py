"""An escalated incident is not the end: when its alerts resolve it closes, and its
post-mortem is rewritten in place (medic serve, the sandbox, real webhooks)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.api.sources import generic_alert, post
from tests.server import MedicServer, wait_until

pytestmark = pytest.mark.integration


def test_an_escalated_incident_closes_when_its_alert_resolves(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
        MEDIC_APPROVAL__TIMEOUT_SECONDS="2",
        MEDIC_POSTMORTEMS__DIR=str(tmp_path / "written"),
    ) as server:
        alert = generic_alert("PodMemoryLeak", "auth-service", fingerprint="leak")
        opened = post(server, "generic", json.dumps([alert]).encode())
        assert opened.status_code == 202, opened.text
        incident_id = opened.json()["signals"][0]["incident_id"]

        def in_state(state: str) -> dict[str, Any] | None:
            detail: dict[str, Any] = server.get(f"/incidents/{incident_id}")
            done = detail["state"] == state and detail["postmortem_path"]
            return detail if done else None

        escalated = wait_until("the approval to expire", lambda: in_state("escalated"), 240)
        path = Path(escalated["postmortem_path"])
        assert path == tmp_path / "written" / f"{incident_id}.md"  # the configured folder
        before = path.read_text()
        assert "state **escalated**" in before

        resolved = post(server, "generic", json.dumps({**alert, "status": "resolved"}).encode())
        assert resolved.status_code == 202, resolved.text

        def rewritten() -> dict[str, Any] | None:
            detail = in_state("closed")
            return detail if detail and "state **closed**" in path.read_text() else None

        closed = wait_until("the incident to close", rewritten, 120)
        assert closed["postmortem_path"] == str(path)  # same file, rewritten
        messages = [e["message"] for e in closed["timeline"]]
        assert any("closed: every alert resolved after the escalation" in m for m in messages)
        after = path.read_text()
        assert "its alerts resolved after it was escalated" in after
        assert "every alert resolved after the escalation" in after  # the timeline row
        assert after.count("## Summary") == 1
