"""`MetricsSource` on Prometheus' HTTP API (or VictoriaMetrics', the same API).

Each `MetricName` is one PromQL template of the query catalogue
(`medic.adapters.prometheus_queries`): by default the `kubernetes` preset over
cAdvisor, kube-state-metrics and OpenTelemetry HTTP server series, the names
`medic sandbox export-openmetrics` and `medic sandbox serve` use, so one set of
queries serves the sandbox and a real cluster; other presets and the user's own
templates come from settings.

A range query of step S answers, at each instant t (a multiple of S), for the
window (t - W, t] with W = max(S, `min_window_seconds`): rates are the window's
mean, a gauge its max, min or last value. That is how the sandbox folds a coarse
step, so both sources agree point by point.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from medic.adapters.http import RetryingClient
from medic.adapters.prometheus_queries import QueryCatalogue, catalogue
from medic.adapters.prometheus_queries import duration as _duration
from medic.domain.cluster import MetricName
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Point, Series

__all__ = ["PromAccess", "PrometheusMetrics", "PromSeries", "promql_for"]

_MAX_POINTS = 10_000  # Prometheus refuses ranges of more than 11,000 points per series
_ERROR_CHARS = 500
_EPSILON = 1e-9

_UNITS = {
    MetricName.MEMORY_WORKING_SET_BYTES: "bytes",
    MetricName.MEMORY_LIMIT_BYTES: "bytes",
    MetricName.CPU_USAGE_CORES: "cores",
    MetricName.REQUEST_RATE: "requests/s",
    MetricName.ERROR_RATIO: "ratio",
    MetricName.LATENCY_P99_SECONDS: "seconds",
    MetricName.RESTARTS: "count",
    MetricName.AVAILABLE_REPLICAS: "replicas",
    MetricName.SATURATION: "ratio",
    MetricName.DISK_USAGE_RATIO: "ratio",
}

_DEFAULT = catalogue("kubernetes", {})


@dataclass(frozen=True)
class PromSeries:
    """One series of a PromQL result: its labels and its (finite) points."""

    labels: Mapping[str, str] = field(default_factory=dict)
    points: tuple[Point, ...] = ()


def promql_for(
    namespace: str,
    service: str,
    metric: MetricName,
    window_seconds: float,
    queries: QueryCatalogue = _DEFAULT,
) -> str:
    """The PromQL of `metric` for one service, over windows of `window_seconds`.

    Range selectors of Prometheus 2 include the window's left edge: the gauges look
    one second less far back (`$gauge_window`), so a window holds the same samples as
    the sandbox's left-open bucket; a rate needs that edge sample as its baseline.
    """
    return queries.render(str(MetricName(metric)), namespace, service, window_seconds)


@dataclass(frozen=True)
class PromAccess:
    """How to reach the server: credentials, TLS, and caps on what one query may return."""

    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    insecure_skip_verify: bool = False
    max_series: int = 500
    max_points: int = 500_000
    graph_url: str | None = None  # the UI the evidence links to; default: the base URL
    kind: str = "Prometheus"  # or "VictoriaMetrics": same API, another graph page


class PrometheusMetrics:
    """Read metrics from Prometheus (or anything speaking its HTTP query API).

    Transient failures (connection errors, timeouts, 5xx, 429) are retried `retries`
    times with exponential backoff, then raised as TransientError; a rejected query
    (4xx) is a PermanentError naming the query and Prometheus' own message; so is an
    answer over `access.max_series` series or `access.max_points` points.
    """

    query_key = "promql"  # the evidence data key of the exact query

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        min_window_seconds: float = 60.0,
        headers: Mapping[str, str] | None = None,
        queries: QueryCatalogue = _DEFAULT,
        access: PromAccess | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff_seconds = backoff_seconds
        self.min_window_seconds = max(2.0, min_window_seconds)
        self.queries = queries
        self.access = access or PromAccess()
        client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=_headers(headers, self.access),
            auth=_basic_auth(self.access),
            verify=_verify(self.access),
            transport=transport,
        )
        self._http = RetryingClient(
            client,
            f"{self.access.kind} at {self.base_url}",
            retries=self.retries,
            backoff_seconds=backoff_seconds,
            sleep=sleep,
            describe=_message,
        )

    def __enter__(self) -> PrometheusMetrics:
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

    def covers(self, metric: MetricName) -> bool:
        """Whether the query catalogue has a query for `metric`."""
        return self.queries.has(str(MetricName(metric)))

    def promql(self, namespace: str, service: str, metric: MetricName, step_seconds: float) -> str:
        window = max(step_seconds, self.min_window_seconds)
        return promql_for(namespace, service, metric, window, self.queries)

    def query_text(
        self, namespace: str, service: str, metric: MetricName, step_seconds: float
    ) -> str:
        """The exact PromQL `query` sends (the evidence records it)."""
        return self.promql(namespace, service, metric, step_seconds)

    def graph_link(self, promql: str, start: datetime, end: datetime) -> str:
        """The server's own graph of `promql` over [start, end]."""
        base = (self.access.graph_url or self.base_url).rstrip("/")
        span = _duration(max(60.0, (end - start).total_seconds()))
        if self.access.kind == "VictoriaMetrics":
            query = urlencode({"g0.expr": promql, "g0.range_input": span})
            return f"{base}/vmui/#/?{query}"
        query = urlencode(
            {
                "g0.expr": promql,
                "g0.tab": "0",
                "g0.range_input": span,
                "g0.end_input": end.strftime("%Y-%m-%d %H:%M:%S"),
            }
        )
        return f"{base}/graph?{query}"

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        metric = MetricName(metric)
        if not self.covers(metric):
            # Not in the catalogue (a host has no HTTP latency): no data, by configuration;
            # the diagnosis says so (`covers`), the watchdog simply has nothing to scan.
            return Series(metric.value, service, (), {"namespace": namespace}, _UNITS[metric])
        expression = self.promql(namespace, service, metric, step_seconds)
        found = self.query_range(expression, start, end, step_seconds)
        if len(found) > 1:
            raise PermanentError(
                f"{expression}: expected one series from {self.access.kind}, got {len(found)} "
                f"(aggregate it in prometheus.queries.{metric.value})"
            )
        return Series(
            metric=metric.value,
            service=service,
            points=found[0].points if found else (),
            labels={"namespace": namespace},
            unit=_UNITS[metric],
        )

    def query_range(
        self, promql: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[PromSeries]:
        """A range query at the multiples of the step in [start, end] (split if long)."""
        if step_seconds <= 0:
            raise PermanentError(f"{promql}: the step must be > 0, not {step_seconds}")
        first = math.ceil(start.timestamp() / step_seconds - _EPSILON)
        last = math.floor(end.timestamp() / step_seconds + _EPSILON)
        merged: dict[tuple[tuple[str, str], ...], list[Point]] = {}
        for low in range(first, last + 1, _MAX_POINTS):
            high = min(last, low + _MAX_POINTS - 1)
            params = {
                "query": promql,
                "start": _number(low * step_seconds),
                "end": _number(high * step_seconds),
                "step": _number(step_seconds),
                "timeout": _duration(self.timeout),
            }
            data = self._get("/api/v1/query_range", params, promql)
            for series in _parse(data, "matrix", promql):
                merged.setdefault(tuple(sorted(series.labels.items())), []).extend(series.points)
            self._check_caps(promql, len(merged), sum(len(p) for p in merged.values()))
        return [PromSeries(dict(labels), tuple(points)) for labels, points in merged.items()]

    def expression(
        self, query: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        """Any PromQL (an alert's expression) at the step multiples in [start, end] and at
        `end` itself (an alert that fired seconds ago may fall between two steps), one
        Series per result series."""
        merged: dict[tuple[tuple[str, str], ...], list[Point]] = {
            tuple(sorted(found.labels.items())): list(found.points)
            for found in self.query_range(query, start, end, step_seconds)
        }
        for found in self.instant(query, end):
            points = merged.setdefault(tuple(sorted(found.labels.items())), [])
            points.extend(p for p in found.points if not points or p.t > points[-1].t)
        self._check_caps(query, len(merged), sum(len(p) for p in merged.values()))
        return [
            Series(
                metric="expression",
                service=dict(labels).get("service") or dict(labels).get("job") or "",
                points=tuple(points),
                labels=dict(labels),
            )
            for labels, points in merged.items()
        ]

    def instant(self, promql: str, at: datetime | None = None) -> list[PromSeries]:
        """An instant query (at `at`, or Prometheus' now): one point per series."""
        params = {"query": promql, "timeout": _duration(self.timeout)}
        if at is not None:
            params["time"] = _number(at.timestamp())
        found = _parse(self._get("/api/v1/query", params, promql), "vector", promql)
        self._check_caps(promql, len(found), len(found))
        return found

    def _check_caps(self, promql: str, series: int, points: int) -> None:
        cap = self.access
        if series > cap.max_series:
            raise PermanentError(
                f"{promql}: {self.access.kind} returned {series} series, more than "
                f"prometheus.max_series ({cap.max_series}): narrow or aggregate the query"
            )
        if points > cap.max_points:
            raise PermanentError(
                f"{promql}: {self.access.kind} returned {points} points, more than "
                f"prometheus.max_points ({cap.max_points}): shorten the window or the query"
            )

    def health(self) -> str:
        """A one-line status; TransientError when not ready, PermanentError when not Prometheus."""
        ready = self._http.get("/-/ready", {}, "readiness check", retries=0)
        if ready.status_code != 200:
            raise TransientError(
                f"{self.access.kind} at {self.base_url} is not ready ({ready.status_code}): "
                f"{ready.text[:_ERROR_CHARS].strip()}"
            )
        data = self._get("/api/v1/status/buildinfo", {}, "build information", retries=0)
        version = data.get("version") if isinstance(data, dict) else None
        if isinstance(version, str):
            return f"{self.access.kind} {version} at {self.base_url}: ready"
        if self.access.kind == "VictoriaMetrics" and isinstance(data, dict):
            return f"VictoriaMetrics at {self.base_url}: ready"  # it answers buildinfo empty
        raise PermanentError(f"{self.base_url} does not answer like Prometheus (no version)")

    def _get(self, path: str, params: dict[str, str], what: str, retries: int | None = None) -> Any:
        response = self._http.get(path, params, what, retries=retries)
        if response.status_code >= 400:
            raise PermanentError(
                f"{what}: {self.access.kind} at {self.base_url} rejected it "
                f"({response.status_code}): {_message(response)}"
            )
        try:
            body = response.json()
        except ValueError as e:
            raise PermanentError(
                f"{what}: {self.base_url}{path} did not answer JSON: {response.text[:200]!r}"
            ) from e
        if not isinstance(body, dict) or body.get("status") != "success":
            raise PermanentError(f"{what}: Prometheus answered an error: {_message(response)}")
        return body.get("data")


def _message(response: httpx.Response) -> str:
    """Prometheus' own `error` (with its type) when the body has one, else the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:_ERROR_CHARS].strip() or response.reason_phrase
    if isinstance(body, dict) and "error" in body:
        kind = body.get("errorType")
        text = str(body["error"])[:_ERROR_CHARS]
        return f"{kind}: {text}" if kind else text
    return str(body)[:_ERROR_CHARS]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _point(raw: Any, promql: str) -> Point | None:
    try:
        t, v = float(raw[0]), float(raw[1])
    except (TypeError, ValueError, IndexError) as e:
        raise PermanentError(f"{promql}: Prometheus answered a malformed point {raw!r}") from e
    # NaN (0/0: no traffic) and infinities are no data, not values a detector should see.
    return Point(t, v) if math.isfinite(v) else None


def _parse(data: Any, expected: str, promql: str) -> list[PromSeries]:
    if not isinstance(data, dict) or data.get("resultType") != expected:
        kind = data.get("resultType") if isinstance(data, dict) else type(data).__name__
        raise PermanentError(f"{promql}: expected a {expected} from Prometheus, got {kind}")
    found = []
    for item in data.get("result") or []:
        if not isinstance(item, dict):
            raise PermanentError(f"{promql}: Prometheus answered a malformed result {item!r}")
        labels = {str(k): str(v) for k, v in (item.get("metric") or {}).items()}
        raws = item.get("values") if expected == "matrix" else [item.get("value")]
        points = [p for raw in raws or [] if (p := _point(raw, promql)) is not None]
        found.append(PromSeries(labels, tuple(points)))
    return found


def _headers(headers: Mapping[str, str] | None, access: PromAccess) -> dict[str, str]:
    out = dict(headers or {})
    if access.bearer_token:
        out["Authorization"] = f"Bearer {access.bearer_token}"
    return out


def _basic_auth(access: PromAccess) -> httpx.BasicAuth | None:
    if access.username is None:
        return None
    return httpx.BasicAuth(access.username, access.password or "")


def _verify(access: PromAccess) -> ssl.SSLContext | bool:
    if access.insecure_skip_verify:
        return False
    if access.ca_file:
        try:
            return ssl.create_default_context(cafile=access.ca_file)
        except (OSError, ssl.SSLError) as e:
            raise PermanentError(
                f"prometheus.ca_file: cannot read {access.ca_file} as PEM certificates: {e}"
            ) from e
    return True
