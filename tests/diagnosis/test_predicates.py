"""The hypothesis catalog's evidence predicates, one per fault, and the categories they imply."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from medic.analysis.stats import Shape
from medic.diagnosis.anomaly import SeriesAnomaly, ServiceAnomaly
from medic.diagnosis.catalog import category_of, classify_fault, dependency_leads
from medic.diagnosis.correlation import Culprit, change_label
from medic.diagnosis.events import EventCounts, count_events
from medic.diagnosis.evidence import LogEvidence
from medic.diagnosis.logpatterns import LogRates, dependency_failures
from medic.domain.cluster import ClusterEvent, LogLine, MetricName, ServiceKind
from medic.domain.model import Change, ChangeKind, RootCauseCategory

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _moved(
    metric: MetricName, before: float, now: float, shape: Shape = Shape.STEP
) -> SeriesAnomaly:
    return SeriesAnomaly("svc", metric, T0.timestamp(), shape, 12.0, before, now, 0.0)


def _anomaly(*metrics: SeriesAnomaly) -> ServiceAnomaly:
    worst = max(metrics, key=lambda m: m.score)
    return ServiceAnomaly("svc", worst.score, worst.score, worst, tuple(metrics))


def _logs(
    after: Mapping[str, float], deps: Mapping[str, Mapping[str, float]] | None = None
) -> LogEvidence:
    zero = dict.fromkeys(after, 0.0)
    return LogEvidence(
        "ev-7",
        LogRates(100, 15.0, zero),
        LogRates(100, 15.0, dict(after), dependencies=deps or {}),
    )


def test_write_errors_naming_a_full_disk_are_disk_full() -> None:
    errors = _anomaly(_moved(MetricName.ERROR_RATIO, 0.001, 0.3))

    fault, shown = classify_fault(errors, _logs({"disk_full": 40.0}), None)

    assert fault == "disk_full"
    assert shown.metric is MetricName.ERROR_RATIO
    assert category_of(fault, None, ServiceKind.DATABASE) is RootCauseCategory.RESOURCE_EXHAUSTION


def test_a_filesystem_filling_up_is_disk_full_without_a_log_line() -> None:
    # 60 % -> 75 %, growing 1 point a minute: full in 25 minutes (a host with no app logs).
    filling = replace(_moved(MetricName.DISK_USAGE_RATIO, 0.60, 0.75), slope=0.01 / 60)
    fault, shown = classify_fault(_anomaly(filling), None, None)
    assert (fault, shown.metric) == ("disk_full", MetricName.DISK_USAGE_RATIO)
    assert category_of(fault, None, ServiceKind.SERVICE) is RootCauseCategory.RESOURCE_EXHAUSTION

    # Nearly full, flat now: still a disk that is about to stop writes.
    assert (
        classify_fault(_anomaly(_moved(MetricName.DISK_USAGE_RATIO, 0.5, 0.95)), None, None)[0]
        == "disk_full"
    )


def test_a_disk_that_grew_but_is_far_from_full_does_not_hide_the_real_fault() -> None:
    # Log files grew 10 points after a bad release; errors are what hurts.
    grew = replace(_moved(MetricName.DISK_USAGE_RATIO, 0.30, 0.40), slope=0.1 / 86400)
    errors = replace(_moved(MetricName.ERROR_RATIO, 0.001, 0.2), score=20.0)
    assert classify_fault(_anomaly(grew, errors), None, None)[0] == "error_regression"


def test_saturation_without_more_cpu_is_capacity() -> None:
    # Load per core doubled on a host whose CPU series is not read: capacity.
    saturated = _anomaly(_moved(MetricName.SATURATION, 0.6, 1.8))
    fault, shown = classify_fault(saturated, None, None)
    assert (fault, shown.metric) == ("cpu_hog", MetricName.SATURATION)
    assert category_of(fault, None, ServiceKind.SERVICE) is RootCauseCategory.CAPACITY


def test_timeouts_waiting_for_a_pool_connection_are_capacity_without_a_change() -> None:
    slow = _anomaly(_moved(MetricName.LATENCY_P99_SECONDS, 0.05, 0.9))

    fault, _ = classify_fault(slow, _logs({"pool_exhausted": 60.0}), None)

    assert fault == "connection_pool_exhaustion"
    assert category_of(fault, None, ServiceKind.SERVICE) is RootCauseCategory.CAPACITY


def test_cpu_at_its_limit_without_more_traffic_is_capacity() -> None:
    hog = _anomaly(_moved(MetricName.CPU_USAGE_CORES, 0.5, 1.0))

    fault, _ = classify_fault(hog, None, None)

    assert fault == "cpu_hog"
    assert category_of(fault, None, ServiceKind.SERVICE) is RootCauseCategory.CAPACITY


def test_more_requests_and_more_cpu_is_a_surge_not_a_cpu_hog() -> None:
    surge = _anomaly(
        _moved(MetricName.REQUEST_RATE, 100.0, 300.0),
        _moved(MetricName.CPU_USAGE_CORES, 0.5, 1.4),
    )

    fault, shown = classify_fault(surge, None, None)

    assert fault == "traffic_surge"
    assert shown.metric is MetricName.REQUEST_RATE


def test_a_climbing_working_set_is_a_leak() -> None:
    leak = _anomaly(_moved(MetricName.MEMORY_WORKING_SET_BYTES, 3e8, 8e8, Shape.RAMP))

    fault, _ = classify_fault(leak, None, None)

    assert fault == "memory_leak"
    assert category_of(fault, None, ServiceKind.SERVICE) is RootCauseCategory.RESOURCE_EXHAUSTION


def test_back_off_events_make_a_crashloop() -> None:
    errors = _anomaly(_moved(MetricName.ERROR_RATIO, 0.001, 0.3))
    events = EventCounts("svc", {"crash": 12}, T0.timestamp())

    fault, _ = classify_fault(errors, None, events)

    assert fault == "crashloop"


def test_a_failing_database_without_a_change_is_a_dependency_failure() -> None:
    assert (
        category_of("error_regression", None, ServiceKind.DATABASE)
        is RootCauseCategory.DEPENDENCY_FAILURE
    )
    assert (
        category_of("error_regression", None, ServiceKind.SERVICE)
        is RootCauseCategory.INFRASTRUCTURE
    )


def test_a_change_to_the_service_decides_the_category() -> None:
    config = Change(ChangeKind.CONFIG_CHANGE, "svc", "ns", T0, description="config POOL_MAX=4")
    deploy = Change(ChangeKind.DEPLOY, "svc", "ns", T0, version="v2")

    assert category_of("cpu_hog", Culprit(config, "ev-1", 60.0), None) is (
        RootCauseCategory.CONFIG_CHANGE
    )
    assert category_of("cpu_hog", Culprit(deploy, "ev-1", 60.0), None) is (
        RootCauseCategory.BAD_DEPLOY
    )
    assert change_label(config) == "POOL_MAX"
    assert change_label(deploy) == "v2"


def _line(message: str, level: str = "error") -> LogLine:
    return LogLine(T0, "web", "web-1", message, level)


def test_failed_calls_are_counted_per_known_dependency_only() -> None:
    lines = [
        _line(
            "call to search-index failed: dial tcp 10.0.0.1:8080: connect: connection "
            "refused (12 failed calls)"
        ),
        _line("call to search failed: connection refused"),
        _line("slow call to payments: 300ms over its usual latency", "warning"),
        _line("call to evil-service failed: connection refused (99 failed calls)"),
    ]

    found = dependency_failures(lines, ["search", "search-index", "payments"])

    assert found == {
        "search-index": {"refused": 12},
        "search": {"refused": 1},
        "payments": {"slow": 1},
    }


def test_callers_naming_a_dependency_in_refused_calls_make_a_lead() -> None:
    before = LogRates(10, 15.0, {}, dependencies={})
    after = LogRates(10, 15.0, {}, dependencies={"ledger-db": {"refused": 300.0}})
    logs = {"core": LogEvidence("ev-3", before, after), "quiet": LogEvidence("ev-4", after, after)}

    (lead,) = dependency_leads(logs)

    assert lead.dependency == "ledger-db"
    assert lead.fault == "dependency_outage"
    assert lead.callers == ("core",)
    assert lead.evidence_ids == ("ev-3",)


def test_events_are_counted_for_the_service_that_owns_the_pod() -> None:
    at = T0 + timedelta(minutes=1)
    events = [
        ClusterEvent(at, "OOMKilled", "Pod/cart-api-7d9f-x2k9p", "ignore this text"),
        ClusterEvent(at, "BackOff", "Pod/cart-7d9f-abcde", "x", count=3),
        ClusterEvent(at, "Pulled", "Pod/cart-7d9f-abcde", "x"),
    ]

    counts = count_events(events, ["cart", "cart-api"])

    assert counts["cart-api"].kinds == {"oom": 1}
    assert counts["cart"].kinds == {"crash": 3}
