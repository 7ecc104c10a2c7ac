"""Prometheus access (credentials, TLS, caps) and the query catalogue, over MockTransport."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from medic.adapters.prometheus import PromAccess, PrometheusMetrics
from medic.adapters.prometheus_queries import PRESETS, SIGNALS, catalogue
from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError, PermanentError
from tests.adapters.test_prometheus import Recorder, _matrix

URL = "http://prometheus.test:9090"
START = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
END = START + timedelta(minutes=10)


def _prom(recorder: Recorder, **kw: Any) -> PrometheusMetrics:
    return PrometheusMetrics(
        URL, transport=httpx.MockTransport(recorder), sleep=lambda s: None, **kw
    )


def test_bearer_token_and_basic_auth_are_sent() -> None:
    recorder = Recorder(httpx.Response(200, json=_matrix()))
    with _prom(recorder, access=PromAccess(bearer_token="t0ken")) as prometheus:
        prometheus.query_range("up", START, END, 60)
    assert recorder.requests[0].headers["authorization"] == "Bearer t0ken"
    with _prom(recorder, access=PromAccess(username="medic", password="pw")) as prometheus:
        prometheus.query_range("up", START, END, 60)
    assert recorder.requests[1].headers["authorization"] == "Basic bWVkaWM6cHc="


def test_an_unreadable_ca_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate")
    with pytest.raises(PermanentError, match=r"prometheus\.ca_file: cannot read"):
        PrometheusMetrics(URL, access=PromAccess(ca_file=str(bad)))


def test_more_series_than_the_cap_is_an_error_naming_the_setting() -> None:
    body = _matrix(*(({"pod": f"p{i}"}, [(START.timestamp(), "1")]) for i in range(4)))
    recorder = Recorder(httpx.Response(200, json=body))
    with (
        _prom(recorder, access=PromAccess(max_series=3)) as prometheus,
        pytest.raises(
            PermanentError, match=r"returned 4 series, more than prometheus\.max_series \(3\)"
        ),
    ):
        prometheus.query_range("up", START, END, 60)


def test_more_points_than_the_cap_is_an_error_naming_the_setting() -> None:
    points = [(START.timestamp() + 60 * i, "1") for i in range(11)]
    recorder = Recorder(httpx.Response(200, json=_matrix(({}, points))))
    with (
        _prom(recorder, access=PromAccess(max_points=10)) as prometheus,
        pytest.raises(PermanentError, match=r"11 points, more than prometheus\.max_points"),
    ):
        prometheus.query_range("up", START, END, 60)


def test_every_preset_fills_its_templates_and_quotes_the_service() -> None:
    for preset, templates in PRESETS.items():
        if preset == "custom":
            continue
        queries = catalogue(preset, {})
        for signal in templates:
            promql = queries.render(signal, "prod", 'ev"il', 60)
            assert "$" not in promql, (preset, signal, promql)
            assert 'ev\\"il' in promql, (preset, signal, promql)  # never ends the literal


def test_the_node_exporter_preset_reads_hosts_by_job() -> None:
    queries = catalogue("node_exporter", {})
    assert queries.render("available_replicas", "default", "node", 60) == (
        'sum(min_over_time(up{job="node"}[59s]))'
    )
    assert not queries.has("error_ratio")  # hosts have no HTTP error ratio


def test_custom_queries_override_or_remove_a_preset_signal() -> None:
    queries = catalogue(
        "kubernetes",
        {"request_rate": 'sum(job:requests:rate5m{job="$service"})', "restarts": None},
    )
    assert (
        queries.render("request_rate", "ns", "cart", 60) == 'sum(job:requests:rate5m{job="cart"})'
    )
    assert not queries.has("restarts")
    recorder = Recorder(httpx.Response(200, json=_matrix()))
    with _prom(recorder, queries=queries) as prometheus:
        assert not prometheus.covers(MetricName.RESTARTS)
        assert prometheus.query_text("ns", "cart", MetricName.REQUEST_RATE, 60) == (
            'sum(job:requests:rate5m{job="cart"})'
        )
        # A signal the catalogue leaves out is no data, and Prometheus is not asked.
        restarts = prometheus.query("ns", "cart", MetricName.RESTARTS, START, END, 60)
        assert restarts.points == () and recorder.requests == []


def test_bad_catalogue_entries_are_errors_naming_the_key() -> None:
    with pytest.raises(InvalidInputError, match=r"prometheus\.queries\.request_rat: not a signal"):
        catalogue("kubernetes", {"request_rat": "up"})
    with pytest.raises(InvalidInputError, match=r"prometheus\.queries\.request_rate: unknown"):
        catalogue("kubernetes", {"request_rate": 'sum(rate(x{job="$svc"}[5m]))'})
    with pytest.raises(InvalidInputError, match="has no query for any signal"):
        catalogue("custom", {})
    assert set(catalogue("custom", {"cpu_usage_cores": "x"}).templates) == {"cpu_usage_cores"}
    assert set(SIGNALS) <= set(PRESETS["kubernetes"])


def test_evidence_links_to_the_graph_of_the_exact_query() -> None:
    with _prom(Recorder(httpx.Response(200, json=_matrix()))) as prometheus:
        link = prometheus.graph_link('up{job="node"}', START, END)
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{URL}/graph"
    assert parse_qs(parts.query)["g0.expr"] == ['up{job="node"}']
    victoria = PrometheusMetrics(URL, access=PromAccess(kind="VictoriaMetrics"))
    assert victoria.graph_link("up", START, END).startswith(f"{URL}/vmui/#/?g0.expr=up")


def test_a_server_that_refuses_the_query_is_a_permanent_error_with_its_message() -> None:
    refused = {"status": "error", "errorType": "bad_data", "error": "parse error at char 5"}
    recorder = Recorder(httpx.Response(400, json=refused))
    with (
        _prom(recorder) as prometheus,
        pytest.raises(PermanentError, match="bad_data: parse error at char 5"),
    ):
        prometheus.instant("sum(")
