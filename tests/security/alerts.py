"""An Alertmanager webhook body (payload version 4) carrying the injection corpus.

One alert per corpus text plausible as an alert name, all on auth-service in
production (so they group into one incident); every alert carries the label texts as
extra labels and the annotation texts as its summary, description and extra
annotations.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.diagnosis.injection import texts

__all__ = ["SERVICE", "alertmanager_body", "planted_in_alert"]

SERVICE = "auth-service"


def planted_in_alert() -> list[str]:
    return [*texts("alert"), *texts("label"), *texts("annotation")]


def alertmanager_body(now: datetime | None = None) -> bytes:
    starts = (now or datetime.now(UTC)) - timedelta(minutes=2)
    notes = texts("annotation")
    common = {"service": SERVICE, "namespace": "production", "severity": "critical"}
    extra_labels = {f"note{j}": text for j, text in enumerate(texts("label"))}
    annotations = {
        "summary": notes[0],
        "description": notes[1],
        **{f"note{j}": text for j, text in enumerate(notes)},
    }
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": name, **common, **extra_labels},
            "annotations": annotations,
            "startsAt": starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example:9090/graph",
            "fingerprint": f"5ec0{i:012x}",
        }
        for i, name in enumerate(texts("alert"))
    ]
    body = {
        "receiver": "medic",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"service": SERVICE},
        "commonLabels": {**common, **extra_labels},
        "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.example:9093",
        "version": "4",
        "groupKey": '{}:{service="auth-service"}',
        "truncatedAlerts": 0,
    }
    return json.dumps(body).encode()
