"""A fake Datadog API, from its documented wire format, for `httpx.MockTransport`.

Serves `GET /api/v1/validate` (API key only: `{"valid": true}` or 403) and
`GET /api/v1/query` (both keys; `from`/`to` seconds and `query` required; answers
`{"status": "ok", "series": [{"pointlist": [[ms, value|null], …], "scope", "metric",
"interval", …}]}` for the series stored under that exact query, `series: []` for any
other well-formed one). Errors have Datadog's shape, `{"errors": ["…"]}`; every answer
carries the documented `X-RateLimit-*` headers. `fail` queues responses (or transport
exceptions) served before the normal ones, for rate limits, outages and timeouts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx

__all__ = ["API_KEY", "APP_KEY", "FakeDatadog", "StoredSeries", "rate_limited"]

API_KEY = "0123456789abcdef0123456789abcdef"
APP_KEY = "fedcba9876543210fedcba9876543210fedcba98"
_RATE_LIMIT = {
    "X-RateLimit-Limit": "1600",
    "X-RateLimit-Period": "3600",
    "X-RateLimit-Name": "metrics_query",
}


@dataclass
class StoredSeries:
    """What the fake answers for one query: rollup buckets by start time (seconds)."""

    metric: str
    scope: str
    interval: int
    points: Sequence[tuple[int, float | None]]


@dataclass
class FakeDatadog:
    api_key: str = API_KEY
    app_key: str = APP_KEY
    series: dict[str, list[StoredSeries]] = field(default_factory=dict)
    fail: list[httpx.Response | Exception] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def queries(self) -> list[str]:
        return [r.url.params["query"] for r in self.requests if r.url.path == "/api/v1/query"]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.fail:
            failure = self.fail.pop(0)
            if isinstance(failure, Exception):
                raise failure
            return failure
        if request.method != "GET":
            return _error(405, "Method Not Allowed")
        if request.headers.get("DD-API-KEY") != self.api_key:
            return _error(403, "Forbidden")
        if request.url.path == "/api/v1/validate":
            return _ok({"valid": True})
        if request.headers.get("DD-APPLICATION-KEY") != self.app_key:
            return _error(403, "Forbidden")
        if request.url.path == "/api/v1/query":
            return self._query(request.url.params)
        return _error(404, "Not found")

    def _query(self, params: httpx.QueryParams) -> httpx.Response:
        missing = [name for name in ("from", "to", "query") if not params.get(name)]
        if missing:
            return _error(400, f"The parameter '{missing[0]}' is required")
        try:
            start, end = int(params["from"]), int(params["to"])
        except ValueError:
            return _error(400, "The parameters 'from' and 'to' must be integers")
        query = params["query"]
        problem = _syntax_problem(query)
        if problem:
            return _error(400, f"Error parsing query: {problem}")
        series = [
            _series(stored, start, end, index)
            for index, stored in enumerate(self.series.get(query, []))
        ]
        return _ok(
            {
                "status": "ok",
                "res_type": "time_series",
                "query": query,
                "from_date": start * 1000,
                "to_date": end * 1000,
                "group_by": [],
                "message": "",
                "series": series,
            }
        )


def rate_limited(reset_seconds: int) -> httpx.Response:
    """Datadog's 429, with the headers that say when the period resets."""
    headers = {**_RATE_LIMIT, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset_seconds)}
    return httpx.Response(429, headers=headers, json={"errors": ["Too many requests"]})


def _series(stored: StoredSeries, start: int, end: int, index: int) -> dict[str, object]:
    inside = [(t, v) for t, v in stored.points if start <= t <= end]
    return {
        "metric": stored.metric,
        "display_name": stored.metric,
        "expression": f"{stored.metric}{{{stored.scope}}}",
        "scope": stored.scope,
        "tag_set": stored.scope.split(","),
        "aggr": "max",
        "interval": stored.interval,
        "length": len(inside),
        "query_index": index,
        "start": inside[0][0] * 1000 if inside else start * 1000,
        "end": (inside[-1][0] + stored.interval) * 1000 - 1 if inside else end * 1000,
        "pointlist": [[float(t * 1000), v] for t, v in inside],
        "unit": None,
    }


def _syntax_problem(query: str) -> str | None:
    """Enough of Datadog's parser to refuse what medic must never send."""
    depth = {"{": 0, "(": 0}
    closing = {"}": "{", ")": "("}
    for position, char in enumerate(query):
        if char in depth:
            depth[char] += 1
        elif char in closing:
            depth[closing[char]] -= 1
            if depth[closing[char]] < 0:
                return f"unexpected '{char}' at position {position}"
    if any(depth.values()):
        return "unbalanced brackets"
    if ":" not in query.split("{", 1)[0]:
        return "expected an aggregator such as 'avg:' before the metric"
    return None


def _ok(body: object) -> httpx.Response:
    headers = {**_RATE_LIMIT, "X-RateLimit-Remaining": "1599", "X-RateLimit-Reset": "1800"}
    return httpx.Response(200, headers=headers, json=body)


def _error(status: int, message: str) -> httpx.Response:
    return httpx.Response(status, json={"errors": [message]})
