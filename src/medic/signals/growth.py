"""Findings of steady growth towards a limit: memory that will reach the container's
limit (`MemoryLeakSuspected`), a filesystem that will be full (`DiskFillingUp`).

Both are the leak detector (`detect_leak`) on a series and its limit (the memory
limit; 1 for a disk's used share). The onset is searched in the longer history, so
that growth older than the look-back still gets its real start; growth that reaches
its limit within an hour pages someone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from medic.domain.cluster import MetricName
from medic.domain.model import Series, Severity, Signal
from medic.ports.telemetry import MetricsSource
from medic.signals.detectors import LeakFinding, detect_leak
from medic.signals.findings import finding_signal

__all__ = ["DISK_FILLING_UP", "MEMORY_LEAK_SUSPECTED", "disk_signal", "leak_signal"]

MEMORY_LEAK_SUSPECTED = "MemoryLeakSuspected"
DISK_FILLING_UP = "DiskFillingUp"

_MB = 1024.0 * 1024.0
# Growth this close to its limit pages someone.
_CRITICAL_WITHIN = timedelta(hours=1)


def _growth(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    metric: MetricName,
    limit: float | None,
    now: datetime,
    lookback: timedelta,
    horizon: timedelta,
    history: timedelta,
    step: float,
) -> tuple[Series, LeakFinding] | None:
    start = now - max(history, lookback)
    usage = metrics.query(namespace, service, metric, start, now, step)
    finding = detect_leak(
        usage, limit, window_s=lookback.total_seconds(), horizon_s=horizon.total_seconds()
    )
    return None if finding is None else (usage, finding)


def _severity(finding: LeakFinding) -> Severity:
    critical = finding.seconds_to_limit <= _CRITICAL_WITHIN.total_seconds()
    return Severity.CRITICAL if critical else Severity.WARNING


def leak_signal(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    now: datetime,
    lookback: timedelta,
    horizon: timedelta,
    history: timedelta,
    step: float,
) -> Signal | None:
    limits = metrics.query(
        namespace, service, MetricName.MEMORY_LIMIT_BYTES, now - lookback, now, step
    )
    memory = MetricName.MEMORY_WORKING_SET_BYTES
    found = _growth(
        metrics, namespace, service, memory, _last_positive(limits), now, lookback, horizon,
        history, step,
    )  # fmt: skip
    if found is None:
        return None
    usage, finding = found
    precise = datetime.fromtimestamp(finding.onset, tz=UTC)
    limit_at = now + timedelta(seconds=finding.seconds_to_limit)
    summary = (
        f"{service} memory grows {finding.slope * 60 / _MB:.1f} MB/min since "
        f"{precise:%H:%M} UTC ({finding.baseline / _MB:.0f} -> {finding.current / _MB:.0f} MB); "
        f"projected to reach its {finding.limit / _MB:.0f} MB limit at {limit_at:%H:%M} UTC"
    )
    data: dict[str, float | str] = {
        "onset": precise.isoformat(),
        "slope_mb_per_min": round(finding.slope * 60 / _MB, 3),
        "baseline_bytes": round(finding.baseline),
        "current_bytes": round(finding.current),
        "limit_bytes": round(finding.limit),
        "seconds_to_limit": round(finding.seconds_to_limit),
        "projected_limit_at": limit_at.isoformat(),
    }
    return finding_signal(
        namespace, service, MEMORY_LEAK_SUSPECTED, detector="memory_leak",
        onset=finding.onset, severity=_severity(finding), summary=summary, data=data,
        series=usage,
    )  # fmt: skip


def disk_signal(
    metrics: MetricsSource,
    namespace: str,
    service: str,
    now: datetime,
    lookback: timedelta,
    horizon: timedelta,
    history: timedelta,
    step: float,
) -> Signal | None:
    """A filesystem that fills steadily and will be full within the horizon."""
    disk = MetricName.DISK_USAGE_RATIO
    found = _growth(metrics, namespace, service, disk, 1.0, now, lookback, horizon, history, step)
    if found is None:
        return None
    usage, finding = found
    precise = datetime.fromtimestamp(finding.onset, tz=UTC)
    full_at = now + timedelta(seconds=finding.seconds_to_limit)
    summary = (
        f"{service} disk fills {finding.slope * 3600:.1%} an hour since {precise:%H:%M} UTC "
        f"({finding.baseline:.0%} -> {finding.current:.0%} used); projected full at "
        f"{full_at:%H:%M} UTC"
    )
    data: dict[str, float | str] = {
        "onset": precise.isoformat(),
        "baseline": round(finding.baseline, 4),
        "recent": round(finding.current, 4),
        "growth_per_hour": round(finding.slope * 3600, 5),
        "seconds_to_full": round(finding.seconds_to_limit),
        "projected_full_at": full_at.isoformat(),
    }
    return finding_signal(
        namespace, service, DISK_FILLING_UP, detector="disk_filling", onset=finding.onset,
        severity=_severity(finding), summary=summary, data=data, series=usage,
    )  # fmt: skip


def _last_positive(series: Series) -> float | None:
    for point in reversed(series.points):
        if point.v > 0:
            return point.v
    return None
