"""`MetricsSource` on Datadog's metrics query API (v1: `GET /api/v1/query`).

Why v1 and not `POST /api/v2/query/timeseries`: one query string carries the rollup
and the arithmetic the error ratio needs, and the answer is one `pointlist` per series
that a reader can check against the query by eye; the mapping below is then one line
per metric that a user can override in configuration. (v2 is needed by application
keys restricted with scopes; switch when that matters.)

Each `MetricName` maps to a Datadog query over the metrics the Datadog Agent collects
on Kubernetes (kubelet check: `kubernetes.*`, scoped by `kube_namespace` and
`kube_deployment`; kube-state-metrics core check: `kubernetes_state.*`) and the APM
trace metrics (`trace.<span>.hits|errors` and the latency distribution
`trace.<span>`, scoped by `service`):

| medic metric               | default Datadog query (S: the step in seconds)                  |
|----------------------------|-----------------------------------------------------------------|
| memory_working_set_bytes   | max:kubernetes.memory.working_set{kube}.rollup(max, S)          |
| memory_limit_bytes         | max:kubernetes.memory.limits{kube}.rollup(max, S)               |
| cpu_usage_cores            | sum:kubernetes.cpu.usage.total{kube}.rollup(avg, S) (nanocores, |
|                            | divided by 1e9)                                                 |
| request_rate               | sum:trace.http.request.hits{trace}.as_rate().rollup(avg, S)     |
| error_ratio                | default_zero(errors as_count, sum S) / hits (as_count, sum S)   |
| latency_p99_seconds        | p99:trace.http.request{trace}.rollup(max, S)                    |
| restarts                   | sum:kubernetes_state.container.restarts{kube}.rollup(max, S)    |
| available_replicas         | sum:kubernetes_state.deployment.replicas_available{kube}        |
|                            | .rollup(min, S)                                                 |
| saturation                 | sum:kubernetes.cpu.usage.total{kube} / sum:kubernetes.cpu.limits |
|                            | {kube} (both rollup(avg, S); nanocores over cores, / 1e9)       |
| disk_usage_ratio           | max:kubernetes.filesystem.usage_pct{kube}.rollup(max, S)        |

`{kube}` is `kube_namespace:<namespace>,kube_deployment:<service>` and `{trace}` is
`service:<service>` by default (trace metrics carry no Kubernetes tags); both scopes,
the span name and any metric's whole query are overridable (`string.Template` with
`$namespace`, `$service`, `$kube`, `$trace`, `$span`, `$step`).

Every evidence records the exact query and links to it in Datadog's metrics explorer
(`https://app.<site>/metric/explorer`, the site's app host), over the incident window.

Datadog labels a rollup bucket by its start; medic's series (like the sandbox's) label
a window by its end, so points are moved one interval later.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from string import Template
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import httpx

from medic.adapters.http import RetryingClient, WallClock, retry_after
from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError, PermanentError
from medic.domain.model import Point, Series
from medic.ports.clock import Clock

__all__ = ["DEFAULT_QUERIES", "DatadogMetrics", "DatadogQuery", "app_host", "explorer_link"]

_MAX_POINTS = 1440  # past ~1500 points Datadog coarsens the rollup on its own
_MESSAGE_CHARS = 500
# Datadog tags: letters, digits, `_ - : . /`; anything else could end the scope.
_TAG_VALUE = re.compile(r"^[A-Za-z0-9_.:/-]+$")
_SPAN = re.compile(r"^[A-Za-z0-9_.]+$")


@dataclass(frozen=True)
class DatadogQuery:
    """A metric's query template, the unit of its answer and the factor to that unit."""

    template: str
    unit: str
    scale: float = 1.0


DEFAULT_QUERIES: Mapping[MetricName, DatadogQuery] = {
    MetricName.MEMORY_WORKING_SET_BYTES: DatadogQuery(
        "max:kubernetes.memory.working_set{$kube}.rollup(max, $step)", "bytes"
    ),
    MetricName.MEMORY_LIMIT_BYTES: DatadogQuery(
        "max:kubernetes.memory.limits{$kube}.rollup(max, $step)", "bytes"
    ),
    MetricName.CPU_USAGE_CORES: DatadogQuery(
        "sum:kubernetes.cpu.usage.total{$kube}.rollup(avg, $step)", "cores", 1e-9
    ),
    MetricName.REQUEST_RATE: DatadogQuery(
        "sum:trace.$span.hits{$trace}.as_rate().rollup(avg, $step)", "requests/s"
    ),
    MetricName.ERROR_RATIO: DatadogQuery(
        "default_zero(sum:trace.$span.errors{$trace}.as_count().rollup(sum, $step))"
        " / sum:trace.$span.hits{$trace}.as_count().rollup(sum, $step)",
        "ratio",
    ),
    MetricName.LATENCY_P99_SECONDS: DatadogQuery(
        "p99:trace.$span{$trace}.rollup(max, $step)", "seconds"
    ),
    MetricName.RESTARTS: DatadogQuery(
        "sum:kubernetes_state.container.restarts{$kube}.rollup(max, $step)", "count"
    ),
    MetricName.AVAILABLE_REPLICAS: DatadogQuery(
        "sum:kubernetes_state.deployment.replicas_available{$kube}.rollup(min, $step)",
        "replicas",
    ),
    # CPU used against the CPU limit (nanocores over cores): above 1, the pods are throttled.
    MetricName.SATURATION: DatadogQuery(
        "sum:kubernetes.cpu.usage.total{$kube}.rollup(avg, $step)"
        " / sum:kubernetes.cpu.limits{$kube}.rollup(avg, $step)",
        "ratio",
        1e-9,
    ),
    MetricName.DISK_USAGE_RATIO: DatadogQuery(
        "max:kubernetes.filesystem.usage_pct{$kube}.rollup(max, $step)", "ratio"
    ),
}


class DatadogMetrics:
    """Read per-service metrics from Datadog with an API key and an application key.

    Retries connection errors, timeouts, 5xx and 429 (waiting as long as Datadog's
    `X-RateLimit-Reset` says, up to `max_wait_seconds`); a refused key (401/403) is a
    PermanentError saying which key to check; a rejected query (400) is one naming it.
    """

    query_key = "datadog_query"  # the evidence data key of the exact query

    def __init__(
        self,
        api_key: str,
        app_key: str,
        *,
        site: str = "datadoghq.com",
        api_url: str | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff_seconds: float = 1.0,
        max_wait_seconds: float = 60.0,
        kube_scope: str = "kube_namespace:$namespace,kube_deployment:$service",
        trace_scope: str = "service:$service",
        span: str = "http.request",
        queries: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not api_key or not app_key:
            raise InvalidInputError("Datadog needs both an API key and an application key")
        if not _SPAN.match(span):
            raise InvalidInputError(f"{span!r} is not a Datadog span name")
        self.site = site
        self.api_url = (api_url or f"https://api.{site}").rstrip("/")
        self.kube_scope = kube_scope
        self.trace_scope = trace_scope
        self.span = span
        self.queries = _merge(queries or {})
        self._clock: Clock = clock or WallClock()
        client = httpx.Client(
            base_url=self.api_url,
            timeout=timeout,
            headers={
                "DD-API-KEY": api_key,
                "DD-APPLICATION-KEY": app_key,
                "Accept": "application/json",
                "User-Agent": "medic",
            },
            transport=transport,
        )
        self._http = RetryingClient(
            client,
            f"Datadog at {self.api_url}",
            retries=retries,
            backoff_seconds=backoff_seconds,
            max_wait_seconds=max_wait_seconds,
            sleep=self._clock.sleep,
            describe=_message,
            wait_hint=_rate_limit_wait,
        )

    def __enter__(self) -> DatadogMetrics:
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

    def query_string(
        self, namespace: str, service: str, metric: MetricName, step_seconds: float
    ) -> str:
        """The Datadog query of `metric` for one service, rolled up every step."""
        for name, value in (("namespace", namespace), ("service", service)):
            if not _TAG_VALUE.match(value):
                raise InvalidInputError(f"{value!r} cannot be a Datadog tag value ({name})")
        names = {"namespace": namespace, "service": service}
        values = {
            **names,
            "kube": Template(self.kube_scope).substitute(names),
            "trace": Template(self.trace_scope).substitute(names),
            "span": self.span,
            "step": str(_rollup(step_seconds)),
        }
        return Template(self.queries[MetricName(metric)].template).substitute(values)

    def covers(self, metric: MetricName) -> bool:
        """Every medic metric has a default query (overridable, never removed)."""
        return MetricName(metric) in self.queries

    def query_text(
        self, namespace: str, service: str, metric: MetricName, step_seconds: float
    ) -> str:
        """The exact query `query` sends (the evidence records it)."""
        return self.query_string(namespace, service, metric, step_seconds)

    def graph_link(self, query: str, start: datetime, end: datetime) -> str:
        """Datadog's metrics explorer over [start, end], on the query's metrics and scope
        (the explorer takes metric names, not a whole query: the evidence keeps that)."""
        return explorer_link(self.site, query, start, end)

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
        text = self.query_string(namespace, service, metric, step_seconds)
        spec = self.queries[metric]
        points = self.points(text, start, end, step_seconds)
        if not math.isclose(spec.scale, 1.0):
            points = [Point(p.t, p.v * spec.scale) for p in points]
        return Series(
            metric=metric.value,
            service=service,
            points=tuple(points),
            labels={"namespace": namespace},
            unit=spec.unit,
        )

    def points(
        self, query: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Point]:
        """The one series `query` answers over [start, end], each point at its bucket's
        end; split into several requests when the range holds many steps."""
        if step_seconds <= 0:
            raise InvalidInputError(f"{query}: the step must be > 0, not {step_seconds}")
        step = _rollup(step_seconds)
        first, last = math.floor(start.timestamp()), math.ceil(end.timestamp())
        found: dict[float, float] = {}
        for low in range(first - step, last, step * _MAX_POINTS):
            high = min(last, low + step * _MAX_POINTS)
            params = {"from": str(low), "to": str(high), "query": query}
            body = self._get("/api/v1/query", params, f"the Datadog query {query!r}")
            for point in _parse(body, query, step):
                if first <= point.t <= last:
                    found[point.t] = point.v
        return [Point(t, v) for t, v in sorted(found.items())]

    def health(self) -> str:
        """A one-line status: the API key is valid and the application key may query."""
        body = self._get("/api/v1/validate", None, "validating the API key", retries=0)
        if not isinstance(body, dict) or body.get("valid") is not True:
            raise PermanentError(
                f"{self.api_url} did not confirm the API key: {str(body)[:_MESSAGE_CHARS]}"
            )
        now = self._clock.now()
        probe = "avg:datadog.agent.running{*}"
        params = {
            "from": str(math.floor((now - timedelta(minutes=5)).timestamp())),
            "to": str(math.floor(now.timestamp())),
            "query": probe,
        }
        answer = self._get("/api/v1/query", params, "a probe query", retries=0)
        series = answer.get("series") if isinstance(answer, dict) else None
        agents = len(series) if isinstance(series, list) else 0
        return (
            f"Datadog {self.site} at {self.api_url}: API key valid, application key may "
            f"query metrics ({agents} series of datadog.agent.running in the last 5 min)"
        )

    def _get(
        self, path: str, params: dict[str, str] | None, what: str, retries: int | None = None
    ) -> Any:
        response = self._http.get(path, params, what, retries=retries)
        if response.status_code >= 300:
            raise self._refusal(response, what)
        try:
            return response.json()
        except ValueError as e:
            raise PermanentError(
                f"{what}: {self.api_url}{path} did not answer JSON: {response.text[:200]!r}"
            ) from e

    def _refusal(self, response: httpx.Response, what: str) -> PermanentError:
        status, message = response.status_code, _message(response)
        if status in (401, 403):
            if response.request.url.path == "/api/v1/validate":
                advice = f"the API key is not a valid key of the Datadog site {self.site}"
            else:
                advice = (
                    f"check that the API key belongs to the Datadog site {self.site}, the "
                    "application key to the same organisation, and that the application "
                    "key has the timeseries_query permission"
                )
            return PermanentError(
                f"{what}: Datadog refused the keys ({status} {message}); {advice}"
            )
        if status == 400:
            return InvalidInputError(f"{what}: Datadog rejected it (400): {message}")
        if status == 404:
            return PermanentError(
                f"{what}: {self.api_url} has no such endpoint (404 {message}); is the "
                f"site {self.site!r} right?"
            )
        return PermanentError(f"{what}: Datadog answered {status}: {message}")


# `aggregator:metric.name{scope}` terms of a Datadog metrics query.
_TERM = re.compile(r"\b(avg|sum|min|max|p\d+):([A-Za-z][A-Za-z0-9_.]*)\{([^}]*)\}")


def app_host(site: str) -> str:
    """The web app of a Datadog site: `app.` before a bare site (datadoghq.com,
    datadoghq.eu, ddog-gov.com), the site itself when it names a region (us3, ap1...)."""
    site = site.strip().lower().removeprefix("app.")
    return site if site.count(".") >= 2 else f"app.{site}"


def explorer_link(site: str, query: str, start: datetime, end: datetime) -> str:
    """The metrics explorer link of `query`'s metrics (comma-joined), the first term's
    scope and aggregator, from `start` to `end`, not live."""
    terms = _TERM.findall(query)
    params = {
        "from_ts": str(math.floor(start.timestamp() * 1000)),
        "to_ts": str(math.ceil(end.timestamp() * 1000)),
        "live": "false",
    }
    if terms:
        aggregator, _, scope = terms[0]
        params["exp_metric"] = ",".join(dict.fromkeys(t[1] for t in terms))
        params["exp_scope"] = scope
        params["exp_agg"] = aggregator
        params["exp_row_type"] = "metric"
    return f"https://{app_host(site)}/metric/explorer?{urlencode(params)}"


def _merge(overrides: Mapping[str, str]) -> dict[MetricName, DatadogQuery]:
    merged = dict(DEFAULT_QUERIES)
    for name, template in overrides.items():
        try:
            metric = MetricName(name)
        except ValueError as e:
            known = ", ".join(m.value for m in MetricName)
            raise InvalidInputError(f"{name!r} is not a medic metric (one of {known})") from e
        merged[metric] = DatadogQuery(template, merged[metric].unit, merged[metric].scale)
    return merged


def _rollup(step_seconds: float) -> int:
    return max(1, round(step_seconds))


def _rate_limit_wait(response: httpx.Response) -> float | None:
    """Datadog's `X-RateLimit-Reset` is the seconds until the limit resets."""
    reset = response.headers.get("x-ratelimit-reset")
    try:
        return max(0.0, float(reset)) if reset is not None else retry_after(response)
    except ValueError:
        return retry_after(response)


def _message(response: httpx.Response) -> str:
    """Datadog's `errors` (or a query answer's `error`) when the body has them."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:_MESSAGE_CHARS].strip() or response.reason_phrase
    if isinstance(body, dict):
        errors = body.get("errors") or body.get("error")
        if isinstance(errors, list):
            return "; ".join(str(e) for e in errors)[:_MESSAGE_CHARS]
        if errors:
            return str(errors)[:_MESSAGE_CHARS]
    return str(body)[:_MESSAGE_CHARS]


def _parse(body: Any, query: str, step: int) -> list[Point]:
    if not isinstance(body, dict):
        raise PermanentError(f"{query}: Datadog answered {type(body).__name__}, not an object")
    if body.get("status") == "error" or body.get("error"):
        raise InvalidInputError(f"{query}: Datadog answered an error: {body.get('error')}")
    series = body.get("series") or []
    if not isinstance(series, list):
        raise PermanentError(f"{query}: Datadog answered a malformed series list")
    if len(series) > 1:
        scopes = ", ".join(str(s.get("scope")) for s in series if isinstance(s, dict))
        raise PermanentError(
            f"{query}: expected one series from Datadog, got {len(series)}: {scopes}"
        )
    if not series:
        return []
    only = series[0]
    interval = only.get("interval") if isinstance(only, dict) else None
    shift = interval if isinstance(interval, int | float) and interval > 0 else step
    raws = only.get("pointlist") if isinstance(only, dict) else None
    points = []
    for raw in raws or []:
        try:
            millis, value = raw[0], raw[1]
        except (TypeError, IndexError, KeyError) as e:
            raise PermanentError(f"{query}: Datadog answered a malformed point {raw!r}") from e
        if value is None:
            continue  # a bucket with no data
        try:
            t, v = float(millis) / 1000.0 + shift, float(value)
        except (TypeError, ValueError) as e:
            raise PermanentError(f"{query}: Datadog answered a malformed point {raw!r}") from e
        if math.isfinite(v):
            points.append(Point(t, v))
    return points
