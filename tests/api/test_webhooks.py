"""The Alertmanager webhook and the incident API of a real `medic serve`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server import MedicServer, wait_until

SAMPLE = Path(__file__).parents[1] / "signals" / "fixtures" / "alertmanager_webhook.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MedicServer]:
    data = tmp_path_factory.mktemp("api")
    # No watchdog: incidents here come only from webhooks. Approvals never arrive in
    # time on their own, so incidents stay awaiting approval for the tests to decide.
    with MedicServer(
        data,
        f"sqlite:///{data / 'medic.sqlite'}",
        MEDIC_WATCHDOG__ENABLED="false",
        MEDIC_SANDBOX__SPEED="60",
    ) as running:
        yield running


def _post(server: MedicServer, body: bytes, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{server.url}/webhooks/alertmanager",
        content=body,
        headers={**server.webhook_headers(), **headers},
        timeout=10,
    )


def _payload(fingerprint: str, service: str = "auth-service") -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(SAMPLE.read_text())
    alert = payload["alerts"][0]
    alert["fingerprint"] = fingerprint
    alert["labels"]["service"] = service
    alert["labels"]["namespace"] = "production"
    return payload


def _rejected(server: MedicServer) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.url}/webhooks/rejected", headers=server.user_headers(), timeout=10
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result


def test_verbatim_sample_opens_an_incident_and_redelivery_does_not(server: MedicServer) -> None:
    body = SAMPLE.read_bytes()
    first = _post(server, body)
    assert first.status_code == 202, first.text
    assert first.json()["accepted"] == 1
    incident_id = first.json()["signals"][0]["incident_id"]
    assert first.json()["signals"][0]["new_incident"] is True

    again = _post(server, body)
    assert again.status_code == 202
    assert again.json()["duplicates"] == 1
    assert again.json()["signals"][0]["incident_id"] == incident_id
    ids = [i["id"] for i in server.get("/incidents")]
    assert ids.count(incident_id) == 1
    detail = server.get(f"/incidents/{incident_id}")
    assert detail["service"] == "auth-service"
    assert detail["timeline"][0]["kind"] in {"incident", "signal"}


@pytest.mark.parametrize(
    ("body", "content_type", "status", "words"),
    [
        (b'{"version": "4", "alerts": [', "application/json", 400, "not JSON"),
        (b'{"version": "3", "status": "firing", "alerts": []}', "application/json", 400, "version"),
        (
            json.dumps(
                {
                    "version": "4",
                    "status": "firing",
                    "receiver": "m",
                    "alerts": [
                        {"status": "firing", "labels": {"alertname": "X"}, "startsAt": "yesterday"}
                    ],
                }
            ).encode(),
            "application/json",
            400,
            "startsAt",
        ),
        (b"alertname=X", "text/plain", 415, "application/json"),
        (b"{" + b" " * (2 * 1024 * 1024) + b"}", "application/json", 413, "larger"),
    ],
)
def test_malformed_webhooks_get_a_clear_4xx_and_are_recorded(
    server: MedicServer, body: bytes, content_type: str, status: int, words: str
) -> None:
    before = len(server.get("/incidents"))
    response = _post(server, body, **{"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert words in response.json()["detail"]
    assert words in _rejected(server)[0]["reason"]
    assert len(server.get("/incidents")) == before


@pytest.mark.parametrize("token", [None, "wrong-token"])
def test_unauthenticated_webhook_creates_nothing(server: MedicServer, token: str | None) -> None:
    before_incidents = {i["id"] for i in server.get("/incidents")}
    before_rejected = _rejected(server)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.post(
        f"{server.url}/webhooks/alertmanager",
        content=json.dumps(_payload("f00d", service="payments")).encode(),
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 401
    assert {i["id"] for i in server.get("/incidents")} == before_incidents
    assert _rejected(server) == before_rejected


def _awaiting(server: MedicServer, fingerprint: str, service: str) -> dict[str, Any]:
    response = _post(server, json.dumps(_payload(fingerprint, service)).encode())
    assert response.status_code == 202, response.text
    incident_id = response.json()["signals"][0]["incident_id"]

    def awaiting() -> dict[str, Any] | None:
        detail: dict[str, Any] = server.get(f"/incidents/{incident_id}")
        return detail if detail["state"] in {"awaiting_approval", "escalated"} else None

    return dict(wait_until("the plan to await approval", awaiting, timeout=240))


def _decide(
    server: MedicServer, incident_id: str, verb: str, plan_hash: str, reason: str = ""
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/incidents/{incident_id}/{verb}",
        json={"plan_hash": plan_hash, "reason": reason},
        headers=server.user_headers(),
        timeout=10,
    )


def test_approval_is_bound_to_the_plan_hash_and_decided_once(server: MedicServer) -> None:
    detail = _awaiting(server, "abc1", "auth-service")
    assert detail["state"] == "awaiting_approval", detail["timeline"]
    incident_id = detail["id"]

    stale = _decide(server, incident_id, "approve", "0" * 64)
    assert stale.status_code == 409
    assert "stale" in stale.json()["detail"]

    no_reason = _decide(server, incident_id, "reject", detail["plan_hash"])
    assert no_reason.status_code == 422

    rejected = _decide(server, incident_id, "reject", detail["plan_hash"], "change freeze")
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["actor"] == "operator"

    twice = _decide(server, incident_id, "approve", detail["plan_hash"])
    assert twice.status_code == 409

    done = wait_until(
        "the rejection to close the incident",
        lambda: server.get(f"/incidents/{incident_id}")["state"] == "rejected",
        timeout=240,
    )
    assert done
    final = server.get(f"/incidents/{incident_id}")
    assert [a["decision"] for a in final["approvals"]] == ["rejected"]
    assert final["executions"] == []
    assert "change freeze" in Path(final["postmortem_path"]).read_text()


def test_unknown_incident_and_unauthenticated_approval(server: MedicServer) -> None:
    anonymous_read = httpx.get(f"{server.url}/incidents/inc-nope", timeout=10)
    assert anonymous_read.status_code == 401  # reads need a user's token too
    missing = httpx.get(
        f"{server.url}/incidents/inc-nope", headers=server.user_headers(), timeout=10
    )
    assert missing.status_code == 404
    assert "inc-nope" in missing.json()["detail"]
    anonymous = httpx.post(
        f"{server.url}/incidents/inc-nope/approve", json={"plan_hash": "x" * 64}, timeout=10
    )
    assert anonymous.status_code == 401
    unknown = _decide(server, "inc-nope", "approve", "x" * 64)
    assert unknown.status_code == 404


def test_openapi_documents_the_endpoints(server: MedicServer) -> None:
    spec = server.get("/openapi.json")
    for path in ("/webhooks/alertmanager", "/incidents", "/incidents/{incident_id}/approve"):
        assert path in spec["paths"]
    page = httpx.get(f"{server.url}/docs", timeout=10)
    assert page.status_code == 200
    # Offline: every asset the page loads comes from medic itself, not a CDN.
    assert "cdn" not in page.text.lower()
    script = httpx.get(f"{server.url}/static/docs/swagger-ui-bundle.js", timeout=10)
    assert script.status_code == 200
