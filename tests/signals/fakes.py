"""Fakes of the read ports the watchdog uses, and builders of realistic noisy series.

Series live on a fixed 15 s grid ending at `now`; a query returns the grid points
inside [start, end], thinned to the asked step, like a range query would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from medic.domain.cluster import (
    MetricName,
    Revision,
    RolloutStatus,
    ServiceInfo,
)
from medic.domain.errors import MedicError
from medic.domain.model import Point, Series

__all__ = [
    "MB",
    "Array",
    "NOW",
    "FakeCluster",
    "FakeMetrics",
    "Shape",
    "ramp",
    "step_change",
    "warm_up",
]

Array = npt.NDArray[np.float64]
MB = 1024.0 * 1024.0
NOW = datetime(2026, 11, 27, 20, 10, tzinfo=UTC)

# Transforms a series' values given the points' times relative to now (seconds, <= 0).
Shape = Callable[[Array, Array], Array]


class FakeMetrics:
    """A MetricsSource over arrays set by the test; unknown series come back empty."""

    def __init__(
        self,
        now: datetime = NOW,
        history: timedelta = timedelta(hours=4),
        step: float = 15.0,
        seed: int = 7,
    ) -> None:
        self.now = now
        self.step = step
        count = int(history.total_seconds() // step) + 1
        self.rel = np.arange(-(count - 1), 1, dtype=np.float64) * step  # seconds before now
        self.rng = np.random.default_rng(seed)
        self.data: dict[tuple[str, MetricName], Array] = {}
        self.failures: dict[tuple[str | None, MetricName | None], MedicError] = {}
        self.queries: list[tuple[str, MetricName]] = []

    def set(self, service: str, metric: MetricName, level: float, *shapes: Shape) -> None:
        values = np.full(self.rel.shape, level, dtype=np.float64)
        for shape in shapes:
            values = shape(self.rel, values)
        self.data[(service, metric)] = values

    def noisy(self, fraction: float) -> Shape:
        """Gaussian noise of `fraction` of the level (a fresh draw per series)."""
        rng = self.rng

        def apply(rel: Array, values: Array) -> Array:
            return values + rng.normal(0.0, fraction, rel.shape) * np.abs(values)

        return apply

    def fail(
        self, error: MedicError, service: str | None = None, metric: MetricName | None = None
    ) -> None:
        """Make queries fail; None matches any service or metric."""
        self.failures[(service, metric)] = error

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        self.queries.append((service, metric))
        for key in ((service, metric), (service, None), (None, metric), (None, None)):
            if key in self.failures:
                raise self.failures[key]
        values = self.data.get((service, metric))
        if values is None:
            return Series(metric=str(metric), service=service, points=())
        lo = (start - self.now).total_seconds()
        hi = (end - self.now).total_seconds()
        idx = np.nonzero((self.rel >= lo) & (self.rel <= hi))[0]
        stride = max(1, round(step_seconds / self.step))
        idx = idx[::-1][::stride][::-1]  # keep the newest point, as range queries align on end
        base = self.now.timestamp()
        points = tuple(Point(base + float(self.rel[i]), float(values[i])) for i in idx)
        return Series(metric=str(metric), service=service, points=points)


def ramp(since_s: float, per_second: float) -> Shape:
    """Add a straight climb that starts `since_s` seconds before now."""

    def apply(rel: Array, values: Array) -> Array:
        return values + np.maximum(0.0, rel + since_s) * per_second

    return apply


def step_change(since_s: float, delta: float, until_s: float = 0.0) -> Shape:
    """Add `delta` between `since_s` and `until_s` seconds before now (a blip or a shift)."""

    def apply(rel: Array, values: Array) -> Array:
        inside = (rel >= -since_s) & (rel < -until_s if until_s else rel <= 0)
        return values + np.where(inside, delta, 0.0)

    return apply


def warm_up(at_s: float, dip: float, minutes: float) -> Shape:
    """New pods after a rollout: memory drops by `dip` then climbs back in `minutes`."""

    def apply(rel: Array, values: Array) -> Array:
        age = rel + at_s
        recovering = (age >= 0) & (age < minutes * 60)
        return values - np.where(recovering, dip * (1 - age / (minutes * 60)), 0.0)

    return apply


class FakeCluster:
    """A ClusterReader over a fixed topology."""

    def __init__(
        self,
        services: Sequence[ServiceInfo],
        history: dict[str, list[Revision]] | None = None,
    ) -> None:
        self._services = list(services)
        self._history = history or {}
        self.failure: MedicError | None = None

    def services(self, namespace: str) -> list[ServiceInfo]:
        if self.failure is not None:
            raise self.failure
        return [s for s in self._services if s.namespace == namespace]

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        return list(self._history.get(deployment, []))

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus:
        replicas = next((s.replicas for s in self._services if s.name == deployment), 0)
        return RolloutStatus(True, replicas, replicas)
