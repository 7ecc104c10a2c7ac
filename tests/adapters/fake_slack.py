"""A fake Slack Web API on a local port, following Slack's documented wire format.

`slack_sdk.WebClient(token=..., base_url=fake.base_url)` talks to it over real HTTP.
It answers chat.postMessage, chat.update, chat.postEphemeral, conversations.history
and views.open with the documented response shapes (`{"ok": true, ...}` or `{"ok":
false, "error": ...}`), keeps the messages and modals it was sent, and records every
call for the tests. views.open checks what Slack checks: a trigger id it issued
(`trigger()`), used once, and a modal within Slack's documented limits (title at most
24 characters, private_metadata at most 3000, a callback_id at most 255, at most 100
blocks, block ids unique).
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
    views: dict[str, dict[str, Any]] = field(default_factory=dict)  # view id -> modal
    triggers: set[str] = field(default_factory=set)  # issued and not yet used
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
        if method == "views.open":
            return self._open_view(args)
        if method == "conversations.history":
            latest = self.messages.get((args["channel"], args.get("latest", "")))
            return {"ok": True, "messages": [latest] if latest else [], "has_more": False}
        return {"ok": False, "error": "unknown_method"}

    def trigger(self) -> str:
        """A trigger id, as Slack puts in an interaction payload (good for one view)."""
        self._seq += 1
        trigger_id = f"{self._seq}.4242.{self._seq:08x}"
        self.triggers.add(trigger_id)
        return trigger_id

    def _open_view(self, args: dict[str, Any]) -> dict[str, Any]:
        trigger_id = str(args.get("trigger_id", ""))
        view = args.get("view")
        if isinstance(view, str):  # form-encoded callers send it as JSON text
            view = json.loads(view)
        if trigger_id not in self.triggers:
            return {
                "ok": False,
                "error": "invalid_trigger_id" if trigger_id else "invalid_arguments",
            }
        if not isinstance(view, dict) or not _valid_modal(view):
            return {"ok": False, "error": "invalid_arguments"}
        self.triggers.discard(trigger_id)
        self._seq += 1
        view_id = f"V{self._seq:08d}"
        opened = {**view, "id": view_id, "team_id": "T0", "state": {"values": {}}, "hash": "h"}
        self.views[view_id] = opened
        return {"ok": True, "view": opened}

    def of(self, method: str) -> list[dict[str, Any]]:
        return [c.args for c in self.calls if c.method == method]


def _valid_modal(view: dict[str, Any]) -> bool:
    blocks = view.get("blocks")
    title = view.get("title") or {}
    if view.get("type") != "modal" or not isinstance(blocks, list) or not 0 < len(blocks) <= 100:
        return False
    if title.get("type") != "plain_text" or not 0 < len(str(title.get("text", ""))) <= 24:
        return False
    if len(str(view.get("private_metadata", ""))) > 3000:
        return False
    if len(str(view.get("callback_id", ""))) > 255:
        return False
    ids = [b["block_id"] for b in blocks if "block_id" in b]
    inputs = [b for b in blocks if b.get("type") == "input"]
    if inputs and (view.get("submit") or {}).get("type") != "plain_text":
        return False  # a modal with inputs needs a submit button
    return len(ids) == len(set(ids))
