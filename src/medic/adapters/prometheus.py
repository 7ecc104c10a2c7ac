"""`MetricsSource` on Prometheus' HTTP API, with PromQL over the usual exporters.

Each `MetricName` is one PromQL expression over the series of cAdvisor
(`container_*{namespace,pod,container}`, the container named after its service),
kube-state-metrics (`kube_*{namespace,deployment}`) and the OpenTelemetry HTTP
server conventions as exported to Prometheus (`http_server_*{namespace,service}`):
the names `medic sandbox export-openmetrics` and `medic sandbox serve` use, so one
set of queries serves the sandbox and a real cluster.

A range query of step S answers, at each instant t (a multiple of S), for the
window (t - W, t] with W = max(S, `min_window_seconds`): rates are the window's
mean, a gauge its max, min or last value. That is how the sandbox folds a coarse
step, so both sources agree point by point.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from medic.adapters.http import RetryingClient
from medic.domain.cluster import MetricName
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Point, Series

__all__ = ["PrometheusMetrics", "PromSeries", "promql_for"]

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
}

# {c}: the service's containers, {d}: its Deployment, {h}: its HTTP server series;
# {w}: the rate window, {g}: the gauge window.
_TEMPLATES = {
    MetricName.MEMORY_WORKING_SET_BYTES: (
        "max(max_over_time(container_memory_working_set_bytes{c}[{g}]))"
    ),
    MetricName.MEMORY_LIMIT_BYTES: "max(last_over_time(container_spec_memory_limit_bytes{c}[{g}]))",
    MetricName.CPU_USAGE_CORES: "sum(rate(container_cpu_usage_seconds_total{c}[{w}]))",
    MetricName.REQUEST_RATE: "sum(rate(http_server_requests_total{h}[{w}]))",
    MetricName.ERROR_RATIO: (
        "sum(rate(http_server_requests_total{h5}[{w}]))"
        " / sum(rate(http_server_requests_total{h}[{w}]))"
    ),
    MetricName.LATENCY_P99_SECONDS: (
        "histogram_quantile(0.99, sum by (le) "
        "(rate(http_server_request_duration_seconds_bucket{h}[{w}])))"
    ),
    MetricName.RESTARTS: "sum(last_over_time(kube_pod_container_status_restarts_total{c}[{g}]))",
    MetricName.AVAILABLE_REPLICAS: (
        "sum(min_over_time(kube_deployment_status_replicas_available{d}[{g}]))"
    ),
}


@dataclass(frozen=True)
class PromSeries:
    """One series of a PromQL result: its labels and its (finite) points."""

    labels: Mapping[str, str] = field(default_factory=dict)
    points: tuple[Point, ...] = ()


def _quote(value: str) -> str:
    # Names come from alerts and configuration: never let one end the string literal.
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _duration(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


def promql_for(namespace: str, service: str, metric: MetricName, window_seconds: float) -> str:
    """The PromQL of `metric` for one service, over windows of `window_seconds`.

    Range selectors of Prometheus 2 include the window's left edge: the gauges look
    one second less far back, so a window holds the same samples as the sandbox's
    left-open bucket; a rate needs that edge sample as its baseline.
    """
    ns = f"namespace={_quote(namespace)}"
    selectors = {
        "c": f"{{{ns},container={_quote(service)}}}",
        "d": f"{{{ns},deployment={_quote(service)}}}",
        "h": f"{{{ns},service={_quote(service)}}}",
        "h5": f'{{{ns},service={_quote(service)},code=~"5.."}}',
        "w": _duration(window_seconds),
        "g": _duration(max(window_seconds - 1.0, window_seconds / 2.0)),
    }
    template = _TEMPLATES[MetricName(metric)]
    for key in ("h5", "c", "d", "h", "w", "g"):  # "h5" before its prefix "h"
        template = template.replace("{" + key + "}", selectors[key])
    return template


class PrometheusMetrics:
    """Read metrics from Prometheus (or anything speaking its HTTP query API).

    Transient failures (connection errors, timeouts, 5xx, 429) are retried `retries`
    times with exponential backoff, then raised as TransientError; a rejected query
    (4xx) is a PermanentError naming the query and Prometheus' own message.
    """

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_seconds: float = 0.5,
        min_window_seconds: float = 60.0,
        headers: Mapping[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, retries)
        self.backoff_seconds = backoff_seconds
        self.min_window_seconds = max(2.0, min_window_seconds)
        client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers=dict(headers or {}),
            transport=transport,
        )
        self._http = RetryingClient(
            client,
            f"Prometheus at {self.base_url}",
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

    def promql(self, namespace: str, service: str, metric: MetricName, step_seconds: float) -> str:
        return promql_for(namespace, service, metric, max(step_seconds, self.min_window_seconds))

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
        expression = self.promql(namespace, service, metric, step_seconds)
        found = self.query_range(expression, start, end, step_seconds)
        if len(found) > 1:
            raise PermanentError(
                f"{expression}: expected one series from Prometheus, got {len(found)}"
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
        return [PromSeries(dict(labels), tuple(points)) for labels, points in merged.items()]

    def instant(self, promql: str, at: datetime | None = None) -> list[PromSeries]:
        """An instant query (at `at`, or Prometheus' now): one point per series."""
        params = {"query": promql, "timeout": _duration(self.timeout)}
        if at is not None:
            params["time"] = _number(at.timestamp())
        return _parse(self._get("/api/v1/query", params, promql), "vector", promql)

    def health(self) -> str:
        """A one-line status; TransientError when not ready, PermanentError when not Prometheus."""
        ready = self._http.get("/-/ready", {}, "readiness check", retries=0)
        if ready.status_code != 200:
            raise TransientError(
                f"Prometheus at {self.base_url} is not ready ({ready.status_code}): "
                f"{ready.text[:_ERROR_CHARS].strip()}"
            )
        data = self._get("/api/v1/status/buildinfo", {}, "build information", retries=0)
        version = data.get("version") if isinstance(data, dict) else None
        if not isinstance(version, str):
            raise PermanentError(f"{self.base_url} does not answer like Prometheus (no version)")
        return f"Prometheus {version} at {self.base_url}: ready"

    def _get(self, path: str, params: dict[str, str], what: str, retries: int | None = None) -> Any:
        response = self._http.get(path, params, what, retries=retries)
        if response.status_code >= 400:
            raise PermanentError(
                f"{what}: Prometheus at {self.base_url} rejected it "
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
