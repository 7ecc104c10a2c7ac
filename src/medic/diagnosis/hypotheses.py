"""From findings to ranked, explained `Hypothesis`es.

Candidates come from four kinds of evidence: a service whose own metrics moved
(classified by the catalog's predicates), a dependency its callers' logs name in
failed calls, a node that slowed the pods scheduled on it, and the entry point of a
traffic surge. Each explanation says what was observed, when and where, in numbers
a person can check against the cited evidence. Nothing from log lines or commit
messages is quoted: only counts of fixed patterns are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from medic.analysis.nodes import NodeSuspect
from medic.diagnosis.anomaly import ANOMALY_Z, SeriesAnomaly, ServiceAnomaly
from medic.diagnosis.catalog import (
    LOG_SUPPORT,
    DependencyLead,
    category_of,
    classify_fault,
    log_grew,
)
from medic.diagnosis.correlation import Culprit, change_label
from medic.diagnosis.evidence import EvidenceBook, describe_value
from medic.domain.cluster import MetricName
from medic.domain.model import ChangeKind, Hypothesis, RootCause, RootCauseCategory

__all__ = ["Candidate", "candidate_for", "dependency_candidate", "node_candidate", "to_hypothesis"]

_MB = 1024.0 * 1024.0
_CHANGE_BOOST = 1.5
_LOG_BOOST = 1.2
_NAMED_BOOST = 1.3  # callers' logs name the dependency in their failures
# raw score -> 0..1: z=6 is 0.5, z=20 is ~0.77, z=100 ~0.94; never quite 1.
_HALF_AT = 6.0
# A deviation must last this long to count in full.
_PERSISTENCE_S = 180.0
LABELS = {
    MetricName.MEMORY_WORKING_SET_BYTES: "working set",
    MetricName.CPU_USAGE_CORES: "CPU usage",
    MetricName.LATENCY_P99_SECONDS: "p99 latency",
    MetricName.ERROR_RATIO: "error ratio",
    MetricName.RESTARTS: "container restarts",
    MetricName.AVAILABLE_REPLICAS: "available replicas",
    MetricName.REQUEST_RATE: "request rate",
}


@dataclass
class Candidate:
    """A root cause under consideration, with the strength of what backs it."""

    service: str
    fault: str
    category: RootCauseCategory
    raw: float  # strength, in robust sigmas (boosted by corroboration)
    persistence: float = 1.0
    change: str | None = None
    parts: list[str] = field(default_factory=list)
    evidence_ids: list[str] = field(default_factory=list)
    victim_of: str | None = None  # set when another candidate explains this one
    discount: float = 1.0  # below 1 for a victim

    @property
    def score(self) -> float:
        strength = self.raw / (self.raw + _HALF_AT) if self.raw > 0 else 0.0
        return round(strength * self.persistence * self.discount, 3)


def candidate_for(
    anomaly: ServiceAnomaly, culprit: Culprit | None, book: EvidenceBook
) -> Candidate:
    """A service whose own metrics moved, classified by the catalog."""
    logs = book.logs.get(anomaly.service)
    events = book.events.get(anomaly.service)
    fault, shown = classify_fault(anomaly, logs, events)
    raw = anomaly.raw_score * (_CHANGE_BOOST if culprit else 1.0)
    lasted = book.end.timestamp() - shown.onset
    parts = [_observed(fault, shown)]
    if culprit is not None:
        parts[0] += _after_change(culprit)
    if lasted < _PERSISTENCE_S:
        parts.append(f"only {lasted / 60:.0f} min so far: it may still pass by itself")
    ids = _metric_ids(anomaly, shown, book)
    support = _log_support(fault, book, anomaly.service)
    if support:
        raw *= _LOG_BOOST
        parts.append(support)
        ids.append(book.logs[anomaly.service].evidence_id)
    if events is not None and events.kinds:
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(events.kinds.items()))
        parts.append(f"Kubernetes events: {kinds}")
        ids.append(book.event_ids[anomaly.service])
    headroom = _headroom(fault, shown, book)
    if headroom:
        parts.append(headroom)
    others = [
        f"{LABELS.get(m.metric, m.metric)} {describe_value(m.metric, m.before)} -> "
        f"{describe_value(m.metric, m.now)}"
        for m in anomaly.metrics
        if m.score >= ANOMALY_Z and m is not shown
    ]
    if others:
        parts.append("also " + ", ".join(others))
    if culprit is not None:
        ids.append(culprit.evidence_id)
    return Candidate(
        service=anomaly.service,
        fault=fault,
        category=category_of(fault, culprit, book.kind_of(anomaly.service)),
        raw=raw,
        persistence=_persistence(lasted),
        change=_label(culprit),
        parts=parts,
        evidence_ids=list(dict.fromkeys(ids)),
    )


def dependency_candidate(
    lead: DependencyLead,
    own: ServiceAnomaly | None,
    callers: Sequence[ServiceAnomaly],
    culprit: Culprit | None,
    book: EvidenceBook,
) -> Candidate:
    """A dependency its callers' logs blame; its own metrics, if any, add to it."""
    strongest = max((c.raw_score for c in callers), default=ANOMALY_Z)
    raw = max(strongest, own.raw_score if own else 0.0, ANOMALY_Z) * _NAMED_BOOST
    raw *= 1.0 + 0.1 * (len(lead.callers) - 1)
    if culprit is not None:
        raw *= _CHANGE_BOOST
    what = {
        "dependency_outage": "refused or failed",
        "cert_expiry": "failed the TLS handshake (certificate)",
        "dependency_latency": "were slow",
    }[lead.fault]
    kind = book.kind_of(lead.dependency)
    where = f" ({kind.value})" if kind is not None else " (not in the topology we can see)"
    parts = [
        f"calls from {', '.join(lead.callers)} to {lead.dependency}{where} {what}: "
        f"~{lead.per_10min:g} failed or slow calls per 10 min in their logs, up from "
        "almost none before the onset"
    ]
    ids = list(lead.evidence_ids)
    if own is not None and own.worst is not None:
        parts.append(_observed(lead.fault, own.worst))
        ids.extend(_metric_ids(own, own.worst, book))
    if culprit is not None:
        parts[0] += _after_change(culprit)
        ids.append(culprit.evidence_id)
    return Candidate(
        service=lead.dependency,
        fault=lead.fault,
        category=category_of(lead.fault, culprit, kind),
        raw=raw,
        change=_label(culprit),
        parts=parts,
        evidence_ids=list(dict.fromkeys(ids)),
    )


def node_candidate(
    suspect: NodeSuspect, service: str, own: ServiceAnomaly | None, book: EvidenceBook
) -> Candidate:
    """`service` runs a replica on a node whose pods slowed while their peers did not.

    Either its own pods there slowed (measured), or it calls services whose pods there
    did (a user-facing service feels the node through its dependencies).
    """
    mine = next((s for s in suspect.services if s.service == service), None)
    slowed = [s.service for s in suspect.services if s.service != service]
    if mine is not None:
        relative = mine.ratio / max(mine.others, 1e-9)
        parts = [
            f"{service}'s pods on node {suspect.node} slowed to x{mine.ratio:.2f} their "
            f"earlier p99 ({mine.before_s * 1000:.0f} -> {mine.now_s * 1000:.0f} ms) while "
            f"its pods on other nodes stayed at x{mine.others:.2f}"
        ]
        if slowed:
            parts.append(f"pods of {', '.join(slowed)} on {suspect.node} slowed the same way")
    else:
        relative = max(s.ratio / max(s.others, 1e-9) for s in suspect.services)
        parts = [
            f"{service} has a replica on node {suspect.node} and calls {', '.join(slowed)}, "
            f"whose pods on {suspect.node} slowed while their peers on other nodes did not"
        ]
    raw = max(own.raw_score if own else 0.0, 10.0 * (relative - 1.0), ANOMALY_Z)
    raw *= _NAMED_BOOST * (1.0 + 0.1 * (len(suspect.services) - 1))
    ids = [book.node_ids[suspect.node]]
    if own is not None and own.worst is not None:
        ids.extend(_metric_ids(own, own.worst, book))
    return Candidate(
        service=service,
        fault="node_pressure",
        category=RootCauseCategory.INFRASTRUCTURE,
        raw=raw,
        parts=parts,
        evidence_ids=list(dict.fromkeys(ids)),
    )


def _persistence(lasted_s: float) -> float:
    """A deviation a few minutes old may still be a blip: it counts in full only once
    it has lasted `_PERSISTENCE_S`."""
    # Squared: a deviation of a third of that counts for a ninth, not a third.
    return min(1.0, max(lasted_s, 0.0) / _PERSISTENCE_S) ** 2


def to_hypothesis(candidate: Candidate) -> Hypothesis:
    return Hypothesis(
        root_cause=RootCause(candidate.service, candidate.category, candidate.change),
        score=candidate.score,
        explanation="; ".join(candidate.parts),
        evidence_ids=tuple(candidate.evidence_ids),
        fault=candidate.fault,
    )


def _label(culprit: Culprit | None) -> str | None:
    return change_label(culprit.change) if culprit else None


def _metric_ids(anomaly: ServiceAnomaly, shown: SeriesAnomaly, book: EvidenceBook) -> list[str]:
    ids: list[str] = []
    key = (shown.service, shown.metric)
    if key in book.series_ids:
        ids.append(book.series_ids[key])
    for m in anomaly.metrics:
        other = book.series_ids.get((m.service, m.metric))
        if m.score >= ANOMALY_Z and other and other not in ids:
            ids.append(other)
    return ids


def _observed(fault: str, shown: SeriesAnomaly) -> str:
    onset = datetime.fromtimestamp(shown.onset, tz=UTC)
    label = LABELS.get(MetricName(shown.metric), str(shown.metric))
    verb = "fell" if shown.now < shown.before else "rose"
    text = (
        f"{shown.service} {label} {verb} from {describe_value(shown.metric, shown.before)} "
        f"to {describe_value(shown.metric, shown.now)}"
    )
    if fault == "memory_leak" and shown.metric is MetricName.MEMORY_WORKING_SET_BYTES:
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


def _log_support(fault: str, book: EvidenceBook, service: str) -> str:
    logs = book.logs.get(service)
    grown = [(name, g) for name in LOG_SUPPORT.get(fault, ()) if (g := log_grew(logs, name))]
    return "; ".join(
        f"{name.replace('_', ' ')} lines in logs grew from {before:g} to {after:g} per 10 min"
        for name, (before, after) in grown
    )
