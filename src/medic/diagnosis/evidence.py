"""Evidence gathering: ask the ports, write down every answer as citable `Evidence`.

A source that fails (TransientError or PermanentError from a port) is written down
in `missing` and the gathering goes on: a diagnosis with a hole in it, said out
loud, beats no diagnosis.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from medic.analysis.nodes import NodeSuspect
from medic.diagnosis.events import EventCounts
from medic.diagnosis.logpatterns import LogRates
from medic.domain.cluster import LogLine, MetricName, ServiceInfo, ServiceKind
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Change, Evidence, Scalar, Series
from medic.ports.cluster import ClusterReader
from medic.ports.presence import Absent
from medic.ports.telemetry import ChangeSource

__all__ = [
    "SCORED_METRICS",
    "EvidenceBook",
    "LogEvidence",
    "describe_value",
    "gather_changes",
    "gather_topology",
    "log_summary",
    "query_text",
    "series_data",
    "series_summary",
]

# The golden signals and the resources, in the order they are shown.
SCORED_METRICS: tuple[MetricName, ...] = (
    MetricName.MEMORY_WORKING_SET_BYTES,
    MetricName.CPU_USAGE_CORES,
    MetricName.LATENCY_P99_SECONDS,
    MetricName.ERROR_RATIO,
    MetricName.RESTARTS,
    MetricName.AVAILABLE_REPLICAS,
    MetricName.REQUEST_RATE,
    MetricName.SATURATION,
    MetricName.DISK_USAGE_RATIO,
)

_MAX_POINTS = 900
_MB = 1024.0 * 1024.0


@dataclass(frozen=True)
class LogEvidence:
    evidence_id: str
    before: LogRates  # the half hour before the onset
    after: LogRates  # the last half hour
    lines: tuple[LogLine, ...] = ()  # the lines of both windows (untrusted text)
    windows: tuple[tuple[datetime, datetime], ...] = ()  # what the lines cover


@dataclass
class EvidenceBook:
    """What the diagnosis has seen so far, each item under its evidence id."""

    namespace: str
    start: datetime
    end: datetime
    services: dict[str, ServiceInfo] = field(default_factory=dict)
    series: dict[tuple[str, MetricName], Series] = field(default_factory=dict)
    series_ids: dict[tuple[str, MetricName], str] = field(default_factory=dict)
    limits: dict[str, float] = field(default_factory=dict)
    changes: list[tuple[str, Change]] = field(default_factory=list)
    logs: dict[str, LogEvidence] = field(default_factory=dict)
    events: dict[str, EventCounts] = field(default_factory=dict)
    event_ids: dict[str, str] = field(default_factory=dict)
    nodes: list[NodeSuspect] = field(default_factory=list)
    node_ids: dict[str, str] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # sources that failed or timed out
    # Optional sources that are not configured: said, but not held against the diagnosis.
    unseen: list[str] = field(default_factory=list)

    def kind_of(self, service: str) -> ServiceKind | None:
        info = self.services.get(service)
        return info.kind if info else None

    def callers_of(self, service: str) -> list[str]:
        return sorted(s.name for s in self.services.values() if service in s.calls)

    def add(
        self,
        source: str,
        query: str,
        summary: str,
        data: Mapping[str, Scalar] | None = None,
        series: tuple[Series, ...] = (),
    ) -> str:
        evidence_id = f"ev-{len(self.evidence) + 1}"
        self.evidence.append(Evidence(evidence_id, source, query, summary, data or {}, series))
        return evidence_id

    @property
    def step_seconds(self) -> float:
        span = (self.end - self.start).total_seconds()
        return float(max(15, math.ceil(span / _MAX_POINTS / 15) * 15))


def gather_topology(book: EvidenceBook, cluster: ClusterReader) -> None:
    try:
        found = cluster.services(book.namespace)
    except (TransientError, PermanentError) as e:
        book.missing.append(f"no topology: {e}")
        return
    book.services = {s.name: s for s in found}
    edges = sum(len(s.calls) for s in found)
    book.add(
        "cluster",
        f"services(namespace={book.namespace})",
        f"{len(found)} services, {edges} call edges in {book.namespace}",
        data={"services": len(found), "edges": edges},
    )


def gather_changes(book: EvidenceBook, changes: ChangeSource) -> None:
    if isinstance(changes, Absent):
        book.unseen.append(changes.absent_reason)
        return
    try:
        found = changes.changes(book.namespace, book.start, book.end)
    except (TransientError, PermanentError) as e:
        book.missing.append(f"no changes: {e}")
        return
    for change in found:
        evidence_id = book.add(
            "changes",
            f"changes(namespace={book.namespace}, service={change.service})",
            _change_summary(change),
            data=_change_data(change),
        )
        book.changes.append((evidence_id, change))


def describe_value(metric: MetricName | str, value: float) -> str:
    """A value as a person reads it: MB, ms, %, cores, rps."""
    if metric in (MetricName.MEMORY_WORKING_SET_BYTES, MetricName.MEMORY_LIMIT_BYTES):
        return f"{value / _MB:.0f} MB"
    if metric == MetricName.LATENCY_P99_SECONDS:
        return f"{value * 1000:.0f} ms"
    if metric == MetricName.ERROR_RATIO:
        return f"{value:.1%}"
    if metric == MetricName.CPU_USAGE_CORES:
        return f"{value:.2f} cores"
    if metric == MetricName.REQUEST_RATE:
        return f"{value:.0f} rps"
    return f"{value:g}"


def query_text(book: EvidenceBook, service: str, metric: MetricName) -> str:
    return (
        f'{metric}{{namespace="{book.namespace}",service="{service}"}}'
        f"[{book.start:%H:%M}..{book.end:%H:%M} UTC, step {book.step_seconds:g}s]"
    )


def series_summary(service: str, metric: MetricName, series: Series) -> str:
    values = series.values()
    return (
        f"{service} {metric}: {describe_value(metric, values[0])} -> "
        f"{describe_value(metric, values[-1])} (min {describe_value(metric, min(values))}, "
        f"max {describe_value(metric, max(values))})"
    )


def series_data(
    book: EvidenceBook, service: str, metric: MetricName, series: Series
) -> dict[str, Scalar]:
    values = series.values()
    data: dict[str, Scalar] = {
        "service": service,
        "metric": str(metric),
        "first": values[0],
        "last": values[-1],
        "min": min(values),
        "max": max(values),
        "points": len(values),
    }
    if metric == MetricName.MEMORY_WORKING_SET_BYTES and service in book.limits:
        data["limit_bytes"] = book.limits[service]
    return data


def log_summary(service: str, before: LogRates, after: LogRates) -> tuple[str, dict[str, Scalar]]:
    """What changed in a service's logs, in counts of fixed patterns (never the text)."""
    changed = [
        f"{name} {before.per_10min[name]:g} -> {after.per_10min[name]:g}"
        for name in after.per_10min
        if before.per_10min[name] != after.per_10min[name]
    ]
    for dep, kinds in sorted(after.dependencies.items()):
        for kind, rate in sorted(kinds.items()):
            was = before.dependencies.get(dep, {}).get(kind, 0.0)
            if rate != was:
                changed.append(f"{kind} calls to {dep} {was:g} -> {rate:g}")
    summary = f"{service} log lines matching known patterns per 10 min (before onset -> now): " + (
        ", ".join(changed) if changed else "no change"
    )
    data: dict[str, Scalar] = {"lines_before": before.lines, "lines_after": after.lines}
    for name in after.per_10min:
        data[f"{name}_per_10min_before"] = before.per_10min[name]
        data[f"{name}_per_10min_after"] = after.per_10min[name]
    for dep, kinds in after.dependencies.items():
        for kind, rate in kinds.items():
            data[f"{kind}_calls_to_{dep}_per_10min_after"] = rate
    return summary, data


def _change_summary(change: Change) -> str:
    what = change.kind.value.replace("_", " ")
    version = ""
    if change.version:
        version = f" {change.previous_version or '?'} -> {change.version}"
    commit = f" (commit {change.commit_sha})" if change.commit_sha else ""
    # The commit message is untrusted text: it stays in `data`, out of the summary.
    return f"{what} of {change.service}{version} at {change.at:%H:%M} UTC{commit}"


def _change_data(change: Change) -> dict[str, Scalar]:
    return {
        "kind": change.kind.value,
        "service": change.service,
        "at": change.at.isoformat(),
        "version": change.version,
        "previous_version": change.previous_version,
        "revision": change.revision,
        "commit_sha": change.commit_sha,
        "commit_message_untrusted": (change.commit_message or "")[:200],
        "author": change.author,
        "description": change.description[:200],
    }
