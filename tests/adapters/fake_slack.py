"""A fake Slack Web API on a local port, following Slack's documented wire format.

`slack_sdk.WebClient(token=..., base_url=fake.base_url)` talks to it over real HTTP.
It answers chat.postMessage, chat.update, chat.postEphemeral and conversations.history
with the documented response shapes (`{"ok": true, ...}` or `{"ok": false, "error":
...}`), keeps the messages it was sent, and records every call for the tests.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["BOT_TOKEN", "FakeSlack", "SlackCall"]

BOT_TOKEN = "xoxb-test-token"


@dataclass(frozen=True)
class SlackCall:
    method: str
    args: dict[str, Any]


@dataclass
class FakeSlack:
    calls: list[SlackCall] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    fail_with: str | None = None  # the next call answers {"ok": false, "error": this}
    _seq: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/"

    def __enter__(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlparse(self.path)
                self._answer(url.path, {k: v[0] for k, v in parse_qs(url.query).items()})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-type", "").startswith("application/json"):
                    args = json.loads(body or b"{}")
                else:
                    args = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                self._answer(urlparse(self.path).path, args)

            def _answer(self, path: str, args: dict[str, Any]) -> None:
                if self.headers.get("authorization") != f"Bearer {BOT_TOKEN}":
                    reply: dict[str, Any] = {"ok": False, "error": "invalid_auth"}
                else:
                    reply = fake.handle(path.removeprefix("/api/"), args)
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    def handle(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(SlackCall(method, args))
        if self.fail_with:
            error, self.fail_with = self.fail_with, None
            return {"ok": False, "error": error}
        if method == "chat.postMessage":
            self._seq += 1
            ts = f"1714824000.{self._seq:06d}"
            message = {
                "type": "message",
                "ts": ts,
                "text": args.get("text", ""),
                "blocks": args.get("blocks", []),
            }
            self.messages[(args["channel"], ts)] = message
            return {"ok": True, "channel": args["channel"], "ts": ts, "message": message}
        if method == "chat.update":
            found = self.messages.get((args["channel"], args["ts"]))
            if found is None:
                return {"ok": False, "error": "message_not_found"}
            found.update(text=args.get("text", ""), blocks=args.get("blocks", found["blocks"]))
            return {
                "ok": True,
                "channel": args["channel"],
                "ts": args["ts"],
                "text": found["text"],
                "message": found,
            }
        if method == "chat.postEphemeral":
            self._seq += 1
            return {"ok": True, "message_ts": f"1714824000.{self._seq:06d}"}
        if method == "conversations.history":
            latest = self.messages.get((args["channel"], args.get("latest", "")))
            return {"ok": True, "messages": [latest] if latest else [], "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]
