"""Spans as series: each service's own latency and own errors over time.

A span's duration includes the time its children took, so a slow database makes
every span above it slow. Attribution takes that out: a span's *self time* is its
duration less the time covered by its children (clipped at zero for children that
ran in parallel), and an error is the service's own only when none of its children
failed too (otherwise it is passed up from below). Binned onto a case's time axis,
these become two series per service, `trace_self_latency_ms` (the median self time
of the spans that started in the trailing window) and `trace_own_error_ratio`, which
the ranking scores like any other latency and error series.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from medic.analysis.stats import Array

__all__ = ["SELF_LATENCY", "OWN_ERRORS", "Span", "span_series"]

SELF_LATENCY = "trace_self_latency_ms"
OWN_ERRORS = "trace_own_error_ratio"


@dataclass(frozen=True)
class Span:
    time: float  # start, Unix seconds
    trace_id: str
    span_id: str
    parent_span_id: str | None
    service: str
    operation: str
    duration_ms: float
    error: bool


def _attributed(spans: Sequence[Span]) -> list[tuple[Span, float, bool]]:
    """(span, self time in ms, own error) for every span."""
    children: dict[tuple[str, str], list[Span]] = defaultdict(list)
    for span in spans:
        if span.parent_span_id:
            children[(span.trace_id, span.parent_span_id)].append(span)
    out: list[tuple[Span, float, bool]] = []
    for span in spans:
        kids = children.get((span.trace_id, span.span_id), [])
        self_ms = max(span.duration_ms - sum(k.duration_ms for k in kids), 0.0)
        own_error = span.error and not any(k.error for k in kids)
        out.append((span, self_ms, own_error))
    return out


def span_series(
    spans: Sequence[Span], times: Array, window_s: float | None = None
) -> dict[str, dict[str, Array]]:
    """Per service, its self latency and own error ratio at each of `times` (over the
    trailing `window_s`, by default four steps of the axis); NaN where it had no span."""
    if not spans or times.size < 2:
        return {}
    step = float(np.median(np.diff(times)))
    window = window_s if window_s is not None else 4 * step
    per_service: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    for span, self_ms, own_error in _attributed(spans):
        per_service[span.service].append((span.time, self_ms, own_error))
    out: dict[str, dict[str, Array]] = {}
    for service, rows in per_service.items():
        rows.sort()
        at = np.array([r[0] for r in rows])
        own_ms = np.array([r[1] for r in rows])
        errors = np.array([1.0 if r[2] else 0.0 for r in rows])
        lo = np.searchsorted(at, times - window, side="right")
        hi = np.searchsorted(at, times, side="right")
        latency = np.full(times.size, math.nan)
        ratio = np.full(times.size, math.nan)
        for i, (a, b) in enumerate(zip(lo, hi, strict=True)):
            if b > a:
                latency[i] = float(np.median(own_ms[a:b]))
                ratio[i] = float(errors[a:b].mean())
        out[service] = {SELF_LATENCY: latency, OWN_ERRORS: ratio}
    return out
