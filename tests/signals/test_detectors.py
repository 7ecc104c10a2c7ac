"""The detectors fire on real trouble and stay quiet on noise, blips and warm-ups."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from medic.domain.cluster import MetricName
from medic.domain.model import Series
from medic.signals.detectors import detect_error_jump, detect_leak, detect_level_shift
from tests.signals.fakes import MB, NOW, FakeMetrics, Shape, ramp, step_change, warm_up

LIMIT = 1024 * MB
HOUR = 3600.0


def _series(level: float, *shapes: Shape, noise: float = 0.015, seed: int = 1) -> Series:
    metrics = FakeMetrics(seed=seed)
    metrics.set("svc", MetricName.MEMORY_WORKING_SET_BYTES, level, *shapes, metrics.noisy(noise))
    return metrics.query(
        "ns",
        "svc",
        MetricName.MEMORY_WORKING_SET_BYTES,
        NOW - timedelta(hours=3),
        NOW,
        15.0,
    )


def test_a_steady_leak_is_found_with_its_onset_slope_and_time_to_limit() -> None:
    usage = _series(300 * MB, ramp(75 * 60, 4 * MB / 60))
    found = detect_leak(usage, LIMIT)
    assert found is not None
    assert abs(found.onset - (NOW.timestamp() - 75 * 60)) < 5 * 60
    assert found.slope * 60 / MB == pytest.approx(4.0, rel=0.1)
    assert found.current / MB == pytest.approx(600, rel=0.05)
    assert found.seconds_to_limit / 60 == pytest.approx(106, rel=0.1)


@pytest.mark.parametrize("seed", range(5))
def test_plain_noise_is_not_a_leak(seed: int) -> None:
    assert detect_leak(_series(300 * MB, noise=0.03, seed=seed), LIMIT) is None


def test_a_brief_spike_is_not_a_leak() -> None:
    blip = step_change(12 * 60, 150 * MB, 9 * 60)
    assert detect_leak(_series(300 * MB, blip), LIMIT) is None


def test_a_deploy_warm_up_that_plateaus_is_not_a_leak() -> None:
    assert detect_leak(_series(300 * MB, warm_up(40 * 60, 120 * MB, 10)), LIMIT) is None


def test_a_leak_too_slow_to_reach_the_limit_within_the_horizon_is_ignored() -> None:
    usage = _series(300 * MB, ramp(75 * 60, 0.5 * MB / 60))
    assert detect_leak(usage, LIMIT, horizon_s=6 * HOUR) is None
    assert detect_leak(usage, LIMIT, horizon_s=48 * HOUR) is not None


def test_without_a_limit_there_is_nothing_to_project() -> None:
    assert detect_leak(_series(300 * MB, ramp(75 * 60, 4 * MB / 60)), None) is None


def test_after_an_oom_kill_the_leak_is_measured_from_the_restart() -> None:
    # Climbed to the limit, was killed 40 min ago and climbs again from 300 MB.
    def sawtooth(
        rel: np.typing.NDArray[np.float64], v: np.typing.NDArray[np.float64]
    ) -> np.typing.NDArray[np.float64]:
        since_kill = rel + 40 * 60
        return np.where(since_kill >= 0, v + since_kill * 4 * MB / 60, v + 700 * MB)

    found = detect_leak(_series(300 * MB, sawtooth), LIMIT)
    assert found is not None
    assert found.current / MB == pytest.approx(460, rel=0.05)


def _latency(*shapes: Shape, seed: int = 3) -> Series:
    metrics = FakeMetrics(seed=seed)
    metrics.set("svc", MetricName.LATENCY_P99_SECONDS, 0.05, *shapes, metrics.noisy(0.05))
    start = NOW - timedelta(hours=1)
    return metrics.query("ns", "svc", MetricName.LATENCY_P99_SECONDS, start, NOW, 15.0)


def test_a_sustained_latency_shift_is_found_with_its_onset() -> None:
    found = detect_level_shift(_latency(step_change(8 * 60, 0.05)))
    assert found is not None
    assert found.baseline == pytest.approx(0.05, rel=0.05)
    assert found.recent == pytest.approx(0.10, rel=0.05)
    assert abs(found.onset - (NOW.timestamp() - 8 * 60)) <= 90


def test_a_latency_blip_and_plain_noise_are_not_shifts() -> None:
    assert detect_level_shift(_latency(step_change(6 * 60, 0.2, 4 * 60))) is None
    assert detect_level_shift(_latency()) is None


def test_an_unmistakable_step_is_found_within_four_minutes() -> None:
    found = detect_level_shift(_latency(step_change(4 * 60, 0.1)))
    assert found is not None and found.recent == pytest.approx(0.15, rel=0.1)
    # but three minutes of a blip, or a step that has already gone, are not news
    assert detect_level_shift(_latency(step_change(3 * 60, 0.1))) is None
    assert detect_level_shift(_latency(step_change(9 * 60, 0.1, 2 * 60))) is None


def _errors(*shapes: Shape) -> Series:
    metrics = FakeMetrics(seed=5)
    metrics.set("svc", MetricName.ERROR_RATIO, 0.001, *shapes, metrics.noisy(0.5))
    start = NOW - timedelta(hours=1)
    return metrics.query("ns", "svc", MetricName.ERROR_RATIO, start, NOW, 15.0)


def test_an_error_ratio_jump_is_found_but_a_tiny_relative_rise_is_not() -> None:
    assert detect_error_jump(_errors(step_change(9 * 60, 0.08))) is not None
    assert detect_error_jump(_errors(step_change(9 * 60, 0.002))) is None


def test_many_more_failures_are_news_after_three_minutes_a_few_more_are_not() -> None:
    assert detect_error_jump(_errors(step_change(3 * 60, 0.2))) is not None
    assert detect_error_jump(_errors(step_change(3 * 60, 0.03))) is None
    assert detect_error_jump(_errors(step_change(12 * 60, 0.03))) is not None
