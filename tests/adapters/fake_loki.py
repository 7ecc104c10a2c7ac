"""A fake Loki, from its documented HTTP API, for `httpx.MockTransport`.

Serves `GET /ready` ("ready", or 503 with the ingester's excuse), `GET
/loki/api/v1/labels` and `GET /loki/api/v1/query_range` for log queries made of a
stream selector (`{name="value", name!="v", name=~"re", name!~"re"}`, Go string
escapes): entries with start <= ts < end (ns), the `limit` newest (`backward`, the
default) or oldest (`forward`) across all matching streams, grouped by stream in
`{"status": "success", "data": {"resultType": "streams", "result": [{"stream": {…},
"values": [["<ns>", "<line>"], …]}]}}`. Like Loki it refuses a limit above
`max_entries_limit_per_query` and a malformed selector with a plain-text 400, and
answers 401 "no org id" when multi-tenant and `X-Scope-OrgID` is missing or wrong.
`fail` queues responses (or transport exceptions) served before the normal ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

__all__ = ["FakeLoki", "Stream"]

_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t"}
_HOUR_NS = 3600 * 10**9


@dataclass
class Stream:
    labels: dict[str, str]
    entries: list[tuple[int, str]]  # (ns, line)


@dataclass
class FakeLoki:
    streams: list[Stream] = field(default_factory=list)
    tenant: str | None = None
    ready: bool = True
    max_entries_limit_per_query: int = 5000
    fail: list[httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def range_queries(self) -> list[httpx.QueryParams]:
        return [r.url.params for r in self.requests if r.url.path.endswith("/query_range")]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            failure = self.fail.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        path = request.url.path
        if path == "/ready":
            if self.ready:
                return httpx.Response(200, text="ready\n")
            return httpx.Response(
                503, text="Ingester not ready: waiting for 15s after being ready\n"
            )
        if self.tenant is not None and request.headers.get("X-Scope-OrgID") != self.tenant:
            return httpx.Response(401, text="no org id\n")
        if path == "/loki/api/v1/labels":
            return self._labels(request.url.params)
        if path == "/loki/api/v1/query_range":
            return self._query_range(request.url.params)
        return httpx.Response(404, text="404 page not found\n")

    def _labels(self, params: httpx.QueryParams) -> httpx.Response:
        end = int(params.get("end", 2**62))
        start = int(params.get("start", end - 6 * _HOUR_NS))
        names = {
            name
            for stream in self.streams
            if any(start <= ns < end for ns, _ in stream.entries)
            for name in stream.labels
        }
        return httpx.Response(200, json={"status": "success", "data": sorted(names)})

    def _query_range(self, params: httpx.QueryParams) -> httpx.Response:
        query = params.get("query")
        if not query:
            return _bad("query parameter is required")
        try:
            limit = int(params.get("limit", "100"))
            end = int(params.get("end", str(2**62)))
            start = int(params.get("start", str(end - _HOUR_NS)))
        except ValueError as e:
            return _bad(f"invalid parameter: {e}")
        if limit > self.max_entries_limit_per_query:
            return _bad(
                "max entries limit per query exceeded, limit > max_entries_limit_per_query "
                f"({limit} > {self.max_entries_limit_per_query})"
            )
        direction = params.get("direction", "backward").lower()
        try:
            matchers = _parse_selector(query)
        except ValueError as e:
            return _bad(f"parse error : {e}")
        picked = [
            (ns, index, line)
            for index, stream in enumerate(self.streams)
            if all(_matches(stream.labels.get(name, ""), op, value) for name, op, value in matchers)
            for ns, line in stream.entries
            if start <= ns < end
        ]
        picked.sort(key=lambda e: e[0], reverse=direction == "backward")
        grouped: dict[int, list[list[str]]] = {}
        for ns, index, line in picked[:limit]:
            grouped.setdefault(index, []).append([str(ns), line])
        result = [
            {"stream": self.streams[index].labels, "values": values}
            for index, values in grouped.items()
        ]
        data = {"resultType": "streams", "result": result, "stats": {"summary": {}}}
        return httpx.Response(200, json={"status": "success", "data": data})


def _parse_selector(query: str) -> list[tuple[str, str, str]]:
    text = query.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"syntax error: unexpected {text[:1]!r}, expecting {{")
    body, matchers, position = text[1:-1], [], 0
    while position < len(body):
        found = _MATCHER.match(body, position)
        if not found:
            raise ValueError(f"line 1, col {position + 2}: syntax error near {body[position:]!r}")
        matchers.append((found[1], found[2], _unescape(found[3])))
        position = found.end()
        if position < len(body):
            if body[position] != ",":
                raise ValueError(f"line 1, col {position + 2}: syntax error: expecting ','")
            position += 1
    if not matchers:
        raise ValueError("queries require at least one regexp or equality matcher")
    return matchers


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), value)


def _matches(actual: str, op: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    hit = re.fullmatch(value, actual) is not None
    return hit if op == "=~" else not hit


def _bad(message: str) -> httpx.Response:
    return httpx.Response(400, text=message + "\n", headers={"Content-Type": "text/plain"})
