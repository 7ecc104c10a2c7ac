"""Verification: recovered only on sustained data; missing data is inconclusive."""

from __future__ import annotations

from medic.action import verify
from medic.domain import (
    Criterion,
    MetricName,
    NotFoundError,
    TransientError,
    VerificationOutcome,
)
from tests.action.builders import MIB, memory_criterion
from tests.action.fakes import T0, FakeClock, FakeMetrics

MEMORY = ("auth-service", MetricName.MEMORY_WORKING_SET_BYTES)


def test_recovered_as_soon_as_the_criterion_holds_for_the_last_points() -> None:
    # Memory stays high for 2 minutes after the rollback, then drops to 310 MiB.
    def curve(t: float) -> float:
        return (600 if t < T0.timestamp() + 120 else 310) * MIB

    clock = FakeClock()

    result = verify(
        [memory_criterion()], FakeMetrics({MEMORY: curve}), "production", clock, 600, 30
    )

    assert result.outcome is VerificationOutcome.RECOVERED
    elapsed = (clock.now() - T0).total_seconds()
    assert 150 <= elapsed <= 210  # three 15 s points past the drop, not the whole window
    assert result.observations["auth-service.memory_working_set_bytes.last"] == 310 * MIB
    assert result.observations["auth-service.memory_working_set_bytes.upper"] == 407 * MIB


def test_not_recovered_when_the_window_ends_above_the_bound() -> None:
    clock = FakeClock()
    metrics = FakeMetrics({MEMORY: lambda t: 600.0 * MIB})

    result = verify([memory_criterion()], metrics, "production", clock, 600, 30)

    assert result.outcome is VerificationOutcome.NOT_RECOVERED
    assert (clock.now() - T0).total_seconds() == 600
    assert "600" in result.detail
    assert result.observations["auth-service.memory_working_set_bytes.last"] == 600 * MIB


def test_a_single_good_point_is_not_a_recovery() -> None:
    # Flapping: every other point is within the bound.
    def curve(t: float) -> float:
        return (310 if int(t) // 15 % 2 else 600) * MIB

    result = verify(
        [memory_criterion()], FakeMetrics({MEMORY: curve}), "production", FakeClock(), 300, 30
    )

    assert result.outcome is VerificationOutcome.NOT_RECOVERED


def test_no_data_is_inconclusive_never_success() -> None:
    result = verify([memory_criterion()], FakeMetrics(), "production", FakeClock(), 600, 30)

    assert result.outcome is VerificationOutcome.INCONCLUSIVE
    assert result.observations["auth-service.memory_working_set_bytes.points"] == 0


def test_a_port_that_keeps_failing_is_inconclusive() -> None:
    metrics = FakeMetrics({MEMORY: lambda t: 310.0 * MIB}, fail=TransientError("prometheus down"))

    result = verify([memory_criterion()], metrics, "production", FakeClock(), 600, 30)

    assert result.outcome is VerificationOutcome.INCONCLUSIVE
    assert "prometheus down" in result.detail
    assert metrics.queries > 1  # it kept trying through the window


def test_a_permanent_port_error_is_inconclusive_at_once() -> None:
    metrics = FakeMetrics(fail=NotFoundError("no such service"))

    result = verify([memory_criterion()], metrics, "production", FakeClock(), 600, 30)

    assert result.outcome is VerificationOutcome.INCONCLUSIVE
    assert metrics.queries == 1


def test_every_criterion_must_hold() -> None:
    errors = Criterion("error_ratio", "auth-service", upper=0.02)
    metrics = FakeMetrics(
        {
            MEMORY: lambda t: 310.0 * MIB,
            ("auth-service", MetricName.ERROR_RATIO): lambda t: 0.3,
        }
    )

    result = verify([memory_criterion(), errors], metrics, "production", FakeClock(), 300, 30)

    assert result.outcome is VerificationOutcome.NOT_RECOVERED
    assert "error_ratio" in result.detail


def test_an_unknown_metric_or_no_criteria_is_inconclusive() -> None:
    bogus = Criterion("happiness", "auth-service", upper=1.0)

    assert verify([bogus], FakeMetrics(), "production", FakeClock(), 60, 30).outcome is (
        VerificationOutcome.INCONCLUSIVE
    )
    assert verify([], FakeMetrics(), "production", FakeClock(), 60, 30).outcome is (
        VerificationOutcome.INCONCLUSIVE
    )


def test_lower_bounds_hold_from_below() -> None:
    replicas = Criterion("available_replicas", "auth-service", upper=None, lower=1.5)
    metrics = FakeMetrics({("auth-service", MetricName.AVAILABLE_REPLICAS): lambda t: 2.0})

    result = verify([replicas], metrics, "production", FakeClock(), 300, 30)

    assert result.outcome is VerificationOutcome.RECOVERED
