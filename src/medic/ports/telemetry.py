"""Read ports for telemetry: metrics, logs and changes."""

from datetime import datetime
from typing import Protocol

from medic.domain.cluster import LogLine, MetricName
from medic.domain.model import Change, Series

__all__ = ["ChangeSource", "LogSource", "MetricsSource"]


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
