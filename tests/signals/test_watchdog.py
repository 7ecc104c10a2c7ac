"""The watchdog over a whole namespace: one leak signal, nothing for healthy services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from medic.domain.cluster import MetricName, ServiceInfo
from medic.domain.errors import TransientError
from medic.domain.model import Severity, SignalSource
from medic.sandbox import ManualClock, Sandbox
from medic.signals.grouping import SLOW_NODE_LABEL
from medic.signals.logpatterns import NEW_LOG_PATTERN
from medic.signals.watchdog import (
    DISK_FILLING_UP,
    MEMORY_LEAK_SUSPECTED,
    REPLICAS_UNAVAILABLE,
    SATURATION_RISING,
    TRAFFIC_SURGE,
    scan,
)
from tests.diagnosis.fakes import seed_world
from tests.signals.fakes import MB, NOW, FakeCluster, FakeMetrics, ramp, step_change


def test_the_seed_leak_raises_one_warning_with_its_onset_and_projection() -> None:
    world = seed_world()
    [signal] = scan(world.metrics, world.cluster, world.namespace, world.now)
    assert signal.source is SignalSource.WATCHDOG
    assert signal.name == MEMORY_LEAK_SUSPECTED
    assert (signal.service, signal.namespace) == ("auth-service", "production")
    assert abs(signal.starts_at - (world.now - timedelta(minutes=75))) <= timedelta(minutes=5)
    assert signal.severity is Severity.WARNING  # ~106 min to the limit
    [evidence] = signal.evidence
    assert evidence.series and evidence.series[0].metric == MetricName.MEMORY_WORKING_SET_BYTES
    slope = evidence.data["slope_mb_per_min"]
    assert isinstance(slope, float) and 3.6 < slope < 4.4
    assert evidence.data["limit_bytes"] == 1024 * MB
    assert "MB/min since 18:5" in signal.summary


def test_repeated_scans_of_one_leak_share_the_dedup_key() -> None:
    world = seed_world()
    keys = {
        s.dedup_key
        for minutes in (0, 1, 2, 5)
        for s in scan(
            world.metrics, world.cluster, world.namespace, world.now - timedelta(minutes=minutes)
        )
    }
    assert len(keys) == 1


def test_a_leak_close_to_its_limit_is_critical() -> None:
    world = seed_world(leak_minutes_ago=150)  # 300 + 600 MB: ~30 min left
    [signal] = scan(world.metrics, world.cluster, world.namespace, world.now)
    assert signal.severity is Severity.CRITICAL


def test_a_healthy_namespace_with_a_deploy_blip_raises_nothing() -> None:
    world = seed_world(leak=False)  # catalog's deploy still dips memory and blips latency
    assert scan(world.metrics, world.cluster, world.namespace, world.now) == []


def test_a_sustained_latency_shift_is_signalled_but_not_in_its_callers() -> None:
    world = seed_world(leak=False, catalog_deploy=False)
    for name in ("catalog", "api-gateway"):  # the gateway is slow because catalog is
        world.metrics.set(
            name,
            MetricName.LATENCY_P99_SECONDS,
            0.03,
            step_change(12 * 60, 0.1),
            world.metrics.noisy(0.05),
        )
    signals = scan(world.metrics, world.cluster, world.namespace, world.now)
    assert [(s.name, s.service) for s in signals] == [("LatencyLevelShift", "catalog")]


def test_external_services_are_not_scanned() -> None:
    world = seed_world()
    scan(world.metrics, world.cluster, world.namespace, world.now)
    assert "payments-api" not in {service for service, _ in world.metrics.queries}


def test_an_unreachable_metrics_backend_is_reported_to_the_caller() -> None:
    world = seed_world()
    world.metrics.fail(TransientError("prometheus timed out"))
    with pytest.raises(TransientError):
        scan(world.metrics, world.cluster, world.namespace, world.now)


def test_an_error_jump_older_than_the_look_back_is_still_signalled() -> None:
    # The errors began 90 minutes ago: the last hour alone looks steady, but the first
    # hour of the history was healthy.
    world = seed_world(leak=False, catalog_deploy=False)
    world.metrics.set(
        "catalog",
        MetricName.ERROR_RATIO,
        0.002,
        step_change(90 * 60, 0.2),
        world.metrics.noisy(0.05),
    )
    signals = scan(world.metrics, world.cluster, world.namespace, world.now)
    assert [(s.name, s.service) for s in signals] == [("ErrorRatioJump", "catalog")]
    again = scan(world.metrics, world.cluster, world.namespace, world.now - timedelta(minutes=2))
    assert {s.dedup_key for s in again} == {s.dedup_key for s in signals}


SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def _sandbox_at(name: str, minutes: float, tmp_path: Path) -> tuple[Sandbox, datetime]:
    clock = ManualClock(datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    sandbox = Sandbox.open(str(SCENARIOS / f"{name}.yaml"), tmp_path / "state", clock=clock)
    clock.set(sandbox.origin + timedelta(minutes=minutes))
    return sandbox, clock.now()


def test_a_traffic_surge_is_signalled_where_it_enters_not_downstream(tmp_path: Path) -> None:
    # playback starts quadruple 5 minutes in; every service it calls gets that traffic too
    sandbox, now = _sandbox_at("media-premiere-surge-live", 9, tmp_path)
    signals = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now)
    surges = [s for s in signals if s.name == TRAFFIC_SURGE]
    assert [s.service for s in surges] == ["playback-api"]
    assert "requests rose from" in surges[0].summary
    before, _ = _sandbox_at("media-premiere-surge-live", 4, tmp_path / "before")
    assert scan(before.metrics, before.cluster, before.namespace, before.clock.now()) == []


def test_a_slowdown_confined_to_one_node_is_labelled_with_it(tmp_path: Path) -> None:
    sandbox, now = _sandbox_at("rides-node-pressure-noisy-neighbour", 0, tmp_path)
    signals = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now)
    assert signals
    assert {s.labels.get(SLOW_NODE_LABEL) for s in signals} == {"prod-general-hn5t"}
    assert all("only its pods on node prod-general-hn5t" in s.summary for s in signals)
    # a service-wide slowdown (a bad release) names no node
    release, at = _sandbox_at("search-latency-regression-after-deploy", 0, tmp_path / "release")
    shifts = scan(release.metrics, release.cluster, release.namespace, at)
    assert shifts and all(SLOW_NODE_LABEL not in s.labels for s in shifts)


def test_a_service_down_is_signalled_itself_and_its_callers_errors_are_its_symptoms(
    tmp_path: Path,
) -> None:
    # inventory v2.4.0 listens on the wrong port: no replica ever gets ready, and
    # product-api, cart-api and checkout-api fail their calls to it
    sandbox, now = _sandbox_at("shop-inventory-outage-after-deploy", 0, tmp_path)
    [signal] = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now)
    assert (signal.name, signal.service) == (REPLICAS_UNAVAILABLE, "inventory")
    assert signal.starts_at == sandbox.origin - timedelta(minutes=40)
    assert "replicas available" in signal.summary


def test_log_templates_new_since_the_onset_join_the_finding(tmp_path: Path) -> None:
    sandbox, now = _sandbox_at("bank-transfers-error-regression", 0, tmp_path)
    plain = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now)
    assert [s.name for s in plain] == ["ErrorRatioJump"]
    signals = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now, logs=sandbox.logs)
    patterns = [s for s in signals if s.name == NEW_LOG_PATTERN]
    assert patterns and all(s.service == "transfers-api" for s in patterns)
    assert all(s.starts_at == plain[0].starts_at for s in patterns)
    [evidence] = patterns[0].evidence
    assert evidence.source == "logs" and "(untrusted log text)" in evidence.summary
    # a healthy namespace reads no logs into signals at all
    quiet, at = _sandbox_at("bank-transfers-error-regression", -60, tmp_path / "quiet")
    assert scan(quiet.metrics, quiet.cluster, quiet.namespace, at, logs=quiet.logs) == []


def test_the_streaming_detector_dates_when_the_series_broke(tmp_path: Path) -> None:
    # search-api v4.7.0 (45 minutes ago) added latency; the window detector only knows
    # the shift began before its look-back, CAD OSE saw the pattern break at the deploy
    sandbox, now = _sandbox_at("search-latency-regression-after-deploy", 0, tmp_path)
    [signal] = scan(sandbox.metrics, sandbox.cluster, sandbox.namespace, now)
    [evidence] = signal.evidence
    first = datetime.fromisoformat(str(evidence.data["cad_first_alarm"]))
    deploy = sandbox.origin - timedelta(minutes=45)
    assert deploy <= first <= deploy + timedelta(minutes=2)
    assert "CAD OSE detector first flagged" in evidence.summary


def test_more_traffic_served_as_well_as_before_is_no_surge() -> None:
    world = seed_world(leak=False, catalog_deploy=False)
    rate = world.metrics
    rate.set("api-gateway", MetricName.REQUEST_RATE, 100.0, step_change(8 * 60, 150.0))
    signals = scan(world.metrics, world.cluster, world.namespace, world.now)
    assert [s for s in signals if s.name == TRAFFIC_SURGE] == []
    # the same surge with users waiting three times longer is one
    rate.set(
        "api-gateway",
        MetricName.LATENCY_P99_SECONDS,
        0.1,
        step_change(8 * 60, 0.2),
        rate.noisy(0.02),
    )
    surges = [
        s
        for s in scan(world.metrics, world.cluster, world.namespace, world.now)
        if s.name == TRAFFIC_SURGE
    ]
    assert [s.service for s in surges] == ["api-gateway"]


def _host_world() -> tuple[FakeMetrics, FakeCluster]:
    """Two hosts (scrape jobs of node_exporter): no latency, no errors, no requests."""
    metrics = FakeMetrics()
    for host in ("db-host", "web-host"):
        metrics.set(host, MetricName.DISK_USAGE_RATIO, 0.40, metrics.noisy(0.002))
        metrics.set(host, MetricName.SATURATION, 0.30, metrics.noisy(0.05))
    return metrics, FakeCluster([ServiceInfo("db-host", "hosts"), ServiceInfo("web-host", "hosts")])


def test_a_disk_filling_up_is_signalled_with_when_it_will_be_full() -> None:
    metrics, cluster = _host_world()
    # 40 % used, then 1.5 points more every 10 minutes for the last 90 minutes: 51 % -> full
    # in about 5 h 30 min.
    metrics.set(
        "db-host",
        MetricName.DISK_USAGE_RATIO,
        0.40,
        ramp(90 * 60, 0.015 / 600),
        metrics.noisy(0.002),
    )
    [signal] = scan(metrics, cluster, "hosts", NOW)
    assert (signal.name, signal.service) == (DISK_FILLING_UP, "db-host")
    assert signal.severity is Severity.WARNING
    assert abs(signal.starts_at - (NOW - timedelta(minutes=90))) <= timedelta(minutes=10)
    seconds = signal.evidence[0].data["seconds_to_full"]
    assert isinstance(seconds, int | float) and 4.5 * 3600 < seconds < 6.5 * 3600
    assert "projected full at" in signal.summary
    # a disk that filled a step and stays there is no trend to project
    metrics.set("db-host", MetricName.DISK_USAGE_RATIO, 0.40, step_change(90 * 60, 0.2))
    assert scan(metrics, cluster, "hosts", NOW) == []


def test_saturation_is_signalled_on_a_host_and_only_when_felt_on_a_service() -> None:
    metrics, cluster = _host_world()
    metrics.set(
        "web-host", MetricName.SATURATION, 0.30, step_change(8 * 60, 0.9), metrics.noisy(0.05)
    )
    [signal] = scan(metrics, cluster, "hosts", NOW)
    assert (signal.name, signal.service) == (SATURATION_RISING, "web-host")
    assert "saturation rose from 0.30 to 1.2" in signal.summary
    # A service that serves as fast as before while its CPU is throttled: no incident.
    metrics.set("web-host", MetricName.LATENCY_P99_SECONDS, 0.05, metrics.noisy(0.02))
    assert scan(metrics, cluster, "hosts", NOW) == []
    # ... and one whose users wait twice as long: one.
    metrics.set(
        "web-host",
        MetricName.LATENCY_P99_SECONDS,
        0.05,
        step_change(8 * 60, 0.05),
        metrics.noisy(0.02),
    )
    names = {s.name for s in scan(metrics, cluster, "hosts", NOW)}
    assert SATURATION_RISING in names


class _Catalogued(FakeMetrics):
    query_key = "promql"

    def covers(self, metric: MetricName) -> bool:
        return True

    def query_text(self, namespace: str, service: str, metric: MetricName, step: float) -> str:
        return f'{metric}{{job="{service}"}}[{step:g}s]'

    def graph_link(self, query: str, start: datetime, end: datetime) -> str:
        return f"http://prom/graph?q={query}&start={start:%H:%M}"


def test_a_finding_cites_the_exact_query_of_a_catalogued_source() -> None:
    metrics = _Catalogued()
    metrics.set("db-host", MetricName.DISK_USAGE_RATIO, 0.40, ramp(90 * 60, 0.015 / 600))
    [signal] = scan(metrics, FakeCluster([ServiceInfo("db-host", "hosts")]), "hosts", NOW)
    [evidence] = signal.evidence
    assert evidence.query == 'disk_usage_ratio{job="db-host"}[15s]'
    assert evidence.data["promql"] == evidence.query
    assert str(evidence.data["graph_url"]).startswith("http://prom/graph?q=disk_usage_ratio")
