"""Shared helpers for the webhook tests against a real `medic serve`."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx

from tests.server import MedicServer

FIXTURES = Path(__file__).parents[1] / "signals" / "fixtures"
SECRET = "grafana-and-generic-signing-secret"


def with_signing_secret(data_dir: Path) -> None:
    """Configure signing secrets before the server first starts (it keeps them)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "credentials.json").write_text(
        json.dumps({"webhooks": {}, "users": {}, "signing": {"grafana": SECRET}})
    )


def sign(body: bytes, timestamp: str | None = None) -> str:
    message = body if timestamp is None else timestamp.encode() + b":" + body
    return hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()


def post(
    server: MedicServer, source: str, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.post(
        f"{server.url}/webhooks/{source}",
        content=body,
        headers=headers if headers is not None else server.webhook_headers(source),
        timeout=30,
    )


def generic_alert(name: str, service: str, status: str = "firing", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "service": service,
        "namespace": "production",
        "status": status,
        "starts_at": "2026-11-27T18:00:00Z",
        "fingerprint": f"{service}-{name}",
        **extra,
    }


def rejected(server: MedicServer) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{server.url}/webhooks/rejected", headers=server.user_headers(), timeout=10
    )
    response.raise_for_status()
    result: list[dict[str, Any]] = response.json()
    return result
