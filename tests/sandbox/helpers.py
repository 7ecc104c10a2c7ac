"""Shared helpers: open a sandbox on a manual clock, write scenario variants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from medic.domain.cluster import MetricName
from medic.domain.model import Series
from medic.sandbox import ManualClock, Sandbox

__all__ = ["MB", "SEED", "START", "memory_mb", "open_seed", "query", "write"]

SEED = "auth-memory-leak-after-deploy"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MB = 1024.0 * 1024.0


def open_seed(state_dir: Path, start: datetime = START) -> tuple[Sandbox, ManualClock]:
    clock = ManualClock(start)
    return Sandbox.open(SEED, state_dir, clock=clock), clock


def write(tmp_path: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def query(
    sandbox: Sandbox,
    service: str,
    metric: MetricName,
    back: timedelta,
    *,
    until: datetime | None = None,
    step: float = 15.0,
) -> Series:
    end = until or sandbox.clock.now()
    return sandbox.metrics.query(sandbox.namespace, service, metric, end - back, end, step)


def memory_mb(sandbox: Sandbox, service: str, back: timedelta, step: float = 15.0) -> list[float]:
    series = query(sandbox, service, MetricName.MEMORY_WORKING_SET_BYTES, back, step=step)
    return [v / MB for v in series.values()]
