"""Where and when things went wrong: onsets and robust per-service anomaly scores.

BARO-like: each series is split at its change point; the score is how far the
current level (the median of the last stretch) sits from the pre-onset median, in
robust units of the pre-onset spread (IQR), counted only in the bad direction.
A service scores its worst metric. Victims (callers that got slow or failed because
something they call broke first) are told apart from causes by the call graph and
the order of the onsets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from medic.analysis.stats import Array, Shape, change_point, iqr_sigma, theil_sen_slope
from medic.analysis.topology import reachable
from medic.domain.cluster import MetricName
from medic.domain.model import Series

__all__ = [
    "ANOMALY_Z",
    "SYMPTOM_METRICS",
    "SeriesAnomaly",
    "ServiceAnomaly",
    "analyse_series",
    "rank_services",
    "reachable",
]

# A series this many robust sigmas off its baseline is anomalous.
ANOMALY_Z = 4.0
# A victim's score is discounted by this factor.
_VICTIM_DISCOUNT = 0.3
# How much later a victim's onset may be than its cause's (or earlier, by noise).
_VICTIM_SLACK_S = 300.0
_BASELINE_S = 3600.0
_TAIL_S = 600.0
# A one-step drop below this fraction of the previous value is a reset, not noise.
_RESET_RATIO = 0.85

# +1: up is bad; -1: down is bad.
_BAD_DIRECTION: Mapping[MetricName, int] = {
    MetricName.MEMORY_WORKING_SET_BYTES: 1,
    MetricName.CPU_USAGE_CORES: 1,
    MetricName.LATENCY_P99_SECONDS: 1,
    MetricName.ERROR_RATIO: 1,
    MetricName.RESTARTS: 1,
    MetricName.AVAILABLE_REPLICAS: -1,
    MetricName.REQUEST_RATE: 1,
    MetricName.SATURATION: 1,
    MetricName.DISK_USAGE_RATIO: 1,
}
# Scale floors (absolute, relative to the baseline): a flat baseline must not make
# every wiggle infinitely significant, and traffic has seasonality.
_FLOORS: Mapping[MetricName, tuple[float, float]] = {
    MetricName.MEMORY_WORKING_SET_BYTES: (4 * 1024 * 1024, 0.02),
    MetricName.CPU_USAGE_CORES: (0.02, 0.05),
    MetricName.LATENCY_P99_SECONDS: (0.002, 0.05),
    MetricName.ERROR_RATIO: (0.005, 0.0),
    MetricName.RESTARTS: (0.5, 0.0),
    MetricName.AVAILABLE_REPLICAS: (0.5, 0.0),
    MetricName.REQUEST_RATE: (1.0, 0.1),
    MetricName.SATURATION: (0.05, 0.05),
    MetricName.DISK_USAGE_RATIO: (0.02, 0.0),  # two points of a filesystem
}

# Metrics that move in a service when something it calls breaks.
SYMPTOM_METRICS = frozenset(
    {MetricName.LATENCY_P99_SECONDS, MetricName.ERROR_RATIO, MetricName.REQUEST_RATE}
)


@dataclass(frozen=True)
class SeriesAnomaly:
    service: str
    metric: MetricName
    onset: float  # Unix seconds, this series' own change point
    shape: Shape
    score: float  # robust z in the bad direction (0 when it moved the good way)
    before: float  # median before the onset
    now: float  # median of the last stretch
    slope: float  # Theil-Sen slope after the onset, units per second
    resets: int = 0  # sudden drops after the climb (memory: OOM kills or restarts)


@dataclass(frozen=True)
class ServiceAnomaly:
    service: str
    score: float  # ranking score (victims discounted)
    raw_score: float  # the worst metric's score, undiscounted
    worst: SeriesAnomaly | None
    metrics: tuple[SeriesAnomaly, ...]
    victim_of: str | None = None

    @property
    def anomalous(self) -> bool:
        return self.raw_score >= ANOMALY_Z


def _arrays(series: Series) -> tuple[Array, Array]:
    t = np.asarray(series.times(), dtype=np.float64)
    v = np.asarray(series.values(), dtype=np.float64)
    keep = np.isfinite(t) & np.isfinite(v)
    return t[keep], v[keep]


def analyse_series(service: str, metric: MetricName, series: Series) -> SeriesAnomaly | None:
    """The series' change point and how anomalous it is now; None if too short.

    Memory that climbed and was reset (an OOM kill, a restart) is also judged on the
    climb before its first reset, so that the sawtooth of a leak that already hit
    its limit still shows as the leak it is, with the onset of the first climb.
    """
    t, v = _arrays(series)
    best = _analyse(service, metric, t, v)
    if metric is MetricName.MEMORY_WORKING_SET_BYTES and v.size > 2:
        resets = np.nonzero(v[1:] < _RESET_RATIO * v[:-1])[0] + 1
        if resets.size:
            first = int(resets[0])
            early = _analyse(service, metric, t[:first], v[:first])
            if early is not None and (best is None or early.score > best.score):
                best = replace(early, resets=int(resets.size))
    return best


def _analyse(service: str, metric: MetricName, t: Array, v: Array) -> SeriesAnomaly | None:
    found = change_point(t, v)
    if found is None:
        return None
    onset = float(t[found.index])
    before, now, score = _score(t, v, metric, onset)
    after = t >= onset
    return SeriesAnomaly(
        service=service,
        metric=metric,
        onset=onset,
        shape=found.shape,
        score=score,
        before=before,
        now=now,
        slope=theil_sen_slope(t[after], v[after]),
    )


def _score(t: Array, v: Array, metric: MetricName, onset: float) -> tuple[float, float, float]:
    pre = v[(t < onset) & (t >= onset - _BASELINE_S)]
    post = v[t >= onset]
    if pre.size < 4 or post.size < 4:
        return 0.0, 0.0, 0.0
    tail_start = max(onset, float(t[-1]) - _TAIL_S)
    tail = v[t >= tail_start]
    before = float(np.median(pre))
    now = float(np.median(tail))
    floor_abs, floor_rel = _FLOORS.get(metric, (0.0, 0.0))
    scale = max(iqr_sigma(pre), floor_abs, floor_rel * abs(before), 1e-12)
    z = _BAD_DIRECTION.get(metric, 1) * (now - before) / scale
    return before, now, max(0.0, z)


def rank_services(
    per_series: Sequence[SeriesAnomaly], calls: Mapping[str, Sequence[str]]
) -> list[ServiceAnomaly]:
    """Services ranked most likely cause first."""
    by_service: dict[str, list[SeriesAnomaly]] = {}
    for item in per_series:
        by_service.setdefault(item.service, []).append(item)
    plain = {name: max(items, key=lambda a: a.score) for name, items in by_service.items() if items}
    ranked: list[ServiceAnomaly] = []
    for name, items in by_service.items():
        worst = plain[name]
        victim_of = _cause_of_victim(worst, plain, calls)
        score = worst.score * (_VICTIM_DISCOUNT if victim_of else 1.0)
        ranked.append(
            ServiceAnomaly(
                service=name,
                score=score,
                raw_score=worst.score,
                worst=worst,
                metrics=tuple(sorted(items, key=lambda a: -a.score)),
                victim_of=victim_of,
            )
        )
    ranked.sort(key=lambda s: -s.score)
    return ranked


def _cause_of_victim(
    worst: SeriesAnomaly,
    worst_by_service: Mapping[str, SeriesAnomaly],
    calls: Mapping[str, Sequence[str]],
) -> str | None:
    """The anomalous service this one calls (transitively) that broke no later than it."""
    if worst.score < ANOMALY_Z or worst.metric not in SYMPTOM_METRICS:
        return None
    for callee in sorted(reachable(worst.service, calls)):
        other = worst_by_service.get(callee)
        if other is None or other.score < ANOMALY_Z:
            continue
        if other.onset <= worst.onset + _VICTIM_SLACK_S:
            return callee
    return None
