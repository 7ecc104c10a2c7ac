"""Impact: how long, where, and how much of the users' error and latency budget it cost.

Duration is told in wall time: the record's clock may be the sandbox's, which runs
`time_scale` times faster. Budgets are measured on the watched system's own series
(its time, whatever the clock), from the onset (or the opening) to the end:

- error budget: the failed requests (error ratio x request rate, integrated) over what
  the SLO allows in its window ((1 - availability) x the requests of a window at the
  incident's mean rate); without a request rate, the mean error ratio x the duration
  over (1 - availability) x the window;
- latency budget (time-slice SLO): the seconds the p99 latency was over
  `latency_seconds`, over (1 - latency_target) x the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from medic.domain import Series
from medic.scribe.record import PostmortemRecord, Slo

__all__ = ["Budget", "affected_services", "budgets", "ended_at", "started_at", "wall_seconds"]

ERROR_RATIO = "error_ratio"
REQUEST_RATE = "request_rate"
LATENCY_P99 = "latency_p99_seconds"


@dataclass(frozen=True)
class Budget:
    service: str
    kind: str  # "error" or "latency"
    spent: float  # fraction of the window's budget this incident used
    detail: str  # what it was computed from, numbers included
    failed_requests: float | None = None


def started_at(record: PostmortemRecord) -> datetime:
    onset = record.diagnosis.onset if record.diagnosis else None
    opened = record.incident.opened_at
    return min(onset, opened) if onset else opened


def ended_at(record: PostmortemRecord) -> datetime:
    times = [record.incident.updated_at, *(e.at for e in record.timeline)]
    if record.verification:
        times.append(record.verification.checked_at)
    return max(times)


def wall_seconds(record: PostmortemRecord, start: datetime, end: datetime) -> float:
    """Seconds of wall time between two instants of the record's clock."""
    return max((end - start).total_seconds(), 0.0) / (record.time_scale or 1.0)


def affected_services(record: PostmortemRecord) -> list[str]:
    """The incident's service, the root cause's, and those of its alerts, in that order."""
    found: list[str] = []
    candidates = [record.incident.service]
    top = record.diagnosis.top if record.diagnosis else None
    if top:
        candidates.append(top.root_cause.service)
    candidates += [s.service for s in record.signals]
    for service in candidates:
        if service and service not in found:
            found.append(service)
    return found


def budgets(record: PostmortemRecord, series: Sequence[Series]) -> list[Budget]:
    start, end = started_at(record).timestamp(), ended_at(record).timestamp()
    found: list[Budget] = []
    for service in affected_services(record):
        slo = record.slos.get(service)
        if slo is None:
            continue
        mine = {s.metric: s for s in series if s.service == service and s.points}
        error = _error_budget(slo, mine, start, end)
        if error is not None:
            found.append(error)
        latency = _latency_budget(slo, mine.get(LATENCY_P99), start, end)
        if latency is not None:
            found.append(latency)
    return found


def _error_budget(slo: Slo, series: dict[str, Series], start: float, end: float) -> Budget | None:
    ratio = series.get(ERROR_RATIO)
    if ratio is None or slo.availability >= 1:
        return None
    allowed = 1.0 - slo.availability
    window = slo.window_days * 86400.0
    rate = series.get(REQUEST_RATE)
    if rate is not None:
        failed = _integral(ratio, start, end, weight=rate)
        mean_rate = _integral(rate, start, end) / max(end - start, 1.0)
        allowance = allowed * mean_rate * window
        if allowance > 0:
            return Budget(
                slo.service,
                "error",
                failed / allowance,
                f"≈{failed:,.0f} failed requests; the SLO ({slo.availability:.3%} over "
                f"{slo.window_days:g} days) allows ≈{allowance:,.0f}",
                failed_requests=failed,
            )
    bad_seconds = _integral(ratio, start, end)
    return Budget(
        slo.service,
        "error",
        bad_seconds / (allowed * window),
        f"mean error ratio x duration against an SLO of {slo.availability:.3%} over "
        f"{slo.window_days:g} days (no request rate to count requests)",
    )


def _latency_budget(slo: Slo, p99: Series | None, start: float, end: float) -> Budget | None:
    if p99 is None or slo.latency_seconds is None or slo.latency_target >= 1:
        return None
    slow = _seconds_over(p99, slo.latency_seconds, start, end)
    allowance = (1.0 - slo.latency_target) * slo.window_days * 86400.0
    return Budget(
        slo.service,
        "latency",
        slow / allowance,
        f"p99 latency over {slo.latency_seconds:g} s for {slow:,.0f} s; the SLO "
        f"({slo.latency_target:.2%} of the time under it, {slo.window_days:g} days) "
        f"allows {allowance:,.0f} s",
    )


def _steps(series: Series, start: float, end: float) -> list[tuple[float, float, float]]:
    """(t, dt, value) for each point inside [start, end]: a step function."""
    pts = [p for p in series.points if p.v == p.v]
    out = []
    for i, p in enumerate(pts):
        nxt = pts[i + 1].t if i + 1 < len(pts) else end
        lo, hi = max(p.t, start), min(nxt, end)
        if hi > lo:
            out.append((p.t, hi - lo, p.v))
    return out


def _integral(series: Series, start: float, end: float, weight: Series | None = None) -> float:
    total = 0.0
    for t, dt, v in _steps(series, start, end):
        total += v * dt * (_at(weight, t) if weight is not None else 1.0)
    return total


def _seconds_over(series: Series, limit: float, start: float, end: float) -> float:
    return sum(dt for _, dt, v in _steps(series, start, end) if v > limit)


def _at(series: Series, t: float) -> float:
    """The value in effect at `t` (the last point at or before it, else the first)."""
    value = series.points[0].v if series.points else 0.0
    for p in series.points:
        if p.t > t:
            break
        if p.v == p.v:
            value = p.v
    return value
