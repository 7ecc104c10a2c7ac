"""A real local HTTP server speaking PagerDuty's Events API v2 and Opsgenie's Alert API.

Built from the vendors' documented formats:

- PagerDuty `POST /v2/enqueue`: `routing_key` (the integration key), `event_action`
  (`trigger`, `acknowledge`, `resolve`), `dedup_key`; a trigger needs
  `payload.summary`, `payload.source` and `payload.severity` (critical, error,
  warning, info). Answers 202 `{"status": "success", "message": "Event processed",
  "dedup_key": ...}`, or 400 `{"status": "invalid event", "message": "Event object is
  invalid", "errors": [...]}`. A trigger with an open alert's dedup_key adds to it; a
  resolve closes it.
- Opsgenie `POST /v2/alerts` (`message` required, `alias` for de-duplication) and
  `POST /v2/alerts/{alias}/close?identifierType=alias`, authenticated by
  `Authorization: GenieKey <key>`; answered 202 `{"result": "Request will be
  processed", "took": 0.1, "requestId": ...}`; 422 for a bad request and 401 for a bad
  key. `GET /v2/alerts?limit=1` lists alerts (200 `{"data": [...]}`).

`fail_with` makes the next POSTs answer with that status (a vendor outage).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

__all__ = ["FakePaging", "fake_paging"]

ROUTING_KEY = "R0UT1NGKEY0123456789ABCDEFGHIJKL"  # 32 characters, as PagerDuty issues them
GENIE_KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"
_SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class FakePaging:
    url: str = ""
    pagerduty: dict[str, dict[str, Any]] = field(default_factory=dict)  # dedup_key -> alert
    opsgenie: dict[str, dict[str, Any]] = field(default_factory=dict)  # alias -> alert
    requests: list[tuple[str, str, dict[str, str], dict[str, Any]]] = field(default_factory=list)
    fail_with: int | None = None

    def handle(
        self, method: str, target: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        self.requests.append((method, target, headers, body))
        path = urlsplit(target).path
        if self.fail_with is not None and method == "POST":
            return self.fail_with, {"message": "the fake vendor is down"}
        if path == "/v2/enqueue" and method == "POST":
            return self._enqueue(body)
        if path.startswith("/v2/alerts"):
            if headers.get("authorization") != f"GenieKey {GENIE_KEY}":
                return 401, {"message": "Could not authenticate", "took": 0.0}
            return self._opsgenie(method, target, body)
        return 404, {"message": "not found"}

    def _enqueue(self, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        errors = []
        if event.get("routing_key") != ROUTING_KEY:
            errors.append("'routing_key' is invalid")
        action = event.get("event_action")
        if action not in ("trigger", "acknowledge", "resolve"):
            errors.append("'event_action' is invalid")
        payload = event.get("payload") or {}
        if action == "trigger":
            for key in ("summary", "source", "severity"):
                if not payload.get(key):
                    errors.append(f"'payload.{key}' is missing or blank")
            if payload.get("severity") and payload["severity"] not in _SEVERITIES:
                errors.append("'payload.severity' is invalid")
        elif not event.get("dedup_key"):
            errors.append("'dedup_key' is missing or blank")
        if errors:
            return 400, {
                "status": "invalid event",
                "message": "Event object is invalid",
                "errors": errors,
            }
        key = event.get("dedup_key") or uuid.uuid4().hex
        alert = self.pagerduty.get(key)
        if action == "trigger":
            if alert is None or alert["status"] == "resolved":
                self.pagerduty[key] = {"status": "triggered", "events": 1, "payload": payload}
            else:
                alert["events"] += 1
        elif alert is not None and action == "resolve":
            alert["status"] = "resolved"
        return 202, {"status": "success", "message": "Event processed", "dedup_key": key}

    def _opsgenie(
        self, method: str, target: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        parts = urlsplit(target)
        accepted = {
            "result": "Request will be processed",
            "took": 0.1,
            "requestId": str(uuid.uuid4()),
        }
        if method == "GET" and parts.path == "/v2/alerts":
            data = [{"alias": a, "status": v["status"]} for a, v in self.opsgenie.items()]
            return 200, {"data": data[:1], "took": 0.01, "requestId": str(uuid.uuid4())}
        if method == "POST" and parts.path == "/v2/alerts":
            message = body.get("message")
            if not isinstance(message, str) or not message or len(message) > 130:
                return 422, {"message": "Message can not be empty or longer than 130", "took": 0.0}
            alias = body.get("alias") or str(uuid.uuid4())
            alert = self.opsgenie.get(alias)
            if alert is None or alert["status"] == "closed":
                self.opsgenie[alias] = {"status": "open", "count": 1, "alert": body}
            else:
                alert["count"] += 1
            return 202, accepted
        if method == "POST" and parts.path.endswith("/close"):
            alias = unquote(parts.path.removeprefix("/v2/alerts/").removesuffix("/close"))
            if parse_qs(parts.query).get("identifierType") != ["alias"]:
                return 422, {"message": "identifierType must be alias here", "took": 0.0}
            if alias in self.opsgenie:
                self.opsgenie[alias]["status"] = "closed"
                self.opsgenie[alias]["note"] = body.get("note")
            return 202, accepted
        return 404, {"message": "not found"}


def _handler(state: FakePaging) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            self._serve(json.loads(self.rfile.read(length) or b"{}") if length else {})

        def _serve(self, body: dict[str, Any]) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, answer = state.handle(self.command, self.path, headers, body)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def fake_paging() -> Iterator[FakePaging]:
    state = FakePaging()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, name="fake-paging", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
