"""`LogSource` on Grafana Loki's HTTP API (`GET /loki/api/v1/query_range`, LogQL).

A service's lines are the stream selector `{<namespace_label>="…", <service_label>="…"}`
(label names configurable: `namespace`/`app` by default, as Promtail's and Alloy's
Kubernetes discovery set them), read newest first (`direction=backward`) so that a
limit keeps the lines nearest the incident, and returned oldest first as the port
says. A limit above Loki's `max_entries_limit_per_query` (5000 by default) is served
by paging backwards, never by asking for more than Loki allows; a line longer than
`max_line_chars` is cut, so a flood of huge lines cannot exhaust memory.

Errors: 400 carries Loki's own text (a LogQL parse error, a limit exceeded) and is a
PermanentError naming the query; 401/403 (a gateway in front of Loki) is one naming
the credentials; 429, 5xx, timeouts and connection errors are retried, then raised as
TransientError. Log lines are untrusted text: they are data here, never parsed for
anything but a level.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import httpx

from medic.adapters.http import RetryingClient, WallClock
from medic.domain.cluster import LogLine
from medic.domain.errors import InvalidInputError, PermanentError, TransientError
from medic.ports.clock import Clock

__all__ = ["LokiLogs", "logql_selector"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MESSAGE_CHARS = 500
_LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LEVEL_LABELS = ("level", "detected_level", "severity", "lvl")
# `level=error`, `"level":"error"`, `[ERROR]`: how most loggers spell it.
_LEVEL_IN_LINE = re.compile(
    r"""(?:\blevel["']?\s*[=:]\s*["']?|\[)"""
    r"(trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit|panic)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Entry:
    ns: int
    labels: tuple[tuple[str, str], ...]
    line: str


def logql_selector(labels: Mapping[str, str]) -> str:
    """A LogQL stream selector matching `labels` exactly, values quoted safely."""
    return "{" + ", ".join(f"{name}={_quote(value)}" for name, value in labels.items()) + "}"


class LokiLogs:
    """Read a service's log lines from Loki.

    `tenant` sets `X-Scope-OrgID` (multi-tenant Loki); `auth` is (user, password) for
    basic auth (Grafana Cloud: the instance id and a token); `headers` adds any other.
    """

    def __init__(
        self,
        base_url: str,
        *,
        namespace_label: str = "namespace",
        service_label: str = "app",
        pod_label: str = "pod",
        tenant: str | None = None,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 15.0,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 30.0,
        max_entries_per_query: int = 5000,
        max_line_chars: int = 4096,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        for label in (namespace_label, service_label, pod_label):
            if not _LABEL_NAME.match(label):
                raise InvalidInputError(f"{label!r} is not a Loki label name")
        self.base_url = base_url.rstrip("/")
        self.namespace_label = namespace_label
        self.service_label = service_label
        self.pod_label = pod_label
        self.max_entries_per_query = max(1, max_entries_per_query)
        self.max_line_chars = max(1, max_line_chars)
        self._clock: Clock = clock or WallClock()
        sent = {"Accept": "application/json", "User-Agent": "medic", **(headers or {})}
        if tenant:
            sent["X-Scope-OrgID"] = tenant
        client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=sent,
            auth=auth,
            transport=transport,
        )
        self._http = RetryingClient(
            client,
            f"Loki at {self.base_url}",
            retries=retries,
            backoff_seconds=backoff_seconds,
            max_wait_seconds=max_wait_seconds,
            sleep=self._clock.sleep,
        )

    def __enter__(self) -> LokiLogs:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def logql(self, namespace: str, service: str) -> str:
        return logql_selector({self.namespace_label: namespace, self.service_label: service})

    def lines(
        self,
        namespace: str,
        service: str,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[LogLine]:
        """The newest `limit` lines of the service in [start, end], oldest first."""
        if limit <= 0 or end < start:
            return []
        query = self.logql(namespace, service)
        entries = self.newest(query, _ns(start), _ns(end) + 1, limit)
        return [self._line(entry, service) for entry in reversed(entries)]

    def newest(self, query: str, start_ns: int, end_ns: int, limit: int) -> list[_Entry]:
        """At most `limit` entries in [start_ns, end_ns), newest first, paging backwards.

        Each page ends just after the oldest entry of the previous one (Loki's `end` is
        exclusive), and the entries at that instant already seen are skipped: several
        lines may share a nanosecond, and a page boundary must not lose or repeat any.
        """
        found: list[_Entry] = []
        seen_at_edge: set[_Entry] = set()
        while len(found) < limit:
            ask = min(self.max_entries_per_query, limit - len(found) + len(seen_at_edge))
            page = self._query_range(query, start_ns, end_ns, ask)
            fresh = [e for e in page if e not in seen_at_edge]
            found.extend(fresh[: limit - len(found)])
            if len(page) < ask or not fresh:
                break  # the range is exhausted
            edge = page[-1].ns
            seen_at_edge = {e for e in found if e.ns == edge}
            end_ns = edge + 1
            if len(seen_at_edge) >= self.max_entries_per_query:
                # One instant holds a whole page: the rest of it cannot be paged to.
                seen_at_edge, end_ns = set(), edge
        return found

    def health(self) -> str:
        """A one-line status: Loki is ready and answers label queries."""
        ready = self._http.get("/ready", None, "readiness check", retries=0)
        # A gateway in front of Loki (Grafana Cloud) may not route /ready: the label
        # query below is then the check.
        if ready.status_code != 404 and ready.status_code >= 300:
            raise TransientError(
                f"Loki at {self.base_url} is not ready ({ready.status_code}): "
                f"{ready.text[:_MESSAGE_CHARS].strip()}"
            )
        now = self._clock.now()
        params = {"start": str(_ns(now - timedelta(hours=1))), "end": str(_ns(now))}
        data = self._get("/loki/api/v1/labels", params, "listing labels")
        labels = [str(x) for x in data] if isinstance(data, list) else []
        if not labels:
            return f"Loki at {self.base_url}: ready, but no log streams in the last hour"
        wanted = (self.namespace_label, self.service_label)
        missing = [x for x in wanted if x not in labels]
        if missing:
            raise PermanentError(
                f"Loki at {self.base_url} has no label {', '.join(missing)} (it has: "
                f"{', '.join(sorted(labels)[:20])}); set the label names medic selects by"
            )
        return f"Loki at {self.base_url}: ready, {len(labels)} labels in the last hour"

    def _query_range(self, query: str, start_ns: int, end_ns: int, limit: int) -> list[_Entry]:
        params = {
            "query": query,
            "start": str(start_ns),
            "end": str(end_ns),
            "limit": str(limit),
            "direction": "backward",
        }
        data = self._get("/loki/api/v1/query_range", params, f"the LogQL query {query}")
        if not isinstance(data, dict) or data.get("resultType") != "streams":
            kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
            raise PermanentError(f"{query}: expected streams from Loki, got {kind}")
        entries = sorted(_entries(data.get("result"), query), key=lambda e: e.ns, reverse=True)
        return entries[:limit]  # a Loki that ignores the limit must not flood medic

    def _get(self, path: str, params: dict[str, str], what: str) -> Any:
        response = self._http.get(path, params, what)
        status = response.status_code
        if status in (401, 403):
            raise PermanentError(
                f"{what}: Loki at {self.base_url} refused the credentials ({status} "
                f"{_message(response)}); check the tenant, user and token medic sends"
            )
        if status == 400:
            raise InvalidInputError(f"{what}: Loki rejected it (400): {_message(response)}")
        if status >= 300:
            raise PermanentError(
                f"{what}: Loki at {self.base_url} answered {status}: {_message(response)}"
            )
        try:
            body = response.json()
        except ValueError as e:
            raise PermanentError(
                f"{what}: {self.base_url}{path} did not answer JSON: {response.text[:200]!r}"
            ) from e
        if not isinstance(body, dict) or body.get("status") != "success":
            raise PermanentError(f"{what}: Loki answered an error: {_message(response)}")
        return body.get("data")

    def _line(self, entry: _Entry, service: str) -> LogLine:
        labels = dict(entry.labels)
        message = entry.line
        if len(message) > self.max_line_chars:
            message = message[: self.max_line_chars] + " …[truncated]"
        return LogLine(
            at=_EPOCH + timedelta(microseconds=entry.ns // 1000),
            service=service,
            pod=labels.get(self.pod_label, ""),
            message=message,
            level=_level(labels, entry.line),
        )


def _entries(result: Any, query: str) -> Iterable[_Entry]:
    for stream in result or []:
        if not isinstance(stream, dict):
            raise PermanentError(f"{query}: Loki answered a malformed stream {stream!r:.200}")
        raw_labels = stream.get("stream") or {}
        labels = tuple(sorted((str(k), str(v)) for k, v in raw_labels.items()))
        for value in stream.get("values") or []:
            try:
                ns, line = int(value[0]), str(value[1])
            except (TypeError, ValueError, IndexError) as e:
                raise PermanentError(
                    f"{query}: Loki answered a malformed entry {value!r:.200}"
                ) from e
            yield _Entry(ns, labels, line)


def _level(labels: Mapping[str, str], line: str) -> str:
    for name in _LEVEL_LABELS:
        if labels.get(name):
            return _normal(labels[name])
    found = _LEVEL_IN_LINE.search(line[:200])
    return _normal(found.group(1)) if found else "info"


def _normal(level: str) -> str:
    level = level.lower()
    return {"warning": "warn", "err": "error", "crit": "critical"}.get(level, level)


def _message(response: httpx.Response) -> str:
    """Loki answers errors as plain text; a proxy may answer JSON with `message`/`error`."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MESSAGE_CHARS].strip() or response.reason_phrase
    if isinstance(body, dict):
        text = body.get("error") or body.get("message")
        if text:
            return str(text)[:_MESSAGE_CHARS]
    return str(body)[:_MESSAGE_CHARS]


def _ns(at: datetime) -> int:
    return (at - _EPOCH) // timedelta(microseconds=1) * 1000


def _quote(value: str) -> str:
    # Names come from alerts and configuration: never let one end the string literal.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
