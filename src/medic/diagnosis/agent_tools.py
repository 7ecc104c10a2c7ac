"""The LLM agent's read-only tools, over medic's ports; every answer becomes Evidence.

There is no write tool, and none can be added through this module: the tools see only
MetricsSource, LogSource and ChangeSource. Each successful call is written down as a new
Evidence with a fresh id (``ev-llm-N``) that a later claim may cite, and its text goes
back to the model inside the run's untrusted-data fence. A failing source is answered
with a short note (and listed as missing), never with an exception that ends the run.
"""

from __future__ import annotations

import statistics
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic_ai import RunContext

from medic.domain.cluster import MetricName
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Change, Evidence, Scalar, Series
from medic.ports.telemetry import ChangeSource, LogSource, MetricsSource

__all__ = [
    "QUIET_SIGMAS",
    "AgentTools",
    "ToolLedger",
    "changes",
    "query_metric",
    "recent_logs",
    "series_shift",
]

_MAX_MINUTES = 240
_MIN_MINUTES = 5
_TARGET_POINTS = 120
_LOG_READ_LIMIT = 1000
_LOG_SAMPLE = 12
_LOG_LINE_CHARS = 240
_PATTERN_CHARS = 80
_MAX_CHANGES = 20
# A series that moved less than this after the onset did not visibly change.
QUIET_SIGMAS = 3.0
# Points either side of the onset needed before a shift means anything.
_MIN_SIDE_POINTS = 4


@dataclass(frozen=True)
class AgentTools:
    """The read ports the agent's tools may use, for one namespace, at one instant."""

    namespace: str
    metrics: MetricsSource
    now: datetime  # the diagnosis' "now": tools look back from here
    changes: ChangeSource | None = None
    logs: LogSource | None = None
    services: tuple[str, ...] = ()  # the topology; empty: the services the evidence names


@dataclass
class ToolLedger:
    """Per-run state the tools share: what exists, what was added, what failed."""

    tools: AgentTools
    now: datetime
    services: frozenset[str]
    known_ids: set[str]
    onset: datetime | None
    wrap: Callable[[Iterable[str]], str]  # the run's fence
    evidence: list[Evidence] = field(default_factory=list)
    changes: list[tuple[str, Change]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    untrusted: list[str] = field(default_factory=list)  # free text the model was shown
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(
        self,
        source: str,
        query: str,
        summary: str,
        data: Mapping[str, Scalar],
        series: tuple[Series, ...] = (),
    ) -> str:
        with self._lock:
            n = len(self.evidence) + 1
            while f"ev-llm-{n}" in self.known_ids:
                n += 1
            evidence_id = f"ev-llm-{n}"
            self.known_ids.add(evidence_id)
            self.evidence.append(Evidence(evidence_id, source, query, summary, data, series))
            return evidence_id

    def unknown_service(self, service: str) -> str | None:
        if self.services and service not in self.services:
            return (
                "unknown service: pick one of "
                + ", ".join(sorted(self.services))
                + " (no evidence recorded)"
            )
        return None


def _minutes(value: int) -> int:
    return max(_MIN_MINUTES, min(_MAX_MINUTES, int(value)))


def query_metric(
    ctx: RunContext[ToolLedger], service: str, metric: MetricName, minutes: int = 60
) -> str:
    """Read one metric of one service over the last `minutes` (5-240); returns key numbers.

    Args:
        service: a service of the topology.
        metric: the metric to read.
        minutes: how far back to look.
    """
    ledger = ctx.deps
    if problem := ledger.unknown_service(service):
        return problem
    minutes = _minutes(minutes)
    start = ledger.now - timedelta(minutes=minutes)
    step = max(15.0, minutes * 60 / _TARGET_POINTS)
    try:
        series = ledger.tools.metrics.query(
            ledger.tools.namespace, service, metric, start, ledger.now, step
        )
    except (TransientError, PermanentError) as e:
        ledger.missing.append(f"agent: no {metric} for {service}: {e}")
        return f"source unavailable: no {metric} for {service} ({type(e).__name__})"
    query = f"{metric}{{namespace={ledger.tools.namespace},service={service}}}[{minutes}m]"
    values = series.values()
    if not values:
        eid = ledger.add("metrics", query, f"{service} {metric}: no data", {"service": service})
        return f"evidence {eid}: " + ledger.wrap([f"{service} {metric}: no data"])
    shift = series_shift(series, ledger.onset) if ledger.onset else None
    data: dict[str, Scalar] = {
        "service": service,
        "metric": str(metric),
        "first": values[0],
        "last": values[-1],
        "min": min(values),
        "max": max(values),
        "points": len(values),
        "shift_sigmas": round(shift, 2) if shift is not None else None,
    }
    summary = (
        f"{service} {metric} over the last {minutes} min: {values[0]:.4g} -> {values[-1]:.4g} "
        f"(min {min(values):.4g}, max {max(values):.4g})"
    )
    if shift is not None:
        summary += f", {shift:+.1f} robust sigmas after the onset"
    eid = ledger.add("metrics", query, summary, data, (series,))
    return f"evidence {eid}: " + ledger.wrap([summary])


def recent_logs(
    ctx: RunContext[ToolLedger], service: str, pattern: str | None = None, minutes: int = 30
) -> str:
    """Count a service's recent log lines matching `pattern` (plain text, case-insensitive)
    and show a few of the newest; without a pattern, the newest lines.

    Args:
        service: a service of the topology.
        pattern: plain substring to look for (no regular expressions).
        minutes: how far back to look (5-240).
    """
    ledger = ctx.deps
    if problem := ledger.unknown_service(service):
        return problem
    if ledger.tools.logs is None:
        return "no log source is configured"
    minutes = _minutes(minutes)
    start = ledger.now - timedelta(minutes=minutes)
    try:
        lines = ledger.tools.logs.lines(
            ledger.tools.namespace, service, start, ledger.now, _LOG_READ_LIMIT
        )
    except (TransientError, PermanentError) as e:
        ledger.missing.append(f"agent: no logs for {service}: {e}")
        return f"source unavailable: no logs for {service} ({type(e).__name__})"
    needle = (pattern or "")[:_PATTERN_CHARS]
    matched = [x for x in lines if needle.lower() in x.message.lower()]
    sample = [f"{x.at:%H:%M:%S} {x.level} {x.message[:_LOG_LINE_CHARS]}" for x in matched]
    sample = sample[-_LOG_SAMPLE:]
    ledger.untrusted.extend(x.message for x in matched[-_LOG_SAMPLE:])
    # The pattern is the model's text: it stays in `data`, out of the summary.
    wanted = " matching the agent's pattern" if needle else ""
    summary = (
        f"{len(matched)} of {len(lines)} log lines of {service} in the last {minutes} min"
        f"{wanted}" + (" (read limit reached)" if len(lines) >= _LOG_READ_LIMIT else "")
    )
    data: dict[str, Scalar] = {
        "service": service,
        "pattern_untrusted": needle,
        "lines_read": len(lines),
        "matches": len(matched),
        "sample_untrusted": "\n".join(sample[-3:])[:1000],
    }
    query = f"logs(namespace={ledger.tools.namespace}, service={service})[{minutes}m]"
    eid = ledger.add("logs", query, summary, data)
    return f"evidence {eid}: " + ledger.wrap([summary, *sample])


def changes(ctx: RunContext[ToolLedger], minutes: int = 180) -> str:
    """List deploys, config changes and scaling events of the namespace in the last
    `minutes` (5-240), oldest first.

    Args:
        minutes: how far back to look.
    """
    ledger = ctx.deps
    if ledger.tools.changes is None:
        return "no change source is configured"
    minutes = _minutes(minutes)
    start = ledger.now - timedelta(minutes=minutes)
    try:
        found = ledger.tools.changes.changes(ledger.tools.namespace, start, ledger.now)
    except (TransientError, PermanentError) as e:
        ledger.missing.append(f"agent: no changes: {e}")
        return f"source unavailable: no changes ({type(e).__name__})"
    shown = found[-_MAX_CHANGES:]
    lines = [_change_line(c) for c in shown]
    summary = f"{len(found)} changes in {ledger.tools.namespace} in the last {minutes} min"
    data: dict[str, Scalar] = {"count": len(found)}
    for i, change in enumerate(shown, 1):
        data[f"change_{i}"] = f"{change.kind.value} {change.service} {change.version or ''}"
        data[f"change_{i}_at"] = change.at.isoformat()
    eid = ledger.add("changes", f"changes(namespace={ledger.tools.namespace})", summary, data)
    ledger.changes.extend((eid, c) for c in shown)
    ledger.untrusted.extend(c.commit_message for c in shown if c.commit_message)
    return f"evidence {eid}: " + ledger.wrap([summary, *lines])


def _change_line(change: Change) -> str:
    version = f" {change.previous_version or '?'} -> {change.version}" if change.version else ""
    message = f"; commit message: {change.commit_message[:200]}" if change.commit_message else ""
    return (
        f"{change.at:%Y-%m-%d %H:%M} UTC {change.kind.value} of {change.service}{version}{message}"
    )


def series_shift(series: Series, onset: datetime) -> float | None:
    """How far the series moved after `onset`: the median after minus the median before,
    in robust sigmas of the before part (IQR / 1.349, floored at 1% of the level).

    None when either side has too few points to say.
    """
    cut = onset.timestamp()
    before = [p.v for p in series.points if p.t < cut]
    after = [p.v for p in series.points if p.t >= cut]
    if len(before) < _MIN_SIDE_POINTS or len(after) < _MIN_SIDE_POINTS:
        return None
    quartiles = statistics.quantiles(before, n=4)
    level = abs(statistics.median(before))
    sigma = max((quartiles[2] - quartiles[0]) / 1.349, 0.01 * level, 1e-9)
    return (statistics.median(after) - statistics.median(before)) / sigma
