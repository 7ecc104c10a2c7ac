"""PrometheusMetrics against Prometheus' documented HTTP API, served by httpx.MockTransport."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from medic.adapters.prometheus import PrometheusMetrics, promql_for
from medic.domain.cluster import MetricName
from medic.domain.errors import PermanentError, TransientError

URL = "http://prometheus.test:9090"
START = datetime(2025, 3, 1, 12, 0, 7, tzinfo=UTC)  # not on a step boundary
END = START + timedelta(minutes=10)

Handler = Callable[[httpx.Request], httpx.Response]


def _matrix(*series: tuple[dict[str, str], list[tuple[float, str]]]) -> dict[str, Any]:
    return {
        "status": "success",
        "data": {
            "resultType": "matrix",
            "result": [
                {"metric": labels, "values": [[t, v] for t, v in values]}
                for labels, values in series
            ],
        },
    }


def _client(handler: Handler, sleeps: list[float] | None = None, **kw: Any) -> PrometheusMetrics:
    record = sleeps if sleeps is not None else []
    return PrometheusMetrics(URL, transport=httpx.MockTransport(handler), sleep=record.append, **kw)


class Recorder:
    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]


def test_a_range_query_sends_the_metric_promql_on_step_boundaries_and_parses_the_matrix() -> None:
    body = _matrix(({}, [(1740830460, "314572800"), (1740830520, "NaN"), (1740830580, "3.2e8")]))
    recorder = Recorder(httpx.Response(200, json=body))
    with _client(recorder) as prometheus:
        series = prometheus.query(
            "production", "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, START, END, 60
        )
    params = recorder.requests[0].url.params
    assert recorder.requests[0].url.path == "/api/v1/query_range"
    assert params["query"] == (
        "max(max_over_time(container_memory_working_set_bytes"
        '{namespace="production",container="auth-service"}[59s]))'
    )
    # Aligned to multiples of the step, as the sandbox aligns its buckets.
    assert (params["start"], params["end"], params["step"]) == ("1740830460", "1740831000", "60")
    # NaN is "no data", not a value a detector should see.
    assert [(p.t, p.v) for p in series.points] == [(1740830460, 314572800.0), (1740830580, 3.2e8)]
    assert (series.metric, series.service, series.unit) == (
        "memory_working_set_bytes",
        "auth-service",
        "bytes",
    )
    assert series.labels == {"namespace": "production"}


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (MetricName.MEMORY_LIMIT_BYTES, "max(last_over_time(container_spec_memory_limit_bytes{"),
        (MetricName.CPU_USAGE_CORES, "sum(rate(container_cpu_usage_seconds_total{"),
        (MetricName.REQUEST_RATE, "sum(rate(http_server_requests_total{"),
        (MetricName.ERROR_RATIO, 'code=~"5.."}[300s])) / sum(rate(http_server_requests_total{'),
        (
            MetricName.LATENCY_P99_SECONDS,
            "histogram_quantile(0.99, sum by (le) "
            "(rate(http_server_request_duration_seconds_bucket{",
        ),
        (MetricName.RESTARTS, "sum(last_over_time(kube_pod_container_status_restarts_total{"),
        (
            MetricName.AVAILABLE_REPLICAS,
            'sum(min_over_time(kube_deployment_status_replicas_available{namespace="shop",'
            'deployment="cart"}[299s]))',
        ),
    ],
)
def test_every_metric_has_promql_over_the_exporters_series(
    metric: MetricName, expected: str
) -> None:
    query = promql_for("shop", "cart", metric, 300)
    assert expected in query
    assert '"shop"' in query and '"cart"' in query


def test_a_short_step_still_rates_over_the_minimum_window() -> None:
    with _client(Recorder(httpx.Response(200, json=_matrix()))) as prometheus:
        assert "[1m" not in prometheus.promql("ns", "a", MetricName.REQUEST_RATE, 15)
        assert "[60s]" in prometheus.promql("ns", "a", MetricName.REQUEST_RATE, 15)
        assert "[120s]" in prometheus.promql("ns", "a", MetricName.REQUEST_RATE, 120)


def test_label_values_cannot_break_out_of_the_promql_string() -> None:
    query = promql_for("prod", 'evil"} or vector(1) #', MetricName.REQUEST_RATE, 60)
    assert 'service="evil\\"} or vector(1) #"' in query


def test_no_series_is_an_empty_series_and_a_reversed_window_asks_nothing() -> None:
    recorder = Recorder(httpx.Response(200, json=_matrix()))
    with _client(recorder) as prometheus:
        empty = prometheus.query("ns", "a", MetricName.RESTARTS, START, END, 60)
        reversed_window = prometheus.query("ns", "a", MetricName.RESTARTS, END, START, 60)
    assert empty.points == () and reversed_window.points == ()
    assert len(recorder.requests) == 1


def test_a_long_range_is_split_under_prometheus_point_limit_and_merged() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        start, end = int(request.url.params["start"]), int(request.url.params["end"])
        return httpx.Response(200, json=_matrix(({}, [(start, "1"), (end, "2")])))

    with _client(handler) as prometheus:
        series = prometheus.query(
            "ns", "a", MetricName.REQUEST_RATE, START, START + timedelta(days=3), 15
        )
    times = [p.t for p in series.points]
    assert len(times) == 4  # two requests of at most 10,000 points
    assert times == sorted(times) and times[1] - times[0] == 15 * 9_999


def test_transient_failures_are_retried_with_backoff_then_succeed() -> None:
    recorder = Recorder(
        httpx.Response(503, json={"status": "error", "errorType": "unavailable", "error": "busy"}),
        httpx.Response(429, headers={"Retry-After": "3"}, text="slow down"),
        httpx.Response(200, json=_matrix(({}, [(1740830460, "1")]))),
    )
    sleeps: list[float] = []
    with _client(recorder, sleeps, backoff_seconds=0.5) as prometheus:
        series = prometheus.query("ns", "a", MetricName.REQUEST_RATE, START, END, 60)
    assert len(series.points) == 1
    assert sleeps == [0.5, 3.0]  # exponential backoff, or Retry-After when longer


def test_a_prometheus_that_stays_down_is_a_transient_error_with_its_message() -> None:
    recorder = Recorder(
        httpx.Response(
            503, json={"status": "error", "errorType": "timeout", "error": "query timed out"}
        )
    )
    sleeps: list[float] = []
    with (
        _client(recorder, sleeps, retries=2) as prometheus,
        pytest.raises(TransientError) as caught,
    ):
        prometheus.query("ns", "a", MetricName.CPU_USAGE_CORES, START, END, 60)
    assert len(recorder.requests) == 3 and len(sleeps) == 2
    assert "timeout: query timed out" in str(caught.value)
    assert "container_cpu_usage_seconds_total" in str(caught.value)  # names the query


def test_unreachable_prometheus_is_transient_and_chained() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with _client(handler, retries=1) as prometheus, pytest.raises(TransientError) as caught:
        prometheus.query("ns", "a", MetricName.CPU_USAGE_CORES, START, END, 60)
    assert "cannot reach Prometheus" in str(caught.value)
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


def test_a_timeout_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with (
        _client(handler, retries=0, timeout=2.5) as prometheus,
        pytest.raises(TransientError) as caught,
    ):
        prometheus.instant("up")
    assert "timed out after 2.5s" in str(caught.value)


def test_a_rejected_query_is_permanent_names_the_query_and_is_not_retried() -> None:
    error = {"status": "error", "errorType": "bad_data", "error": 'parse error: unexpected "}"'}
    recorder = Recorder(httpx.Response(400, json=error))
    with _client(recorder) as prometheus, pytest.raises(PermanentError) as caught:
        prometheus.query_range("rate(x[1m]", START, END, 60)
    assert len(recorder.requests) == 1
    assert "rate(x[1m]" in str(caught.value)
    assert 'bad_data: parse error: unexpected "}"' in str(caught.value)


def test_an_answer_that_is_not_the_prometheus_api_is_permanent() -> None:
    for response in (
        httpx.Response(200, text="<html>login</html>"),
        httpx.Response(
            200, json={"status": "success", "data": {"resultType": "vector", "result": []}}
        ),
    ):
        with _client(Recorder(response)) as prometheus, pytest.raises(PermanentError):
            prometheus.query("ns", "a", MetricName.REQUEST_RATE, START, END, 60)


def test_an_instant_query_returns_each_series_with_its_labels() -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [
                {"metric": {"pod": "a-1"}, "value": [1740830460.5, "2"]},
                {"metric": {"pod": "a-2"}, "value": [1740830460.5, "+Inf"]},
            ],
        },
    }
    recorder = Recorder(httpx.Response(200, json=body))
    with _client(recorder) as prometheus:
        found = prometheus.instant("up", START)
    assert recorder.requests[0].url.path == "/api/v1/query"
    assert recorder.requests[0].url.params["time"] == "1740830407"
    assert [(dict(s.labels), [p.v for p in s.points]) for s in found] == [
        ({"pod": "a-1"}, [2.0]),
        ({"pod": "a-2"}, []),
    ]


def test_health_reports_the_version_when_ready() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/-/ready":
            return httpx.Response(200, text="Prometheus Server is Ready.\n")
        assert request.url.path == "/api/v1/status/buildinfo"
        return httpx.Response(200, json={"status": "success", "data": {"version": "2.42.0"}})

    with _client(handler) as prometheus:
        assert prometheus.health() == f"Prometheus 2.42.0 at {URL}: ready"


def test_health_of_a_starting_prometheus_is_transient() -> None:
    recorder = Recorder(httpx.Response(503, text="Service Unavailable"))
    with _client(recorder) as prometheus, pytest.raises(TransientError) as caught:
        prometheus.health()
    assert "Service Unavailable" in str(caught.value)
    assert len(recorder.requests) == 1  # a health check does not wait through retries


def test_the_bearer_token_is_sent() -> None:
    recorder = Recorder(httpx.Response(200, json=_matrix()))
    with _client(recorder, headers={"Authorization": "Bearer s3cret"}) as prometheus:
        prometheus.query_range("up", START, END, 60)
    assert recorder.requests[0].headers["authorization"] == "Bearer s3cret"
