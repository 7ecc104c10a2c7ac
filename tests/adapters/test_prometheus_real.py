"""The Prometheus round trip: sandbox -> OpenMetrics -> promtool backfill -> a real Prometheus.

What `PrometheusMetrics` reads back must be the series the sandbox's own
`MetricsSource` returns. At the native step with a one-step window the two agree
exactly. At a coarser step they differ only where PromQL and the sandbox fold a
window differently: the error ratio is a ratio of sums (5xx / all over the window)
where the sandbox averages the per-step ratios; the p99 is the quantile of the
window's merged histogram where the sandbox averages per-step p99s; and `rate`
extrapolates a counter that ends inside the window (the pods a rollout replaced)
by half a scrape interval (so the CPU is compared away from rollouts).
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from medic.adapters.prometheus import PrometheusMetrics
from medic.domain.cluster import MetricName
from medic.sandbox import ManualClock, Sandbox
from medic.sandbox.openmetrics import write_openmetrics
from tests.server import free_port, wait_until
from tests.services import prometheus, promtool

pytestmark = pytest.mark.integration

SEED = "auth-memory-leak-after-deploy"
SERVICES = ("api-gateway", "auth-service", "catalog", "users-db", "catalog-db")
EXACT = 1e-9


@dataclass(frozen=True)
class Backfilled:
    url: str
    sandbox: Sandbox


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfilled]:
    tmp = tmp_path_factory.mktemp("prometheus-backfill")
    # Now, so that Prometheus' retention keeps the blocks.
    sandbox = Sandbox.open(SEED, tmp / "sandbox", clock=ManualClock(datetime.now(UTC)))
    out = tmp / "seed.om"
    write_openmetrics(sandbox.scenario, out, origin=sandbox.origin, hours=1.0)
    promtool("tsdb", "create-blocks-from", "openmetrics", str(out), str(tmp / "tsdb"))
    with prometheus(tmp / "prometheus", "global: {scrape_interval: 15s}\n", tmp / "tsdb") as url:
        yield Backfilled(url, sandbox)


def _tolerance(metric: MetricName, step: float) -> float:
    if step <= 15:
        return EXACT
    return {MetricName.ERROR_RATIO: 0.05, MetricName.LATENCY_P99_SECONDS: 0.05}.get(metric, EXACT)


def _rolling(sandbox: Sandbox, service: str, t: float, step: float) -> bool:
    """Whether a rollout of `service` replaced pods within the window ending at t."""
    changes = sandbox.changes.changes(
        sandbox.namespace, sandbox.origin - timedelta(hours=2), sandbox.origin
    )
    # The replaced pods are gone within a minute of the rollout's start.
    return any(
        c.service == service and -60.0 <= t - c.at.timestamp() <= step + 60.0 for c in changes
    )


@pytest.mark.parametrize("step", [15.0, 60.0])
@pytest.mark.parametrize("metric", list(MetricName))
def test_prometheus_reads_back_the_sandbox_series(
    backfilled: Backfilled, metric: MetricName, step: float
) -> None:
    sandbox = backfilled.sandbox
    end = sandbox.origin
    start = end - timedelta(minutes=50)
    with PrometheusMetrics(backfilled.url, min_window_seconds=step) as source:
        for service in SERVICES:
            expected = sandbox.metrics.query(sandbox.namespace, service, metric, start, end, step)
            got = source.query(sandbox.namespace, service, metric, start, end, step)
            assert got.times() == expected.times(), f"{service} {metric}: other instants"
            assert len(got.points) >= 50 * 60 / step
            tolerance = _tolerance(metric, step)
            for a, b in zip(expected.points, got.points, strict=True):
                if metric is MetricName.CPU_USAGE_CORES and _rolling(sandbox, service, a.t, step):
                    continue  # rate() extrapolates the counters that end in the window
                assert math.isclose(b.v, a.v, rel_tol=tolerance, abs_tol=1e-9), (
                    f"{service} {metric} at {a.t - end.timestamp():+.0f}s: "
                    f"sandbox {a.v}, prometheus {b.v}"
                )


def test_the_leak_is_visible_in_promql(backfilled: Backfilled) -> None:
    sandbox = backfilled.sandbox
    with PrometheusMetrics(backfilled.url) as source:
        assert source.health().startswith("Prometheus 2.")
        (growth,) = source.instant(
            'deriv(max(container_memory_working_set_bytes{container="auth-service"})[30m:1m])',
            sandbox.origin,
        )
    # 4 MB/min, as the scenario's memory_leak says.
    assert growth.points[0].v * 60 / 2**20 == pytest.approx(4.0, rel=0.1)


def test_a_real_prometheus_scrapes_the_live_sandbox(tmp_path: Path) -> None:
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    serve = subprocess.Popen(
        [sys.executable, "-m", "medic", "sandbox", "serve", SEED, "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    config = (
        "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
        "scrape_configs:\n"
        "  - job_name: sandbox\n"
        f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    try:

        def serving() -> bool:
            if serve.poll() is not None:
                raise AssertionError((tmp_path / "serve.log").read_text())
            try:
                return httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1).is_success
            except httpx.HTTPError:
                return False

        wait_until("medic sandbox serve", serving, timeout=30)
        with prometheus(tmp_path / "prometheus", config) as url, PrometheusMetrics(url) as source:

            def memory() -> list[float]:
                now = datetime.now(UTC)
                series = source.query(
                    "production",
                    "auth-service",
                    MetricName.MEMORY_WORKING_SET_BYTES,
                    now - timedelta(seconds=10),
                    now,
                    1.0,
                )
                return series.values()

            values = wait_until("scraped auth-service memory", memory, timeout=20, every=0.5)
            pods = source.instant(
                'container_memory_working_set_bytes{namespace="production",container="auth-service"}'
            )
    finally:
        serve.terminate()
        serve.wait(timeout=10)
    # The v1.2.1 leak has run 75 minutes at 4 MB/min on top of 300 MB.
    assert all(500 * 2**20 < v < 1024 * 2**20 for v in values)
    assert len(pods) == 2
    assert all(p.labels["pod"].startswith("auth-service-") for p in pods)
