"""From anomalies, changes and log counts to ranked, explained `Hypothesis`es.

Each explanation says what was observed, when and where, in numbers a person can
check against the cited evidence. Nothing from log lines or commit messages is
quoted: only counts of fixed patterns are used.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from medic.diagnosis.anomaly import ANOMALY_Z, SeriesAnomaly, ServiceAnomaly
from medic.diagnosis.correlation import Culprit, change_label
from medic.diagnosis.evidence import EvidenceBook, LogEvidence, describe_value
from medic.diagnosis.stats import Shape
from medic.domain.cluster import MetricName
from medic.domain.model import ChangeKind, Hypothesis, RootCause, RootCauseCategory

__all__ = ["Finding", "build_hypotheses", "classify_fault"]

_MB = 1024.0 * 1024.0
_CHANGE_BOOST = 1.5
_LOG_BOOST = 1.2
# raw score -> 0..1: z=6 is ~0.5, z=20 is ~0.9.
_SATURATION = 8.0
# A deviation must last this long to count in full.
_PERSISTENCE_S = 600.0

# Per fault: which log patterns corroborate it.
_LOG_SUPPORT: Mapping[str, tuple[str, ...]] = {
    "memory_leak": ("gc_pause", "out_of_memory"),
    "crashloop": ("error", "out_of_memory"),
    "error_regression": ("error",),
    "latency_regression": ("timeout",),
    "cpu_hog": ("timeout",),
}
_FAULT_CATEGORY: Mapping[str, RootCauseCategory] = {
    "memory_leak": RootCauseCategory.RESOURCE_EXHAUSTION,
    "cpu_hog": RootCauseCategory.RESOURCE_EXHAUSTION,
    "traffic_surge": RootCauseCategory.TRAFFIC_SURGE,
    "crashloop": RootCauseCategory.INFRASTRUCTURE,
    "error_regression": RootCauseCategory.INFRASTRUCTURE,
    "latency_regression": RootCauseCategory.INFRASTRUCTURE,
}
_LABELS: Mapping[MetricName, str] = {
    MetricName.MEMORY_WORKING_SET_BYTES: "working set",
    MetricName.CPU_USAGE_CORES: "CPU usage",
    MetricName.LATENCY_P99_SECONDS: "p99 latency",
    MetricName.ERROR_RATIO: "error ratio",
    MetricName.RESTARTS: "container restarts",
    MetricName.AVAILABLE_REPLICAS: "available replicas",
    MetricName.REQUEST_RATE: "request rate",
}


@dataclass(frozen=True)
class Finding:
    """One anomalous service with everything known about it."""

    anomaly: ServiceAnomaly
    culprit: Culprit | None
    logs: LogEvidence | None


def classify_fault(anomaly: ServiceAnomaly) -> tuple[str, SeriesAnomaly]:
    """The fault's name and the series that shows it best (most telling first)."""
    moved = {m.metric: m for m in anomaly.metrics if m.score >= ANOMALY_Z}
    memory = moved.get(MetricName.MEMORY_WORKING_SET_BYTES)
    if memory is not None and memory.shape is Shape.RAMP:
        return "memory_leak", memory
    for metric, fault in (
        (MetricName.RESTARTS, "crashloop"),
        (MetricName.AVAILABLE_REPLICAS, "crashloop"),
        (MetricName.CPU_USAGE_CORES, "cpu_hog"),
        (MetricName.ERROR_RATIO, "error_regression"),
        (MetricName.LATENCY_P99_SECONDS, "latency_regression"),
        (MetricName.REQUEST_RATE, "traffic_surge"),
        (MetricName.MEMORY_WORKING_SET_BYTES, "memory_leak"),
    ):
        if metric in moved:
            return fault, moved[metric]
    assert anomaly.worst is not None
    return "unknown", anomaly.worst


def build_hypotheses(findings: Sequence[Finding], book: EvidenceBook) -> list[Hypothesis]:
    out = [_hypothesis(f, book) for f in findings if f.anomaly.worst is not None]
    out.sort(key=lambda h: -h.score)
    return out


def _hypothesis(finding: Finding, book: EvidenceBook) -> Hypothesis:
    anomaly = finding.anomaly
    fault, shown = classify_fault(anomaly)
    culprit = finding.culprit
    raw = anomaly.raw_score if culprit else anomaly.score
    if culprit is not None:
        raw *= _CHANGE_BOOST
    # A deviation only a few minutes old may still be a blip that passes by itself.
    lasted = book.end.timestamp() - shown.onset
    persistence = min(1.0, max(lasted, 0.0) / _PERSISTENCE_S)
    log_line = _log_support(fault, finding.logs)
    if log_line:
        raw *= _LOG_BOOST
    root = RootCause(
        service=anomaly.service,
        category=_category(fault, culprit),
        change=change_label(culprit.change) if culprit else None,
    )
    parts = [_observed(fault, shown)]
    if lasted < _PERSISTENCE_S:
        parts.append(f"only {lasted / 60:.0f} min so far: it may still pass by itself")
    if culprit is not None:
        parts[0] += _after_change(culprit)
    parts.extend(p for p in (log_line, _headroom(fault, shown, book)) if p)
    others = [
        f"{_LABELS.get(m.metric, m.metric)} {describe_value(m.metric, m.before)} -> "
        f"{describe_value(m.metric, m.now)}"
        for m in anomaly.metrics
        if m.score >= ANOMALY_Z and m is not shown
    ]
    if others:
        parts.append("also " + ", ".join(others))
    return Hypothesis(
        root_cause=root,
        score=round((1.0 - math.exp(-raw / _SATURATION)) * persistence, 3),
        explanation="; ".join(parts),
        evidence_ids=_cited(finding, shown, book, cite_logs=bool(log_line)),
        fault=fault,
    )


def _category(fault: str, culprit: Culprit | None) -> RootCauseCategory:
    if culprit is not None:
        if culprit.change.kind is ChangeKind.CONFIG_CHANGE:
            return RootCauseCategory.CONFIG_CHANGE
        return RootCauseCategory.BAD_DEPLOY
    return _FAULT_CATEGORY.get(fault, RootCauseCategory.INFRASTRUCTURE)


def _observed(fault: str, shown: SeriesAnomaly) -> str:
    onset = datetime.fromtimestamp(shown.onset, tz=UTC)
    label = _LABELS.get(shown.metric, str(shown.metric))
    verb = "fell" if shown.now < shown.before else "rose"
    text = (
        f"{shown.service} {label} {verb} from {describe_value(shown.metric, shown.before)} "
        f"to {describe_value(shown.metric, shown.now)}"
    )
    if fault == "memory_leak":
        text += f" at {shown.slope * 60 / _MB:.1f} MB/min"
    text += f" since {onset:%H:%M} UTC"
    if shown.resets:
        text += f" (then dropped {shown.resets} time(s): OOM kills or restarts)"
    return text


def _headroom(fault: str, shown: SeriesAnomaly, book: EvidenceBook) -> str:
    limit = book.limits.get(shown.service)
    if fault != "memory_leak" or not limit or shown.slope <= 0 or shown.resets:
        return ""
    minutes = max(0.0, (limit - shown.now) / shown.slope / 60)
    return f"its {limit / _MB:.0f} MB limit is ~{minutes:.0f} min away at this rate"


def _after_change(culprit: Culprit) -> str:
    change = culprit.change
    kind = "deployed" if change.kind is ChangeKind.DEPLOY else "applied"
    minutes = culprit.seconds_before_onset / 60
    when = f"{minutes:.0f} min after" if minutes >= 1 else "right after"
    return f", {when} {change_label(change)} was {kind} at {change.at:%H:%M} UTC"


def _log_support(fault: str, logs: LogEvidence | None) -> str:
    if logs is None:
        return ""
    grown = [
        (name, logs.before.per_10min[name], logs.after.per_10min[name])
        for name in _LOG_SUPPORT.get(fault, ())
        if logs.after.per_10min[name] > max(2.0 * logs.before.per_10min[name], 1.0)
    ]
    return "; ".join(
        f"{name.replace('_', ' ')} lines in logs grew from {before:g} to {after:g} per 10 min"
        for name, before, after in grown
    )


def _cited(
    finding: Finding, shown: SeriesAnomaly, book: EvidenceBook, *, cite_logs: bool
) -> tuple[str, ...]:
    ids: list[str] = []
    key = (shown.service, shown.metric)
    if key in book.series_ids:
        ids.append(book.series_ids[key])
    for m in finding.anomaly.metrics:
        other = book.series_ids.get((m.service, m.metric))
        if m.score >= ANOMALY_Z and other and other not in ids:
            ids.append(other)
    if finding.culprit is not None:
        ids.append(finding.culprit.evidence_id)
    if cite_logs and finding.logs is not None:
        ids.append(finding.logs.evidence_id)
    return tuple(ids)
