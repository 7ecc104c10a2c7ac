"""Small fakes of the ports the hands use: a clock, the cluster, metrics, a code host."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from medic.domain import (
    MedicError,
    MetricName,
    Point,
    RevertContext,
    Revision,
    RolloutStatus,
    Series,
    ServiceInfo,
    WriteResult,
)
from medic.ports import PullRequest

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, start: datetime = T0) -> None:
        self.current = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.current += timedelta(seconds=seconds)


@dataclass
class FakeWriter:
    """Applies each idempotency key once; `fail` is raised by every write when set."""

    applied: dict[str, tuple[str, ...]] = field(default_factory=dict)
    fail: MedicError | None = None

    def _write(self, key: str, *call: str) -> WriteResult:
        if self.fail is not None:
            raise self.fail
        if key in self.applied:
            return WriteResult(applied=False, detail=f"key {key} already applied")
        self.applied[key] = call
        return WriteResult(applied=True, detail="ok")

    def rollout_undo(
        self, namespace: str, deployment: str, to_revision: int, key: str
    ) -> WriteResult:
        return self._write(key, "undo", namespace, deployment, str(to_revision))

    def rollout_restart(self, namespace: str, deployment: str, key: str) -> WriteResult:
        return self._write(key, "restart", namespace, deployment)

    def scale(self, namespace: str, deployment: str, replicas: int, key: str) -> WriteResult:
        return self._write(key, "scale", namespace, deployment, str(replicas))

    def set_memory_limit(
        self, namespace: str, deployment: str, limit_mb: int, key: str
    ) -> WriteResult:
        return self._write(key, "limit", namespace, deployment, str(limit_mb))

    def revert_config(
        self, namespace: str, deployment: str, key: str, setting: str | None = None
    ) -> WriteResult:
        return self._write(key, "revert_config", namespace, deployment, setting or "")

    def cordon_node(self, node: str, key: str) -> WriteResult:
        return self._write(key, "cordon", node)


@dataclass
class FakeReader:
    """A rollout that completes after `polls_until_done` status reads (never when None)."""

    polls_until_done: int | None = 0
    status_reads: int = 0

    def services(self, namespace: str) -> list[ServiceInfo]:
        return []

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        return []

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus:
        self.status_reads += 1
        done = self.polls_until_done is not None and self.status_reads > self.polls_until_done
        return RolloutStatus(done=done, updated_replicas=2 if done else 1, desired_replicas=2)


@dataclass
class FakeCodeHost:
    opened: dict[str, PullRequest] = field(default_factory=dict)
    contexts: dict[str, RevertContext | None] = field(default_factory=dict)

    def open_revert(
        self,
        service: str,
        good_version: str,
        bad_version: str,
        title: str,
        body: str,
        key: str,
        *,
        context: RevertContext | None = None,
    ) -> PullRequest:
        self.contexts[key] = context
        if key not in self.opened:
            self.opened[key] = PullRequest(
                branch=f"revert-{service}-{bad_version}",
                title=title,
                url=f"https://git.example.com/{service}/pull/{len(self.opened) + 1}",
                reverted=("9f3c2ab",),
            )
        return self.opened[key]


# value(t) for a metric: t is Unix seconds; None means no point at that time.
Curve = Callable[[float], float | None]


@dataclass
class FakeMetrics:
    """Series drawn from per-(service, metric) curves at the requested step."""

    curves: dict[tuple[str, MetricName], Curve] = field(default_factory=dict)
    fail: MedicError | None = None
    queries: int = 0

    def query(
        self,
        namespace: str,
        service: str,
        metric: MetricName,
        start: datetime,
        end: datetime,
        step_seconds: float,
    ) -> Series:
        self.queries += 1
        if self.fail is not None:
            raise self.fail
        curve = self.curves.get((service, metric))
        points: list[Point] = []
        t = start.timestamp()
        while curve is not None and t <= end.timestamp():
            v = curve(t)
            if v is not None:
                points.append(Point(t, v))
            t += step_seconds
        return Series(metric=metric.value, service=service, points=tuple(points))
