"""`MetricsSource` over the simulated telemetry, at the scenario's step resolution.

A coarser `step_seconds` aggregates the native points in buckets aligned to
multiples of the step in Unix time (like a Prometheus range query with a fixed
alignment), so two windows that share a bucket return the same value for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from datetime import datetime

from medic.domain.cluster import MetricName
from medic.domain.model import Point, Series
from medic.sandbox.simulation import Simulation, Snapshot

__all__ = ["SimMetrics", "pod_series"]

_UNITS = {
    MetricName.MEMORY_WORKING_SET_BYTES: "bytes",
    MetricName.MEMORY_LIMIT_BYTES: "bytes",
    MetricName.CPU_USAGE_CORES: "cores",
    MetricName.REQUEST_RATE: "requests/s",
    MetricName.ERROR_RATIO: "ratio",
    MetricName.LATENCY_P99_SECONDS: "seconds",
    MetricName.RESTARTS: "count",
    MetricName.AVAILABLE_REPLICAS: "replicas",
    MetricName.SATURATION: "ratio",
    MetricName.DISK_USAGE_RATIO: "ratio",
}


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)


def _last(values: Sequence[float]) -> float:
    return values[-1]


# How a coarser step folds native points: peaks of memory survive, a counter keeps
# its latest value, an outage of replicas is not averaged away.
_AGGREGATE: dict[MetricName, Callable[[Sequence[float]], float]] = {
    MetricName.MEMORY_WORKING_SET_BYTES: max,
    MetricName.RESTARTS: _last,
    MetricName.AVAILABLE_REPLICAS: min,
    MetricName.DISK_USAGE_RATIO: max,
}
_EPSILON = 1e-6


class SimMetrics:
    def __init__(self, simulation: Simulation) -> None:
        self._sim = simulation

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        scenario = self._sim.scenario
        metric = MetricName(metric)
        series = Series(
            metric=metric.value,
            service=service,
            points=(),
            labels={"namespace": namespace},
            unit=_UNITS[metric],
        )
        if namespace != scenario.namespace or not scenario.has_service(service):
            return series
        snap = self._sim.current()
        first = max(self._sim.offset(start), -scenario.history)
        last = min(self._sim.offset(end), snap.now)
        if last < first:
            return series
        if step_seconds <= scenario.step:
            points = self._native(snap, service, metric, first, last)
        else:
            points = self._buckets(snap, service, metric, first, last, step_seconds)
        return Series(
            metric=series.metric,
            service=service,
            points=tuple(points),
            labels=series.labels,
            unit=series.unit,
        )

    def query_pods(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> list[Series]:
        """One series per pod (labels `pod`, `node`) at the scenario's step."""
        scenario = self._sim.scenario
        if namespace != scenario.namespace or not scenario.has_service(service):
            return []
        del step_seconds  # per-pod series come at the native step only
        first = max(self._sim.offset(start), -scenario.history)
        last = min(self._sim.offset(end), self._sim.current().now)
        if last < first:
            return []
        return pod_series(self._sim, namespace, service, MetricName(metric), first, last)

    def _value(self, snap: Snapshot, service: str, metric: MetricName, k: int) -> float | None:
        return snap.telemetry.at_step(k)[service].get(metric)

    def _steps(self, first: float, last: float) -> range:
        step = self._sim.scenario.step
        return range(math.ceil(first / step - _EPSILON), math.floor(last / step + _EPSILON) + 1)

    def _native(
        self, snap: Snapshot, service: str, metric: MetricName, first: float, last: float
    ) -> list[Point]:
        origin, step = self._sim.origin.timestamp(), self._sim.scenario.step
        points = []
        for k in self._steps(first, last):
            value = self._value(snap, service, metric, k)
            if value is not None:
                points.append(Point(origin + k * step, value))
        return points

    def _buckets(
        self,
        snap: Snapshot,
        service: str,
        metric: MetricName,
        first: float,
        last: float,
        width: float,
    ) -> list[Point]:
        origin = self._sim.origin.timestamp()
        floor = -self._sim.scenario.history
        fold = _AGGREGATE.get(metric, _mean)
        points = []
        end = math.ceil((origin + first) / width - _EPSILON) * width
        while end - origin <= last + _EPSILON:
            # The whole bucket (end - width, end], even before `first`: window-independent.
            low = end - width - origin
            step = self._sim.scenario.step
            ks = [
                k for k in self._steps(max(low, floor), end - origin) if k * step - low > _EPSILON
            ]
            values = [v for k in ks if (v := self._value(snap, service, metric, k)) is not None]
            if values:
                points.append(Point(end, fold(values)))
            end += width
        return points


_POD_FIELDS = {
    MetricName.MEMORY_WORKING_SET_BYTES: "memory_working_set_bytes",
    MetricName.CPU_USAGE_CORES: "cpu_usage_cores",
    MetricName.REQUEST_RATE: "request_rate",
    MetricName.ERROR_RATIO: "error_ratio",
    MetricName.LATENCY_P99_SECONDS: "latency_p99_seconds",
    MetricName.RESTARTS: "restarts",
    MetricName.AVAILABLE_REPLICAS: "ready",
}


def pod_series(
    sim: Simulation, namespace: str, service: str, metric: MetricName, first: float, last: float
) -> list[Series]:
    """Per-pod series at the native step: one per pod that existed in the window."""
    snap = sim.current()
    step = sim.scenario.step
    field = _POD_FIELDS.get(metric)
    points: dict[tuple[str, str], list[Point]] = {}
    origin = sim.origin.timestamp()
    for k in range(math.ceil(first / step - _EPSILON), math.floor(last / step + _EPSILON) + 1):
        for pod in snap.telemetry.at_step(k)[service].pods:
            if field is None:  # the limit: the pod's template's
                continue
            if not pod.running and metric is not MetricName.RESTARTS and field != "ready":
                continue  # cAdvisor has no container to report while it waits
            value = float(getattr(pod, field))
            points.setdefault((pod.pod, pod.node), []).append(Point(origin + k * step, value))
    return [
        Series(
            metric=metric.value,
            service=service,
            points=tuple(values),
            labels={"namespace": namespace, "pod": pod, "node": node},
            unit=_UNITS[metric],
        )
        for (pod, node), values in sorted(points.items())
    ]
