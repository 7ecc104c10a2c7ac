"""A real local HTTP server speaking the LLM vendors' wire formats, for the agent tests.

`FakeLLM` listens on 127.0.0.1 and answers, as documented by the vendors:

- OpenAI Chat Completions, `POST {base}/v1/chat/completions` (OpenAI, and the
  OpenAI-compatible servers vLLM, LM Studio and Ollama's `/v1` endpoint), with
  `choices[].message.tool_calls[]` and a `usage` block of `prompt_tokens` /
  `completion_tokens`; `GET /v1/models` as `{"object": "list", "data": [...]}`;
- Anthropic Messages, `POST {base}/v1/messages`, with `content[]` blocks of type
  `tool_use` / `text`, `stop_reason` and `usage` of `input_tokens` / `output_tokens`;
  `GET /v1/models` as `{"data": [...], "has_more": false, ...}` when the request
  carries an `anthropic-version` header.

Each POST is answered by the next `Reply` queued (a function of the request, so an
answer can name the output tool the agent offered); every request is recorded with
its headers, so tests can check what the provider SDK sent. A reply may `hold` the
response until the server stops: the client's own timeout then fires.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FakeLLM",
    "Received",
    "Reply",
    "anthropic_message",
    "anthropic_tool_use",
    "fake_llm",
    "hold",
    "final_args",
    "openai_completion",
    "openai_tool_call",
    "output_tool",
    "raw",
]


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-cased names
    body: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    hold: bool = False  # never answer (until the server stops): a timeout


Answer = Callable[[Received], Reply]


def raw(status: int, body: bytes | str, content_type: str = "application/json") -> Answer:
    data = body.encode() if isinstance(body, str) else body
    return lambda _: Reply(status, data, content_type)


def _json(status: int, obj: object) -> Reply:
    return Reply(status, json.dumps(obj).encode())


def output_tool(received: Received) -> str:
    """The name of the output tool the agent offered (OpenAI or Anthropic tool list)."""
    for tool in received.body.get("tools", []):
        name = tool.get("function", {}).get("name") or tool.get("name", "")
        if "final" in name:
            return str(name)
    raise AssertionError(f"no output tool offered: {received.body.get('tools')!r}")


def final_args(
    hypotheses: list[dict[str, Any]] | None = None,
    narrative: str = "",
    check_next: list[str] | None = None,
) -> dict[str, Any]:
    return {
        "hypotheses": hypotheses or [],
        "narrative": narrative,
        "check_next": check_next or [],
    }


def openai_completion(
    message: dict[str, Any], *, prompt_tokens: int = 2000, completion_tokens: int = 100
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_800_000_000,
        "model": "fake-model",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": message}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_tool_call(
    name: str | Callable[[Received], str],
    arguments: dict[str, Any] | str,
    *,
    prompt_tokens: int = 2000,
    completion_tokens: int = 100,
) -> Answer:
    """An OpenAI answer calling tool `name` (or the output tool) with `arguments`
    (a string is sent verbatim: truncated or invalid JSON)."""

    def answer(received: Received) -> Reply:
        tool = name(received) if callable(name) else name
        args = arguments if isinstance(arguments, str) else json.dumps(arguments)
        call = {"id": "call_1", "type": "function", "function": {"name": tool, "arguments": args}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        return _json(
            200,
            openai_completion(
                message, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
            ),
        )

    return answer


def anthropic_message(
    content: list[dict[str, Any]], *, input_tokens: int = 2000, output_tokens: int = 100
) -> dict[str, Any]:
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": "claude-fake",
        "content": content,
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_tool_use(
    name: str | Callable[[Received], str],
    arguments: dict[str, Any],
    *,
    input_tokens: int = 2000,
    output_tokens: int = 100,
) -> Answer:
    def answer(received: Received) -> Reply:
        tool = name(received) if callable(name) else name
        block = {"type": "tool_use", "id": "toolu_1", "name": tool, "input": arguments}
        body = anthropic_message([block], input_tokens=input_tokens, output_tokens=output_tokens)
        return _json(200, body)

    return answer


def hold() -> Answer:
    return lambda _: Reply(200, b"", hold=True)


@dataclass
class FakeLLM:
    """The server's state: answers to give, requests seen."""

    answers: deque[Answer] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    models: tuple[str, ...] = ("fake-model",)
    url: str = ""
    released: threading.Event = field(default_factory=threading.Event)
    api_key: str | None = None  # when set, a request with another key gets a 401

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)

    @property
    def posts(self) -> list[Received]:
        return [r for r in self.received if r.method == "POST"]

    def handle(self, received: Received) -> Reply:
        self.received.append(received)
        if self.api_key is not None and not self._authenticated(received.headers):
            return _json(401, {"error": {"type": "authentication_error", "message": "bad key"}})
        if received.method == "GET":
            return self._models(received)
        if not self.answers:
            return _json(500, {"error": {"message": "the fake LLM has no answer queued"}})
        return self.answers.popleft()(received)

    def _authenticated(self, headers: dict[str, str]) -> bool:
        if "anthropic-version" in headers:  # Anthropic: the key in x-api-key
            return headers.get("x-api-key") == self.api_key
        return headers.get("authorization") == f"Bearer {self.api_key}"

    def _models(self, received: Received) -> Reply:
        if not received.path.rstrip("/").endswith("/models"):
            return _json(404, {"error": {"message": f"no route {received.path}"}})
        if "anthropic-version" in received.headers:
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2026-01-01T00:00:00Z"}
                for m in self.models
            ]
            first, last = (self.models[0], self.models[-1]) if self.models else (None, None)
            return _json(200, {"data": data, "has_more": False, "first_id": first, "last_id": last})
        listed = [
            {"id": m, "object": "model", "created": 1_800_000_000, "owned_by": "fake"}
            for m in self.models
        ]
        return _json(200, {"object": "list", "data": listed})


def _handler(state: FakeLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self._serve({})

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            data = self.rfile.read(length) if length else b"{}"
            self._serve(json.loads(data or b"{}"))

        def _serve(self, body: dict[str, Any]) -> None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = state.handle(Received(self.command, self.path, headers, body))
            if reply.hold:
                state.released.wait()
                return
            self.send_response(reply.status)
            self.send_header("content-type", reply.content_type)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def fake_llm() -> Iterator[FakeLLM]:
    """A running FakeLLM; its `url` is the base (no `/v1`)."""
    state = FakeLLM()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    state.url = f"http://{host!s}:{port}"
    thread = threading.Thread(target=server.serve_forever, name="fake-llm", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
