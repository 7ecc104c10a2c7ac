"""The sandbox as Prometheus series: the OpenMetrics export and the live /metrics."""

from __future__ import annotations

import io
import json
import re
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from typer.testing import CliRunner

from medic.cli import app
from medic.domain.cluster import MetricName
from medic.domain.errors import InvalidInputError
from medic.sandbox import ManualClock
from medic.sandbox.exposition import BUCKETS, LiveTelemetry, SandboxCollector, latency_shares
from medic.sandbox.openmetrics import export_openmetrics
from tests.sandbox.helpers import SEED, START, open_seed

_LINE = re.compile(r"^(?P<name>[a-z_]+)(?P<labels>\{[^}]*\})? (?P<value>\S+) (?P<t>\S+)$")

Samples = dict[tuple[str, str], list[tuple[float, float]]]


def _export(tmp_path: Path, hours: float = 0.25) -> tuple[str, float]:
    sandbox, _ = open_seed(tmp_path / "state")
    out = io.StringIO()
    export_openmetrics(sandbox.scenario, out, origin=sandbox.origin, hours=hours)
    return out.getvalue(), sandbox.origin.timestamp()


def _samples(text: str) -> Samples:
    found: Samples = defaultdict(list)
    for line in text.splitlines():
        if match := _LINE.match(line):
            key = (match["name"], match["labels"] or "")
            found[key].append((float(match["t"]), float(match["value"])))
    return found


def _quantile(q: float, cumulative: list[float]) -> float:
    """Prometheus' histogram_quantile over cumulative bucket counts (last: +Inf)."""
    rank = q * cumulative[-1]
    i = next(i for i, c in enumerate(cumulative) if c >= rank)
    if i == len(BUCKETS):
        return BUCKETS[-1]
    low = BUCKETS[i - 1] if i else 0.0
    below = cumulative[i - 1] if i else 0.0
    return low + (BUCKETS[i] - low) * (rank - below) / (cumulative[i] - below)


def test_the_export_has_the_openmetrics_shape_promtool_needs(tmp_path: Path) -> None:
    text, origin = _export(tmp_path)
    lines = text.splitlines()
    assert lines[-1] == "# EOF"
    families = [line.split()[2] for line in lines if line.startswith("# TYPE ")]
    assert len(families) == len(set(families))
    declared = {line.split()[2]: line.split()[3] for line in lines if line.startswith("# TYPE ")}
    assert declared["container_cpu_usage_seconds"] == "counter"
    assert declared["http_server_request_duration_seconds"] == "histogram"
    assert "# UNIT container_memory_working_set_bytes bytes" in lines
    # Families are not interleaved: each one's samples come right after its header.
    current = ""
    for line in lines:
        if line.startswith("# TYPE "):
            current = line.split()[2]
        elif match := _LINE.match(line):
            assert match["name"].startswith(current), line
            if declared[current] == "counter":
                assert match["name"] == current + "_total"
    for (name, labels), points in _samples(text).items():
        times = [t for t, _ in points]
        assert times == sorted(set(times)), f"{name}{labels} is out of order"
        assert origin - 0.25 * 3600 - 15 <= times[0] and times[-1] <= origin
        assert all(t == int(t) for t in times)  # seconds, not milliseconds


def test_counters_and_histogram_reproduce_the_sandbox_at_each_step(tmp_path: Path) -> None:
    text, _ = _export(tmp_path)
    sandbox, _ = open_seed(tmp_path / "state")
    samples = _samples(text)
    service = '{namespace="production",service="auth-service"'
    ok = dict(samples[("http_server_requests_total", service + ',code="200"}')])
    errors = dict(samples[("http_server_requests_total", service + ',code="500"}')])
    buckets = [
        dict(samples[("http_server_request_duration_seconds_bucket", f'{service},le="{le}"}}')])
        for le in (*(f"{b:g}" for b in BUCKETS), "+Inf")
    ]
    for metric in (MetricName.REQUEST_RATE, MetricName.ERROR_RATIO, MetricName.LATENCY_P99_SECONDS):
        expected = sandbox.metrics.query(
            "production", "auth-service", metric, START - timedelta(minutes=10), START, 15
        )
        for point in expected.points:
            t, before = point.t, point.t - 15
            requests = ok[t] - ok[before] + errors[t] - errors[before]
            got = {
                MetricName.REQUEST_RATE: requests / 15,
                MetricName.ERROR_RATIO: (errors[t] - errors[before]) / requests,
                MetricName.LATENCY_P99_SECONDS: _quantile(
                    0.99, [b[t] - b[before] for b in buckets]
                ),
            }[metric]
            assert got == pytest.approx(point.v, rel=1e-9), f"{metric} at {t}"


@pytest.mark.parametrize("p99", [0.0009, 0.004, 0.02, 0.0499, 0.05, 0.051, 0.074, 0.3, 2.0, 59.0])
def test_latency_buckets_put_the_interpolated_p99_where_the_sandbox_says(p99: float) -> None:
    shares = latency_shares(p99)
    assert sum(shares) == pytest.approx(1.0) and min(shares) >= 0.0
    cumulative = [sum(shares[: i + 1]) for i in range(len(shares))]
    assert _quantile(0.99, cumulative) == pytest.approx(p99, rel=1e-9)


def test_an_empty_window_is_refused(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path / "state")
    with pytest.raises(InvalidInputError, match="--hours"):
        export_openmetrics(sandbox.scenario, io.StringIO(), origin=sandbox.origin, hours=0)


def test_the_live_metrics_follow_the_clock(tmp_path: Path) -> None:
    sandbox, _ = open_seed(tmp_path / "state")
    clock = ManualClock(sandbox.origin)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(SandboxCollector(LiveTelemetry(sandbox.scenario, sandbox.origin, clock)))

    def requests() -> float:
        text = generate_latest(registry).decode()
        pattern = (
            r'http_server_requests_total\{code="200",namespace="production",service="catalog"\}'
            r" (\S+)"
        )
        match = re.search(pattern, text)
        assert match is not None, text[:2000]
        assert re.search(r'container_memory_working_set_bytes\{container="auth-service"', text)
        return float(match[1])

    first = requests()
    clock.advance(60)
    rate = (requests() - first) / 60
    expected = sandbox.metrics.query(
        "production", "catalog", MetricName.REQUEST_RATE, sandbox.origin, sandbox.origin, 15
    )
    assert rate == pytest.approx(expected.points[0].v, rel=0.1)


def test_the_cli_lists_and_exports_scenarios(tmp_path: Path) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["sandbox", "list", "--json", "--dir", str(tmp_path)])
    assert listed.exit_code == 0, listed.output
    assert SEED in [row["name"] for row in json.loads(listed.stdout)]
    out = tmp_path / "seed.om"
    exported = runner.invoke(
        app, ["sandbox", "export-openmetrics", SEED, str(out), "--hours", "0.1"]
    )
    assert exported.exit_code == 0, exported.output
    assert "promtool tsdb create-blocks-from openmetrics" in exported.stdout
    assert out.read_text().endswith("# EOF\n")
    unknown = runner.invoke(app, ["sandbox", "export-openmetrics", "no-such", str(out)])
    assert unknown.exit_code == 2 and "unknown scenario" in unknown.output
