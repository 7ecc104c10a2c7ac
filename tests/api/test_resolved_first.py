"""A resolution delivered before its firing (senders retry out of order): the late
firing is recognised as already over (same source, fingerprint and start) and opens
no incident that would wait for approval of a fix for something that has ended."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.api.hostile import Rig, alertmanager_alert, rig, valid_alert, wrap


@pytest.fixture
def medic_in(database_url: str, tmp_path: Path) -> Iterator[Rig]:
    with rig(tmp_path / "data", database_url) as running:
        yield running


def _resolved(alert: dict[str, object]) -> dict[str, object]:
    done = copy.deepcopy(alert)
    done["status"] = "resolved"
    done["endsAt"] = alert["startsAt"]
    return done


def _incidents(medic_in: Rig) -> set[str]:
    return {i.id for i in medic_in.medic.store.list_incidents(limit=1000)}


def test_a_firing_after_its_resolution_opens_no_incident(medic_in: Rig) -> None:
    firing = alertmanager_alert("LateFiring", namespace="shop")
    before = _incidents(medic_in)
    first = medic_in.post("alertmanager", wrap("alertmanager", [_resolved(firing)]))
    assert first.status_code == 202, first.text
    late = medic_in.post("alertmanager", wrap("alertmanager", [firing]))
    assert late.status_code == 202, late.text
    [signal] = late.json()["signals"]
    assert signal["duplicate"] is False  # stored, not lost
    assert signal["incident_id"] is None and signal["new_incident"] is False
    assert _incidents(medic_in) == before


def test_in_one_batch_too(medic_in: Rig) -> None:
    firing = valid_alert("alertmanager", "SameBatch")
    before = _incidents(medic_in)
    body = wrap("alertmanager", [_resolved(firing), firing])
    response = medic_in.post("alertmanager", body)
    assert response.status_code == 202, response.text
    assert [s["incident_id"] for s in response.json()["signals"]] == [None, None]
    assert _incidents(medic_in) == before


def test_a_firing_with_another_start_still_opens_one(medic_in: Rig) -> None:
    old = alertmanager_alert("Recurring")
    old["startsAt"] = "2026-01-01T00:00:00Z"
    medic_in.post("alertmanager", wrap("alertmanager", [_resolved(old)]))
    again = valid_alert("alertmanager", "Recurring")  # a new start: a new alert
    response = medic_in.post("alertmanager", wrap("alertmanager", [again]))
    assert response.status_code == 202, response.text
    [signal] = response.json()["signals"]
    assert signal["incident_id"] is not None and signal["new_incident"] is True


def test_one_alert_without_labels_among_10000_costs_only_itself(
    sqlite_url: str, tmp_path: Path
) -> None:
    # The refusal is the parser's, the same on either database (SQLite: the quicker).
    with rig(tmp_path / "many", sqlite_url) as medic_in:
        _one_bad_among_10000(medic_in)


def _one_bad_among_10000(medic_in: Rig) -> None:
    start = valid_alert("alertmanager", "x")["startsAt"]
    alerts: list[dict[str, object]] = [
        {"status": "firing", "labels": {"alertname": "M", "i": str(i)}, "startsAt": start}
        for i in range(10_000)
    ]
    alerts[4321] = {"status": "firing", "startsAt": start}
    envelope = {"version": "4", "status": "firing", "alerts": alerts}
    body = json.dumps(envelope, separators=(",", ":")).encode()  # under 1 MiB
    response = medic_in.post("alertmanager", body)
    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["accepted"] == 9_999
    assert answer["rejected"] == [{"index": 4321, "reason": "alerts[4321].labels: field required"}]
