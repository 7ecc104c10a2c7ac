"""An in-process medic (the real app, store and ingestion queue, no workflow engine) on
SQLite or PostgreSQL, for the hostile-input tests: bodies, headers and counts a sloppy
or hostile sender would send."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from medic.bootstrap import Medic, build
from medic.settings import Settings

__all__ = [
    "GRAFANA_SECRET",
    "Rig",
    "alertmanager_alert",
    "grafana_alert",
    "rig",
    "sign_grafana",
    "valid_alert",
    "wrap",
]

GRAFANA_SECRET = "grafana-hostile-signing-secret"
SOURCES = ("alertmanager", "grafana", "datadog", "generic")


def _recent() -> str:
    return (datetime.now(UTC) - timedelta(minutes=5)).replace(microsecond=0).isoformat()


def sign_grafana(body: bytes, timestamp: str | None = None) -> dict[str, str]:
    """Grafana's HMAC headers for `body` (timestamped now unless given)."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(GRAFANA_SECRET.encode(), stamp.encode() + b":" + body, hashlib.sha256)
    return {
        "X-Grafana-Alerting-Signature": digest.hexdigest(),
        "X-Grafana-Alerting-Timestamp": stamp,
    }


@dataclass
class Rig:
    medic: Medic
    app: FastAPI
    client: TestClient

    def headers(self, source: str, body: bytes = b"") -> dict[str, str]:
        if source == "grafana":
            return {**sign_grafana(body), "Content-Type": "application/json"}
        token = self.medic.credentials.webhook_tokens[source]
        return {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def user_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {next(iter(self.medic.credentials.users.values()))}"}

    def post(self, source: str, body: bytes) -> Any:
        return self.client.post(
            f"/webhooks/{source}", content=body, headers=self.headers(source, body)
        )

    def stored_names(self) -> set[str]:
        """The names of every signal stored, whichever incident (if any) has it."""
        found: set[str] = set()
        for incident in self.medic.store.list_incidents(limit=10_000):
            found.update(s.name for s in self.medic.store.signals_of(incident.id))
        return found

    def rejected(self) -> list[dict[str, Any]]:
        response = self.client.get("/webhooks/rejected?limit=1000", headers=self.user_headers())
        assert response.status_code == 200, response.text
        records: list[dict[str, Any]] = response.json()
        return records


@contextmanager
def rig(data_dir: Path, database_url: str, *, signed: bool = True) -> Iterator[Rig]:
    """medic in-process; `signed`: Grafana signs its requests (else a bearer token)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    signing = {"grafana": GRAFANA_SECRET} if signed else {}
    (data_dir / "credentials.json").write_text(
        json.dumps({"webhooks": {}, "users": {}, "signing": signing})
    )
    settings = Settings(data_dir=data_dir, database_url=database_url)
    medic = build(settings)  # never started: ingestion only, workflows stay unstarted
    try:
        app = medic.api()
        with TestClient(app, raise_server_exceptions=False) as client:
            yield Rig(medic, app, client)
            queue = getattr(app.state, "ingest_queue", None)
            if queue is not None:
                queue.close()
    finally:
        medic.stop()


def alertmanager_alert(name: str, **labels: str) -> dict[str, Any]:
    return {
        "status": "firing",
        "labels": {"alertname": name, "service": "orders", **labels},
        "annotations": {"summary": name},
        "startsAt": _recent(),
        "endsAt": "0001-01-01T00:00:00Z",
        "fingerprint": hashlib.sha256(name.encode()).hexdigest()[:16],
    }


def grafana_alert(name: str, **labels: str) -> dict[str, Any]:
    return alertmanager_alert(name, **labels)


def generic_alert(name: str) -> dict[str, Any]:
    return {"name": name, "service": "orders", "starts_at": _recent(), "fingerprint": name}


def valid_alert(source: str, name: str) -> dict[str, Any]:
    if source == "generic":
        return generic_alert(name)
    return alertmanager_alert(name)


def wrap(source: str, alerts: list[dict[str, Any]]) -> bytes:
    """A body of `source` carrying `alerts` (in that source's alert format)."""
    if source == "alertmanager":
        envelope: object = {"version": "4", "status": "firing", "receiver": "m", "alerts": alerts}
    elif source == "grafana":
        envelope = {"status": "firing", "receiver": "medic", "orgId": 1, "alerts": alerts}
    else:
        envelope = {"alerts": alerts}
    return json.dumps(envelope).encode()
