"""The deterministic diagnostician: gather, find the onset, rank, correlate, explain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import cast

from medic.diagnosis.alert_evidence import gather_alerts
from medic.diagnosis.anomaly import ServiceAnomaly, analyse_series, rank_services
from medic.diagnosis.baro import SecondOpinion, second_opinion
from medic.diagnosis.budget import DEFAULT_BUDGET_S
from medic.diagnosis.correlation import correlate
from medic.diagnosis.evidence import (
    SCORED_METRICS,
    EvidenceBook,
    gather_changes,
    gather_topology,
)
from medic.diagnosis.gathering import gather_events, gather_logs, gather_metrics, gather_nodes
from medic.diagnosis.history import found_history, nothing_blamed, too_little
from medic.diagnosis.hypotheses import Candidate, to_hypothesis
from medic.diagnosis.ranking import Symptom
from medic.diagnosis.reasoning import build_candidates
from medic.domain.model import Diagnosis, Evidence, Hypothesis, Incident, Signal
from medic.ports.cluster import ClusterReader
from medic.ports.telemetry import (
    ChangeSource,
    EventSource,
    LogSource,
    MetricsSource,
    PodMetricsSource,
)

__all__ = ["CONCLUSIVE_AT", "LOOKBACK_BEFORE_ONSET", "diagnose"]

# The baseline: how far before the first signal the evidence reaches.
LOOKBACK_BEFORE_ONSET = timedelta(hours=2)
# Below this confidence the diagnosis says "inconclusive" and asks for a human.
CONCLUSIVE_AT = 0.6
_MISSING_PENALTY = 0.05
# The robust ranking's first choice is a service no hypothesis blames or explains.
_CONTRADICTION_PENALTY = 0.1
_MAX_HYPOTHESES = 5
# Whose logs are read: the strongest suspects (plus the incident's service).
_MAX_LOG_SERVICES = 6
# Telemetry never proves a cause beyond doubt.
_MAX_CONFIDENCE = 0.99


def diagnose(
    incident: Incident,
    signals: Sequence[Signal],
    metrics: MetricsSource,
    changes: ChangeSource,
    cluster: ClusterReader,
    logs: LogSource | None,
    now: datetime,
    *,
    events: EventSource | None = None,
    pod_metrics: PodMetricsSource | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
    namespace: str | None = None,
) -> Diagnosis:
    """Ranked hypotheses for `incident`, each citing the evidence it rests on.

    Sources that fail or do not answer within `budget_s` (per gathering phase) are
    listed in `missing`; the diagnosis goes on without them. `pod_metrics` defaults to
    `metrics` when that also answers per-pod queries. `namespace` is the fallback for
    alerts that carry none (hosts, Prometheus-only).
    """
    namespace = (
        incident.namespace or next((s.namespace for s in signals if s.namespace), None) or namespace
    )
    if namespace is None:
        return _inconclusive(incident, "no namespace is known for this incident", (), ())
    first_seen = min((s.starts_at for s in signals), default=incident.opened_at)
    book = EvidenceBook(namespace, min(first_seen, now) - LOOKBACK_BEFORE_ONSET, now)
    gather_alerts(book, signals, metrics)
    gather_topology(book, cluster)
    gather_changes(book, changes)
    scope = _scope(book, incident.service)
    gather_metrics(book, metrics, scope, budget_s)
    history = found_history(book, len(scope) * len(SCORED_METRICS))
    book.unseen.append(f"history found: {history.text()}")
    if (short := too_little(history)) is not None:
        return _inconclusive(incident, short, tuple(book.evidence), (*book.missing, *book.unseen))

    calls = {name: info.calls for name, info in book.services.items()}
    per_series = [
        found
        for (service, metric), series in book.series.items()
        if (found := analyse_series(service, metric, series)) is not None
    ]
    ranked = rank_services(per_series, calls)
    anomalies = {a.service: a for a in ranked}
    culprits, rejected = correlate(book.changes, anomalies, now)
    onset = _onset(ranked, first_seen)
    gather_logs(book, logs, _log_targets(ranked, incident.service, onset), budget_s)
    gather_events(book, events, onset, budget_s)
    gather_nodes(
        book,
        pod_metrics if pod_metrics is not None else _pod_metrics(metrics),
        _node_scope(book, incident.service, ranked),
        onset,
        budget_s,
    )
    symptom = Symptom(incident.service, None, first_seen.timestamp()) if incident.service else None
    opinion = second_opinion(book, symptom)
    candidates, victims = build_candidates(ranked, culprits, book, incident.service)
    rejected.extend(victims)
    agrees = _weigh_opinion(candidates, opinion)
    hypotheses = [to_hypothesis(c) for c in candidates]
    rejected.extend(_runners_up(hypotheses))
    if not hypotheses:
        where = incident.service or namespace
        return _inconclusive(
            incident,
            nothing_blamed(where, per_series, opinion),
            tuple(book.evidence),
            (*book.missing, *book.unseen),
            rejected=tuple(rejected),
        )
    top_onset = _onset_of(candidates[0], anomalies, onset)
    return _conclude(incident, hypotheses, book, top_onset, tuple(rejected), agrees)


def _weigh_opinion(candidates: Sequence[Candidate], opinion: SecondOpinion | None) -> bool:
    """Note the robust ranking in the top explanation; False when it contradicts it.

    It contradicts when its first choice is neither a hypothesis nor explained by one
    (a victim of the top is explained).
    """
    if opinion is None or not candidates:
        return True
    top = candidates[0]
    rank = opinion.rank_of(top.service)
    if rank is not None and opinion.first is not None:
        top.parts.append(f"the robust statistical ranking puts {top.service} at #{rank}")
        top.evidence_ids.append(opinion.evidence_id)
    first = opinion.first
    return first is None or any(c.service == first for c in candidates)


def _pod_metrics(metrics: MetricsSource) -> PodMetricsSource | None:
    """The metrics source itself, when it also answers per-pod queries."""
    return (
        cast(PodMetricsSource, metrics) if callable(getattr(metrics, "query_pods", None)) else None
    )


def _onset(ranked: Sequence[ServiceAnomaly], first_seen: datetime) -> datetime:
    onsets = [a.worst.onset for a in ranked if a.anomalous and a.worst is not None]
    return datetime.fromtimestamp(min(onsets), tz=UTC) if onsets else first_seen


def _onset_of(top: Candidate, anomalies: dict[str, ServiceAnomaly], fallback: datetime) -> datetime:
    own = anomalies.get(top.service)
    if own is not None and own.anomalous and own.worst is not None:
        return datetime.fromtimestamp(own.worst.onset, tz=UTC)
    return fallback


def _log_targets(
    ranked: Sequence[ServiceAnomaly], service: str | None, onset: datetime
) -> list[tuple[str, datetime]]:
    """The strongest suspects' logs, each around its own onset, and the incident's."""
    out = [
        (a.service, datetime.fromtimestamp(a.worst.onset, tz=UTC))
        for a in ranked
        if a.anomalous and a.worst is not None
    ][:_MAX_LOG_SERVICES]
    if service is not None and all(s != service for s, _ in out):
        out.append((service, onset))
    return out


def _node_scope(
    book: EvidenceBook, service: str | None, ranked: Sequence[ServiceAnomaly]
) -> list[str]:
    names = [service] if service else []
    names.extend(a.service for a in ranked if a.anomalous)
    if service is not None:
        names.extend(book.callers_of(service))
    return [n for n in dict.fromkeys(names) if n in book.services]


def _scope(book: EvidenceBook, service: str | None) -> list[str]:
    """The incident's service, everything upstream of it (a surge or a failure
    travels up the call graph), its callees, and every changed service."""
    if service is None or not book.services:
        names = list(book.services) or ([service] if service else [])
    else:
        info = book.services.get(service)
        callees = list(info.calls) if info else []
        names = [service, *callees, *_upstream(book, service)]
    names.extend(change.service for _, change in book.changes)
    return list(dict.fromkeys(names))


def _upstream(book: EvidenceBook, service: str) -> list[str]:
    seen: list[str] = []
    todo = book.callers_of(service)
    while todo:
        name = todo.pop(0)
        if name in seen or name == service:
            continue
        seen.append(name)
        todo.extend(book.callers_of(name))
    return seen


def _runners_up(hypotheses: Sequence[Hypothesis]) -> list[str]:
    if len(hypotheses) < 2:
        return []
    top = hypotheses[0]
    return [
        f"{h.root_cause.service} ({h.fault}, score {h.score:.2f}) ranked below "
        f"{top.root_cause.service} (score {top.score:.2f})"
        for h in hypotheses[1:]
    ]


def _conclude(
    incident: Incident,
    hypotheses: list[Hypothesis],
    book: EvidenceBook,
    onset: datetime,
    rejected: tuple[str, ...],
    agrees: bool = True,
) -> Diagnosis:
    top = hypotheses[0]
    # The runner-up is the best *other* explanation: hypotheses resting on the same
    # first piece of evidence (one node seen through several services) are one story.
    rivals = [h for h in hypotheses[1:] if h.evidence_ids[:1] != top.evidence_ids[:1]]
    margin = 1.0 - (rivals[0].score / top.score if rivals and top.score else 0.0)
    penalty = min(0.3, _MISSING_PENALTY * len(book.missing))
    if not agrees:
        penalty += _CONTRADICTION_PENALTY
    confidence = round(
        min(_MAX_CONFIDENCE, max(0.0, top.score * (0.7 + 0.3 * margin) - penalty)), 3
    )
    conclusive = confidence >= CONCLUSIVE_AT
    cause = top.root_cause
    change = f" ({cause.change})" if cause.change else ""
    if conclusive:
        summary = (
            f"Root cause: {cause.service}, {cause.category.value}{change}, "
            f"{top.fault}. {top.explanation}."
        )
    else:
        summary = (
            f"Inconclusive (confidence {confidence:.2f}): the best lead is {cause.service}, "
            f"{cause.category.value}{change}, {top.fault}: {top.explanation}. "
            f"Check next: {_next_checks(book, top)}."
        )
    return Diagnosis(
        incident_id=incident.id,
        hypotheses=tuple(hypotheses[:_MAX_HYPOTHESES]),
        confidence=confidence,
        conclusive=conclusive,
        summary=summary,
        evidence=tuple(book.evidence),
        onset=onset,
        missing=(*book.missing, *book.unseen),
        rejected=rejected,
    )


def _next_checks(book: EvidenceBook, top: Hypothesis) -> str:
    checks = []
    if book.missing:
        checks.append("the sources that could not be read (" + "; ".join(book.missing[:3]) + ")")
    checks.append(f"recent changes and events of {top.root_cause.service}")
    checks.append("its logs around the onset and its dependencies' health")
    return ", ".join(checks)


def _inconclusive(
    incident: Incident,
    reason: str,
    evidence: tuple[Evidence, ...],
    missing: tuple[str, ...],
    rejected: tuple[str, ...] = (),
) -> Diagnosis:
    where = incident.service or "the affected service"
    summary = (
        f"Inconclusive: {reason}. Check next: whether the alert still fires, the logs and "
        f"recent events of {where}, and any source listed as missing."
    )
    return Diagnosis(
        incident_id=incident.id,
        hypotheses=(),
        confidence=0.0,
        conclusive=False,
        summary=summary,
        evidence=evidence,
        missing=missing,
        rejected=rejected,
    )
