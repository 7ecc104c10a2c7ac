"""Read ports for telemetry: metrics, logs and changes."""

from datetime import datetime
from typing import Protocol, runtime_checkable

from medic.domain.cluster import ClusterEvent, LogLine, MetricName
from medic.domain.model import Change, Series

__all__ = ["ChangeSource", "EventSource", "LogSource", "MetricsSource", "PodMetricsSource"]


class MetricsSource(Protocol):
    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        """One per-service series over [start, end]; empty points when there is no data.

        Raises TransientError when the backend is unreachable or times out.
        """
        ...


@runtime_checkable
class PodMetricsSource(Protocol):
    def query_pods(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> list[Series]:
        """One series per pod of the service (labels `pod` and `node`), by pod name.

        For a pod, MEMORY_WORKING_SET_BYTES is its own working set and LATENCY_P99 its
        own p99; AVAILABLE_REPLICAS is 1 while it is ready. Separate from MetricsSource
        so that backends without per-pod data stay valid implementations of that.
        """
        ...


class LogSource(Protocol):
    def lines(
        self,
        namespace: str,
        service: str,
        start: datetime,
        end: datetime,
        limit: int,
    ) -> list[LogLine]:
        """At most `limit` log lines of a service's pods, oldest first."""
        ...


class ChangeSource(Protocol):
    def changes(self, namespace: str, start: datetime, end: datetime) -> list[Change]:
        """Deploys, config changes and scaling events in [start, end], oldest first."""
        ...


class EventSource(Protocol):
    def events(self, namespace: str, start: datetime, end: datetime) -> list[ClusterEvent]:
        """Kubernetes events of the namespace in [start, end], oldest first."""
        ...
