"""What the console reads from the watched system itself, so its charts keep going.

The diagnosis stored its series as they were when it ran; the console asks the metrics
source for the rest (through the approval, the action and the verification), the
service's memory limit and the deploys in the window. Every read is best effort: when
the source is missing or failing, the chart shows what the diagnosis saw.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from medic.domain import Change, ChangeKind, MedicError, Series
from medic.domain.cluster import MetricName
from medic.ports import ChangeSource, MetricsSource
from medic.web.charts import Marker

__all__ = ["Telemetry", "deploy_markers"]

_MAX_POINTS = 1000
_KNOWN = {m.value for m in MetricName}


def _step(series: Series) -> float:
    times = series.times()
    gaps = [b - a for a, b in itertools.pairwise(times) if b > a]
    return statistics.median(gaps) if gaps else 15.0


@dataclass(frozen=True)
class Telemetry:
    metrics: MetricsSource | None = None
    changes: ChangeSource | None = None
    now: Callable[[], datetime] | None = None

    def current_time(self) -> datetime:
        return self.now() if self.now is not None else datetime.now(UTC)

    def extended(self, series: Series, namespace: str, end: datetime) -> Series:
        """`series` continued up to `end` with what the source has after its last point."""
        if self.metrics is None or series.metric not in _KNOWN or not series.points:
            return series
        last = series.points[-1].t
        if end.timestamp() <= last:
            return series
        start = datetime.fromtimestamp(series.points[0].t, UTC)
        step = max(_step(series), (end - start).total_seconds() / _MAX_POINTS)
        try:
            fresh = self.metrics.query(
                namespace, series.service, MetricName(series.metric), start, end, step
            )
        except MedicError:
            return series
        newer = tuple(p for p in fresh.points if p.t > last)
        if not newer:
            return series
        return Series(
            series.metric,
            series.service,
            series.points + newer,
            series.labels,
            series.unit or fresh.unit,
        )

    def limit(self, series: Series, namespace: str) -> float | None:
        """The memory limit of the service, for a working-set chart."""
        if self.metrics is None or series.metric != MetricName.MEMORY_WORKING_SET_BYTES:
            return None
        if not series.points:
            return None
        end = datetime.fromtimestamp(series.points[-1].t, UTC)
        try:
            limits = self.metrics.query(
                namespace,
                series.service,
                MetricName.MEMORY_LIMIT_BYTES,
                end - timedelta(minutes=10),
                end,
                60.0,
            )
        except MedicError:
            return None
        values = [v for v in limits.values() if v == v and v > 0]
        return values[-1] if values else None

    def latest(self, namespace: str, service: str, metric: str) -> float | None:
        """The newest value of a metric (for the verification's progress)."""
        if self.metrics is None or metric not in _KNOWN:
            return None
        end = self.current_time()
        try:
            found = self.metrics.query(
                namespace, service, MetricName(metric), end - timedelta(minutes=5), end, 15.0
            )
        except MedicError:
            return None
        values = [v for v in found.values() if v == v]
        return values[-1] if values else None

    def deploys(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        if self.changes is None:
            return []
        try:
            return self.changes.changes(namespace, start, end)
        except MedicError:
            return []


def deploy_markers(changes: list[Change], services: set[str]) -> list[Marker]:
    """One marker per change to one of `services`, labelled with its version."""
    return [Marker(c.at.timestamp(), _label(c), "deploy") for c in changes if c.service in services]


def _label(change: Change) -> str:
    if change.kind is ChangeKind.DEPLOY:
        return f"deploy {change.service} {change.version or ''}".strip()
    return f"{change.kind.value.replace('_', ' ')} {change.service}"
