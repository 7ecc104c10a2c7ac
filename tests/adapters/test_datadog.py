"""DatadogMetrics against a fake of Datadog's documented v1 query and validate API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from medic.adapters.datadog import DatadogMetrics, app_host, explorer_link
from medic.diagnosis.evidence import EvidenceBook
from medic.diagnosis.gathering import gather_metrics
from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError, PermanentError, TransientError
from tests.adapters.fake_datadog import API_KEY, APP_KEY, FakeDatadog, StoredSeries, rate_limited

START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=5)
T0 = int(START.timestamp())
MEMORY = (
    "max:kubernetes.memory.working_set{kube_namespace:production,kube_deployment:auth-service}"
    ".rollup(max, 60)"
)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self._now = now
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _datadog(fake: FakeDatadog, clock: FixedClock | None = None, **kw: Any) -> DatadogMetrics:
    return DatadogMetrics(
        API_KEY,
        APP_KEY,
        site="datadoghq.eu",
        clock=clock or FixedClock(END),
        transport=fake.transport(),
        **kw,
    )


def _memory(*points: tuple[int, float | None]) -> StoredSeries:
    return StoredSeries(
        "kubernetes.memory.working_set",
        "kube_deployment:auth-service,kube_namespace:production",
        60,
        list(points),
    )


def test_a_query_sends_the_documented_request_and_parses_the_pointlist() -> None:
    fake = FakeDatadog(series={MEMORY: [_memory((T0, 3.0e8), (T0 + 60, None), (T0 + 120, 3.2e8))]})
    with _datadog(fake) as datadog:
        series = datadog.query(
            "production", "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, START, END, 60
        )
    request = fake.requests[0]
    assert str(request.url).startswith("https://api.datadoghq.eu/api/v1/query?")
    assert request.headers["DD-API-KEY"] == API_KEY
    assert request.headers["DD-APPLICATION-KEY"] == APP_KEY
    assert request.url.params["query"] == MEMORY
    assert int(request.url.params["from"]) <= T0 and int(request.url.params["to"]) >= T0 + 300
    # Buckets are labelled by their end, as the sandbox and Prometheus label windows;
    # a null bucket is "no data", not a zero.
    assert [(p.t, p.v) for p in series.points] == [(T0 + 60, 3.0e8), (T0 + 180, 3.2e8)]
    assert (series.metric, series.service, series.unit) == (
        "memory_working_set_bytes",
        "auth-service",
        "bytes",
    )
    assert series.labels == {"namespace": "production"}


@pytest.mark.parametrize(
    ("metric", "expected"),
    [
        (MetricName.MEMORY_LIMIT_BYTES, "max:kubernetes.memory.limits{kube_namespace:production,"),
        (MetricName.CPU_USAGE_CORES, "sum:kubernetes.cpu.usage.total{kube_namespace:production,"),
        (MetricName.REQUEST_RATE, "sum:trace.http.request.hits{service:auth-service}.as_rate()"),
        (
            MetricName.ERROR_RATIO,
            "default_zero(sum:trace.http.request.errors{service:auth-service}.as_count()",
        ),
        (MetricName.LATENCY_P99_SECONDS, "p99:trace.http.request{service:auth-service}"),
        (MetricName.RESTARTS, "sum:kubernetes_state.container.restarts{kube_namespace:production"),
        (
            MetricName.AVAILABLE_REPLICAS,
            "sum:kubernetes_state.deployment.replicas_available{kube_namespace:production,"
            "kube_deployment:auth-service}.rollup(min, 30)",
        ),
        (MetricName.SATURATION, "sum:kubernetes.cpu.usage.total{kube_namespace:production,"),
        (MetricName.DISK_USAGE_RATIO, "max:kubernetes.filesystem.usage_pct{kube_namespace:"),
    ],
)
def test_every_medic_metric_maps_to_a_datadog_query_the_api_accepts(
    metric: MetricName, expected: str
) -> None:
    fake = FakeDatadog()
    with _datadog(fake) as datadog:
        series = datadog.query("production", "auth-service", metric, START, END, 30)
    assert fake.queries()[0].startswith(expected)
    assert series.points == ()  # a well-formed query with no data is an empty series


def test_cpu_is_converted_from_nanocores_to_cores() -> None:
    fake = FakeDatadog()
    with _datadog(fake) as datadog:
        query = datadog.query_string("production", "auth", MetricName.CPU_USAGE_CORES, 60)
        fake.series[query] = [StoredSeries("kubernetes.cpu.usage.total", "", 60, [(T0, 2.5e8)])]
        series = datadog.query("production", "auth", MetricName.CPU_USAGE_CORES, START, END, 60)
    assert [(p.t, p.v) for p in series.points] == [(T0 + 60, 0.25)]
    assert series.unit == "cores"


def test_scopes_span_and_whole_queries_are_configurable() -> None:
    fake = FakeDatadog()
    datadog = _datadog(
        fake,
        kube_scope="kube_cluster_name:eu-1,kube_namespace:$namespace,kube_container_name:$service",
        trace_scope="service:$service,env:$namespace",
        span="aspnet_core.request",
        queries={"restarts": "max:custom.restarts{$kube}.rollup(max, $step)"},
    )
    with datadog:
        datadog.query("prod", "auth", MetricName.LATENCY_P99_SECONDS, START, END, 60)
        datadog.query("prod", "auth", MetricName.RESTARTS, START, END, 60)
    assert fake.queries() == [
        "p99:trace.aspnet_core.request{service:auth,env:prod}.rollup(max, 60)",
        "max:custom.restarts{kube_cluster_name:eu-1,kube_namespace:prod,"
        "kube_container_name:auth}.rollup(max, 60)",
    ]


def test_an_override_of_an_unknown_metric_is_refused_at_construction() -> None:
    with pytest.raises(InvalidInputError, match="memory_usage"):
        _datadog(FakeDatadog(), queries={"memory_usage": "avg:x{*}"})


def test_a_service_name_that_would_escape_the_scope_is_refused_before_any_request() -> None:
    fake = FakeDatadog()
    with _datadog(fake) as datadog, pytest.raises(InvalidInputError, match="tag value"):
        datadog.query("production", "auth} by {host", MetricName.RESTARTS, START, END, 60)
    assert fake.requests == []


def test_a_long_range_is_split_and_the_answers_merged() -> None:
    start, end = START, START + timedelta(days=2)
    fake = FakeDatadog()
    with _datadog(fake) as datadog:
        query = datadog.query_string("production", "auth-service", MetricName.RESTARTS, 60)
        buckets = [(T0 + i * 60, float(i)) for i in range(-1, 2 * 1440)]
        fake.series[query] = [StoredSeries("kubernetes_state.container.restarts", "", 60, buckets)]
        series = datadog.query("production", "auth-service", MetricName.RESTARTS, start, end, 60)
    assert len(fake.requests) == 3  # 2 days of minutes: more than Datadog returns at once
    assert [p.t for p in series.points] == [T0 + i * 60 for i in range(2 * 1440 + 1)]
    assert series.points[0].v == -1.0 and series.points[-1].v == 2 * 1440 - 1


def test_refused_keys_are_a_permanent_error_that_says_which_key_to_check() -> None:
    fake = FakeDatadog(app_key="another-application-key")
    with _datadog(fake) as datadog, pytest.raises(PermanentError) as caught:
        datadog.query("production", "auth-service", MetricName.RESTARTS, START, END, 60)
    message = str(caught.value)
    assert "403 Forbidden" in message and "application key" in message
    assert "timeseries_query" in message and "datadoghq.eu" in message
    assert APP_KEY not in message and API_KEY not in message  # never echo a secret
    assert len(fake.requests) == 1  # retrying a refused key cannot help


def test_a_query_datadog_cannot_parse_is_a_permanent_error_naming_it() -> None:
    fake = FakeDatadog()
    datadog = _datadog(fake, queries={"restarts": "max:custom.restarts{$kube}}.rollup(max, $step)"})
    with datadog, pytest.raises(InvalidInputError) as caught:
        datadog.query("production", "auth", MetricName.RESTARTS, START, END, 60)
    assert "max:custom.restarts{" in str(caught.value)
    assert "Error parsing query" in str(caught.value)
    assert len(fake.requests) == 1


def test_an_error_inside_a_200_answer_is_a_permanent_error() -> None:
    body = {"status": "error", "error": "Rate of a gauge is not supported", "series": []}
    fake = FakeDatadog(fail=[httpx.Response(200, json=body)])
    with _datadog(fake) as datadog, pytest.raises(PermanentError, match="Rate of a gauge"):
        datadog.query("production", "auth", MetricName.RESTARTS, START, END, 60)


def test_a_rate_limit_waits_as_long_as_x_ratelimit_reset_says_then_succeeds() -> None:
    clock = FixedClock(END)
    fake = FakeDatadog(fail=[rate_limited(7)], series={MEMORY: [_memory((T0, 1.0))]})
    with _datadog(fake, clock) as datadog:
        series = datadog.query(
            "production", "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, START, END, 60
        )
    assert clock.sleeps == [7.0]
    assert [p.v for p in series.points] == [1.0]


def test_a_rate_limit_resetting_too_late_is_a_transient_error_at_once() -> None:
    clock = FixedClock(END)
    fake = FakeDatadog(fail=[rate_limited(1800)])
    datadog = _datadog(fake, clock, max_wait_seconds=60)
    with datadog, pytest.raises(TransientError) as caught:
        datadog.query("production", "auth", MetricName.RESTARTS, START, END, 60)
    assert "429" in str(caught.value) and "retry in 1800s" in str(caught.value)
    assert clock.sleeps == [] and len(fake.requests) == 1  # the workflow step retries later


def test_server_errors_are_retried_with_backoff_then_a_transient_error() -> None:
    clock = FixedClock(END)
    outage: list[httpx.Response | Exception] = [
        httpx.Response(503, json={"errors": ["Service Unavailable"]}) for _ in range(3)
    ]
    fake = FakeDatadog(fail=outage)
    datadog = _datadog(fake, clock, retries=2, backoff_seconds=1.0)
    with datadog, pytest.raises(TransientError, match="503: Service Unavailable"):
        datadog.query("production", "auth", MetricName.RESTARTS, START, END, 60)
    assert clock.sleeps == [1.0, 2.0] and len(fake.requests) == 3


def test_a_timeout_is_retried_then_a_transient_error_saying_so() -> None:
    clock = FixedClock(END)
    fake = FakeDatadog(fail=[httpx.ReadTimeout("slow") for _ in range(4)])
    datadog = _datadog(fake, clock, timeout=2.0)
    with datadog, pytest.raises(TransientError, match="timed out after 2s") as caught:
        datadog.query("production", "auth", MetricName.RESTARTS, START, END, 60)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert len(fake.requests) == 4


def test_a_transient_failure_then_success_returns_the_data() -> None:
    fake = FakeDatadog(
        fail=[httpx.ConnectError("connection reset")], series={MEMORY: [_memory((T0, 5.0))]}
    )
    with _datadog(fake) as datadog:
        series = datadog.query(
            "production", "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, START, END, 60
        )
    assert [p.v for p in series.points] == [5.0]


def test_several_series_for_one_service_is_a_permanent_error() -> None:
    fake = FakeDatadog(series={MEMORY: [_memory((T0, 1.0)), _memory((T0, 2.0))]})
    with _datadog(fake) as datadog, pytest.raises(PermanentError, match="expected one series"):
        datadog.query(
            "production", "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, START, END, 60
        )


def test_health_reports_a_valid_api_key_and_an_application_key_that_may_query() -> None:
    fake = FakeDatadog(
        series={"avg:datadog.agent.running{*}": [StoredSeries("datadog.agent.running", "", 60, [])]}
    )
    with _datadog(fake) as datadog:
        status = datadog.health()
    assert "API key valid" in status and "1 series of datadog.agent.running" in status
    assert [r.url.path for r in fake.requests] == ["/api/v1/validate", "/api/v1/query"]


def test_health_names_an_invalid_api_key_and_the_site() -> None:
    fake = FakeDatadog(api_key="the-real-key")
    with _datadog(fake) as datadog, pytest.raises(PermanentError) as caught:
        datadog.health()
    assert "API key is not a valid key of the Datadog site datadoghq.eu" in str(caught.value)


def test_health_names_a_refused_application_key() -> None:
    fake = FakeDatadog(app_key="the-real-app-key")
    with _datadog(fake) as datadog, pytest.raises(PermanentError, match="application key"):
        datadog.health()


def test_health_of_an_unreachable_datadog_is_transient_and_not_retried() -> None:
    fake = FakeDatadog(fail=[httpx.ConnectError("name or service not known")])
    with _datadog(fake) as datadog, pytest.raises(TransientError, match="cannot reach Datadog"):
        datadog.health()
    assert len(fake.requests) == 1


def test_missing_keys_are_refused_at_construction() -> None:
    with pytest.raises(InvalidInputError, match="API key and an application key"):
        DatadogMetrics(API_KEY, "")


def test_the_diagnosis_cites_the_exact_datadog_query_and_links_to_it() -> None:
    fake = FakeDatadog()
    fake.series[MEMORY.replace("60)", "15)")] = [
        StoredSeries(
            "kubernetes.memory.working_set", "", 15, [(T0 + 15 * i, 3e8) for i in range(8)]
        )
    ]
    book = EvidenceBook(namespace="production", start=START, end=START + timedelta(minutes=2))
    with _datadog(fake) as datadog:
        assert all(datadog.covers(m) for m in MetricName)
        gather_metrics(book, datadog, ["auth-service"])
    memory = next(e for e in book.evidence if e.data.get("metric") == "memory_working_set_bytes")
    assert memory.query == MEMORY.replace("60)", "15)")  # what was sent, not a pseudo-query
    assert memory.data["datadog_query"] == memory.query
    link = urlsplit(str(memory.data["graph_url"]))
    assert (link.scheme, link.netloc, link.path) == (
        "https",
        "app.datadoghq.eu",
        "/metric/explorer",
    )
    params = parse_qs(link.query)
    assert params["exp_metric"] == ["kubernetes.memory.working_set"]
    assert params["exp_scope"] == ["kube_namespace:production,kube_deployment:auth-service"]
    assert params["from_ts"] == [str(T0 * 1000)] and params["live"] == ["false"]
    assert params["to_ts"] == [str((T0 + 120) * 1000)]


@pytest.mark.parametrize(
    ("site", "host"),
    [
        ("datadoghq.com", "app.datadoghq.com"),
        ("datadoghq.eu", "app.datadoghq.eu"),
        ("us3.datadoghq.com", "us3.datadoghq.com"),
        ("ap1.datadoghq.com", "ap1.datadoghq.com"),
        ("ddog-gov.com", "app.ddog-gov.com"),
    ],
)
def test_links_go_to_the_sites_own_web_app(site: str, host: str) -> None:
    assert app_host(site) == host
    ratio = (
        "default_zero(sum:trace.http.request.errors{service:a}.as_count())"
        " / sum:trace.http.request.hits{service:a}.as_count()"
    )
    params = parse_qs(urlsplit(explorer_link(site, ratio, START, END)).query)
    assert params["exp_metric"] == ["trace.http.request.errors,trace.http.request.hits"]
    assert params["exp_agg"] == ["sum"]
