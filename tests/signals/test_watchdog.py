"""The watchdog over a whole namespace: one leak signal, nothing for healthy services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from medic.domain.cluster import MetricName
from medic.domain.errors import TransientError
from medic.domain.model import Severity, SignalSource
from medic.signals.watchdog import MEMORY_LEAK_SUSPECTED, scan
from tests.diagnosis.fakes import seed_world
from tests.signals.fakes import MB, step_change


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
