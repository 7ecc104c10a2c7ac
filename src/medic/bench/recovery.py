"""An independent judge of recovery: the harness does not take medic's word for it.

medic's own verification decides whether *it* thinks the system recovered; the
benchmark also reads the sandbox's telemetry itself and compares the root-cause
service's golden signals at the end of the run with their level before the fault.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from medic.domain import MetricName
from medic.ports import MetricsSource

__all__ = ["Band", "symptoms_gone"]


@dataclass(frozen=True)
class Band:
    """How far above its pre-fault level a metric may end and still count as healthy."""

    ratio: float
    slack: float


# More load (a surge, work that grew) burns more CPU in all even once enough replicas
# serve it well: for these root-cause categories the service's total CPU is no symptom.
LOAD_CATEGORIES = frozenset({"capacity", "traffic_surge"})

BANDS: dict[MetricName, Band] = {
    MetricName.ERROR_RATIO: Band(1.5, 0.01),
    MetricName.LATENCY_P99_SECONDS: Band(1.5, 0.02),
    MetricName.MEMORY_WORKING_SET_BYTES: Band(1.3, 32e6),
    MetricName.CPU_USAGE_CORES: Band(1.5, 0.1),
}


def _median(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    metric: MetricName,
    start: datetime,
    end: datetime,
) -> float | None:
    series = metrics.query(namespace, service, metric, start, end, 15.0)
    values = [p.v for p in series.points if p.v == p.v]  # drop NaNs
    return statistics.median(values) if values else None


def symptoms_gone(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    fault_start: datetime,
    now: datetime,
    history_start: datetime,
    category: str | None = None,
) -> tuple[bool, str]:
    """Whether `service` ended the run back within its pre-fault bands, and why not
    (`category`: the true root cause's, see LOAD_CATEGORIES)."""
    before_start = max(history_start, fault_start - timedelta(minutes=60))
    before_end = fault_start - timedelta(minutes=2)
    if before_end <= before_start:
        return False, "no pre-fault window to compare with"
    problems = []
    for metric, band in BANDS.items():
        if metric is MetricName.CPU_USAGE_CORES and category in LOAD_CATEGORIES:
            continue
        before = _median(metrics, namespace, service, metric, before_start, before_end)
        after = _median(metrics, namespace, service, metric, now - timedelta(minutes=5), now)
        if before is None or after is None:
            continue
        if after > before * band.ratio + band.slack:
            problems.append(f"{metric.value} {after:.4g} vs {before:.4g} before the fault")
    return (not problems, "; ".join(problems))
