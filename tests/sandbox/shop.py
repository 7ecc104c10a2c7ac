"""A small shop cluster to inject one fault at a time into (tests of the fault types)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np

from medic.domain.cluster import MetricName
from medic.sandbox import ManualClock, Sandbox
from tests.sandbox.helpers import START, write

__all__ = ["NS", "after", "before", "log_text", "mean", "open_shop"]

NS = "shop"

_SHOP = """
name: shop-{name}
seed: 5
namespace: shop
history: 40m
step: 15s
nodes: [{{name: node-a}}, {{name: node-b}}, {{name: node-c}}]
services:
  - {{name: web, entry_rps: 60, calls: [checkout], replicas: 3}}
  - {{name: checkout, calls: [orders-db, payments], replicas: 3, cpu_ms_per_request: 10}}
  - {{name: payments, kind: external}}
  - {{name: orders-db, kind: database}}
timeline:
{events}
"""


def open_shop(tmp_path: Path, events: str, name: str = "case") -> tuple[Sandbox, ManualClock]:
    """The shop with `events` (YAML list items, indented by two) in its timeline."""
    text = _SHOP.format(name=name, events=events or "  []")
    if not events:
        text = text.replace("timeline:\n  []", "timeline: []")
    path = write(tmp_path, text, f"{name}.yaml")
    clock = ManualClock(START)
    return Sandbox.open(str(path), tmp_path / f"state-{name}", clock=clock), clock


def mean(sandbox: Sandbox, service: str, metric: MetricName, start: float, end: float) -> float:
    """Mean of `metric` over [start, end] minutes relative to the sandbox's now."""
    now = sandbox.clock.now()
    values = sandbox.metrics.query(
        sandbox.namespace,
        service,
        metric,
        now + timedelta(minutes=start),
        now + timedelta(minutes=end),
        15.0,
    ).values()
    assert values, f"no {metric} points for {service}"
    return float(np.mean(values))


def before(sandbox: Sandbox, service: str, metric: MetricName) -> float:
    return mean(sandbox, service, metric, -38, -22)


def after(sandbox: Sandbox, service: str, metric: MetricName) -> float:
    return mean(sandbox, service, metric, -6, 0)


def log_text(sandbox: Sandbox, service: str, minutes: float = 3, limit: int = 400) -> str:
    now = sandbox.clock.now()
    lines = sandbox.logs.lines(NS, service, now - timedelta(minutes=minutes), now, limit)
    return "\n".join(line.message for line in lines)
