"""Spans for an exported case: the sandbox's requests as traces (BENCHMARK.md §2).

The sandbox does not record requests one by one; its services have, per step, a
latency and an error ratio. A trace is drawn from those: at every step, for each
service that external traffic enters, `_TRACES_PER_STEP` requests walk its call graph,
each service's span lasting its latency at that step and failing with its error
ratio (a seeded draw, so an export is reproducible). A caller's span encloses its
callees', as on a real tracer, so the spans carry the propagation that attribution
(`analysis.traces`) has to see through.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

from medic.domain.cluster import MetricName
from medic.sandbox.scenario import Scenario

__all__ = ["write_traces"]

_TRACES_PER_STEP = 2
_MAX_DEPTH = 8


def write_traces(
    path: Path,
    scenario: Scenario,
    names: dict[str, str],
    columns: dict[str, dict[float, float]],
    times: list[float],
) -> None:
    rng = random.Random(scenario.seed)
    calls = {names[s.name]: [names.get(c, c) for c in s.calls] for s in scenario.services}
    entries = [names[s.name] for s in scenario.services if s.entry_rps > 0]
    latency = MetricName.LATENCY_P99_SECONDS.value
    errors = MetricName.ERROR_RATIO.value
    rows: list[list[str]] = []
    counter = 0

    def span(t: float, trace: str, parent: str, service: str, depth: int) -> None:
        nonlocal counter
        counter += 1
        span_id = f"s{counter}"
        seconds = columns.get(f"{service}_{latency}", {}).get(t)
        if seconds is None:
            return
        ratio = columns.get(f"{service}_{errors}", {}).get(t, 0.0)
        status = "error" if rng.random() < ratio else "ok"
        rows.append(
            [
                f"{t:.0f}",
                trace,
                span_id,
                parent,
                service,
                "request",
                f"{seconds * 1000:.3f}",
                status,
            ]
        )
        if depth < _MAX_DEPTH:
            for callee in calls.get(service, []):
                span(t, trace, span_id, callee, depth + 1)

    for t in times:
        for entry in entries:
            for k in range(_TRACES_PER_STEP):
                span(t, f"t{t:.0f}-{entry}-{k}", "", entry, 0)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "time",
                "trace_id",
                "span_id",
                "parent_span_id",
                "service",
                "operation",
                "duration_ms",
                "status",
            ]
        )
        writer.writerows(rows)
