"""The OpenAPI schema declares each webhook's real request body (with unknown fields
allowed, as the receivers ignore them), so clients and fuzzers know what to send."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.hostile import SOURCES, Rig, rig


@pytest.fixture(scope="module")
def schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data: Path = tmp_path_factory.mktemp("openapi-bodies")
    with rig(data, f"sqlite:///{data / 'medic.sqlite'}") as running:
        yield _fetch(running)


def _fetch(running: Rig) -> dict[str, Any]:
    response = running.client.get("/openapi.json")
    assert response.status_code == 200
    found: dict[str, Any] = response.json()
    return found


def _resolve(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    name = ref.removeprefix("#/components/schemas/")
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


@pytest.mark.parametrize("source", SOURCES)
def test_each_webhook_declares_its_body(schema: dict[str, Any], source: str) -> None:
    body = schema["paths"][f"/webhooks/{source}"]["post"]["requestBody"]
    assert body["required"] is True
    declared = _resolve(schema, body["content"]["application/json"]["schema"]["$ref"])
    assert declared.get("additionalProperties", True) is not False


def test_the_alert_formats_are_spelled_out(schema: dict[str, Any]) -> None:
    alertmanager = _resolve(schema, "#/components/schemas/AlertmanagerWebhook")
    assert {"version", "status", "alerts"} <= set(alertmanager["required"])
    alert = _resolve(schema, alertmanager["properties"]["alerts"]["items"]["$ref"])
    assert {"status", "labels", "startsAt"} <= set(alert["required"])
    assert alert["properties"]["fingerprint"]["maxLength"] == 200
    datadog = _resolve(schema, "#/components/schemas/DatadogWebhook")
    assert datadog["required"] == ["date"]
    assert datadog["properties"]["date"]["maximum"] == 253_402_300_799_999
    generic = _resolve(schema, "#/components/schemas/GenericWebhook")
    assert len(generic["anyOf"]) == 3  # one alert, a list of them, or {"alerts": [...]}
