"""Data honesty: the history found is said, and too little of it is inconclusive."""

from __future__ import annotations

from datetime import timedelta

from medic.analysis.stats import Shape
from medic.diagnosis import diagnose
from medic.diagnosis.anomaly import SeriesAnomaly
from medic.diagnosis.history import nothing_blamed
from medic.domain.cluster import MetricName
from tests.diagnosis.fakes import seed_world
from tests.signals.fakes import MB, FakeMetrics, ramp


def test_five_minutes_of_history_is_inconclusive_and_says_so() -> None:
    world = seed_world()
    short = FakeMetrics(history=timedelta(minutes=5))
    short.set(
        "auth-service", MetricName.MEMORY_WORKING_SET_BYTES, 639 * MB, ramp(300, 40 * MB / 60)
    )
    diagnosis = diagnose(
        world.incident(),
        [world.signal(minutes_ago=5)],
        short,
        world.changes,
        world.cluster,
        None,
        world.now,
    )
    assert not diagnosis.conclusive and diagnosis.hypotheses == ()
    assert "too little history: only 5 of 125 minutes of metrics were found" in diagnosis.summary
    assert any("history found: metrics: 5 of 125 minutes" in m for m in diagnosis.missing)
    assert "robust sigmas" not in diagnosis.summary


def test_no_data_at_all_is_inconclusive_with_that_reason() -> None:
    world = seed_world()
    diagnosis = diagnose(
        world.incident(),
        [world.signal()],
        FakeMetrics(),
        world.changes,
        world.cluster,
        None,
        world.now,
    )
    assert not diagnosis.conclusive
    assert "no data: none of the" in diagnosis.summary


def test_the_history_found_is_said_in_a_full_diagnosis() -> None:
    world = seed_world()
    diagnosis = diagnose(
        world.incident(),
        [world.signal()],
        world.metrics,
        world.changes,
        world.cluster,
        None,
        world.now,
    )
    assert diagnosis.conclusive
    assert any(
        m.startswith("history found: metrics: 195 of 195 minutes") for m in diagnosis.missing
    )


def test_when_nothing_is_blamed_the_reason_never_denies_what_moved() -> None:
    moved = SeriesAnomaly(
        service="auth-service",
        metric=MetricName.MEMORY_WORKING_SET_BYTES,
        onset=0.0,
        shape=Shape.RAMP,
        score=5.6,
        before=639 * MB,
        now=839 * MB,
        slope=0.0,
    )
    reason = nothing_blamed("auth-service", [moved], None)
    assert "auth-service memory_working_set_bytes (z 5.6)" in reason
    assert "no metric" not in reason
    assert "no metric of auth-service" in nothing_blamed("auth-service", [], None)
