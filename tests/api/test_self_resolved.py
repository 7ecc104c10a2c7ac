"""An incident whose alerts all resolve before medic acts closes as self-resolved."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.sources import generic_alert, post
from tests.server import MedicServer, wait_until


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedicServer]:
    data = tmp_path_factory.mktemp("self-resolved")
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
    ) as running:
        yield running


def _state(server: MedicServer, incident_id: str, *states: str) -> dict[str, Any] | None:
    """The incident once it is in one of `states`; a closing state counts only once the
    post-mortem is written (the workflow's last step)."""
    detail: dict[str, Any] = server.get(f"/incidents/{incident_id}")
    if detail["state"] not in states:
        return None
    closing = detail["state"] in {"self_resolved", "escalated", "resolved", "rejected"}
    return None if closing and not detail["postmortem_path"] else detail


def test_resolving_while_awaiting_approval_closes_it_and_a_late_approval_is_409(
    server: MedicServer,
) -> None:
    alerts = [
        generic_alert("PodMemoryLeak", "auth-service", fingerprint="leak"),
        generic_alert("HighLatency", "auth-service", fingerprint="latency"),
    ]
    opened = post(server, "generic", json.dumps(alerts).encode())
    assert opened.status_code == 202, opened.text
    incident_id = opened.json()["signals"][0]["incident_id"]
    waiting = wait_until(
        "the plan to await approval",
        lambda: _state(server, incident_id, "awaiting_approval", "escalated"),
    )
    assert waiting["state"] == "awaiting_approval", waiting["timeline"]

    # One alert resolving is not enough.
    half = post(server, "generic", json.dumps({**alerts[0], "status": "resolved"}).encode())
    assert half.status_code == 202
    assert server.get(f"/incidents/{incident_id}")["state"] == "awaiting_approval"

    rest = post(server, "generic", json.dumps({**alerts[1], "status": "resolved"}).encode())
    assert rest.status_code == 202
    closed = wait_until(
        "the incident to close as self-resolved",
        lambda: _state(server, incident_id, "self_resolved", "escalated", "resolved"),
    )
    assert closed["state"] == "self_resolved"
    assert closed["executions"] == []
    assert any("self_resolved" in e["message"] for e in closed["timeline"])
    assert "self_resolved" in Path(closed["postmortem_path"]).read_text()

    late = httpx.post(
        f"{server.url}/incidents/{incident_id}/approve",
        json={"plan_hash": waiting["plan_hash"]},
        headers=server.user_headers(),
        timeout=10,
    )
    assert late.status_code == 409


def test_resolved_before_diagnosis_finishes(server: MedicServer) -> None:
    firing = generic_alert("Blip", "catalog", fingerprint="blip")
    both = [firing, {**firing, "status": "resolved"}]
    response = post(server, "generic", json.dumps(both).encode())
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 2
    incident_id = response.json()["signals"][0]["incident_id"]
    closed = wait_until(
        "the incident to close",
        lambda: _state(server, incident_id, "self_resolved", "escalated", "resolved"),
    )
    assert closed["state"] == "self_resolved"
    assert closed["approvals"] == []
