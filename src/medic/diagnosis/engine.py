"""The deterministic diagnostician: gather, find the onset, rank, correlate, explain."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from medic.diagnosis.anomaly import ANOMALY_Z, ServiceAnomaly, analyse_series, rank_services
from medic.diagnosis.correlation import correlate
from medic.diagnosis.evidence import (
    EvidenceBook,
    gather_changes,
    gather_logs,
    gather_metrics,
    gather_topology,
)
from medic.diagnosis.hypotheses import Finding, build_hypotheses
from medic.domain.model import Diagnosis, Evidence, Hypothesis, Incident, Signal
from medic.ports.cluster import ClusterReader
from medic.ports.telemetry import ChangeSource, LogSource, MetricsSource

__all__ = ["CONCLUSIVE_AT", "LOOKBACK_BEFORE_ONSET", "diagnose"]

# The baseline: how far before the first signal the evidence reaches.
LOOKBACK_BEFORE_ONSET = timedelta(hours=2)
# Below this confidence the diagnosis says "inconclusive" and asks for a human.
CONCLUSIVE_AT = 0.6
_MISSING_PENALTY = 0.05
_MAX_HYPOTHESES = 5
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
) -> Diagnosis:
    """Ranked hypotheses for `incident`, each citing the evidence it rests on.

    Sources that fail are listed in `missing`; the diagnosis goes on without them.
    """
    namespace = incident.namespace or next((s.namespace for s in signals if s.namespace), None)
    if namespace is None:
        return _inconclusive(incident, "no namespace is known for this incident", (), ())
    first_seen = min((s.starts_at for s in signals), default=incident.opened_at)
    book = EvidenceBook(namespace, min(first_seen, now) - LOOKBACK_BEFORE_ONSET, now)
    _note_signals(book, signals)
    gather_topology(book, cluster)
    gather_changes(book, changes)
    gather_metrics(book, metrics, _scope(book, incident.service))

    calls = {name: info.calls for name, info in book.services.items()}
    per_series = [
        found
        for (service, metric), series in book.series.items()
        if (found := analyse_series(service, metric, series)) is not None
    ]
    ranked = rank_services(per_series, calls)
    anomalies = {a.service: a for a in ranked}
    culprits, rejected = correlate(book.changes, anomalies, now)

    causes = [a for a in ranked if a.anomalous and (a.victim_of is None or a.service in culprits)]
    findings: list[Finding] = []
    for anomaly in causes[:_MAX_HYPOTHESES]:
        assert anomaly.worst is not None
        onset = datetime.fromtimestamp(anomaly.worst.onset, tz=UTC)
        log_evidence = None
        if anomaly is causes[0] or anomaly.service == incident.service:
            log_evidence = gather_logs(book, logs, anomaly.service, onset)
        findings.append(Finding(anomaly, culprits.get(anomaly.service), log_evidence))
    hypotheses = build_hypotheses(findings, book)
    rejected.extend(_victims(ranked))
    rejected.extend(_runners_up(hypotheses))
    if not hypotheses:
        where = incident.service or namespace
        return _inconclusive(
            incident,
            f"no metric of {where} or its neighbours moved more than {ANOMALY_Z:g} robust "
            "sigmas from its baseline",
            tuple(book.evidence),
            tuple(book.missing),
            rejected=tuple(rejected),
        )
    return _conclude(incident, hypotheses, book, causes[0], tuple(rejected))


def _scope(book: EvidenceBook, service: str | None) -> list[str]:
    """The incident's service, its callers and callees, and every changed service."""
    if service is None or not book.services:
        names = list(book.services) or ([service] if service else [])
    else:
        info = book.services.get(service)
        callees = list(info.calls) if info else []
        callers = [s.name for s in book.services.values() if service in s.calls]
        names = [service, *callees, *callers]
    names.extend(change.service for _, change in book.changes)
    return list(dict.fromkeys(names))


def _note_signals(book: EvidenceBook, signals: Sequence[Signal]) -> None:
    for signal in signals:
        where = signal.service or "an unknown service"
        # Alert names and summaries are untrusted: kept as data, summarised by us.
        book.add(
            "alert",
            f"signal {signal.source.value}:{signal.fingerprint}",
            f"{signal.source.value} signal on {where} since {signal.starts_at:%H:%M} UTC "
            f"({signal.severity.value}, {'firing' if signal.firing else 'resolved'})",
            data={"name": signal.name[:200], "summary_untrusted": signal.summary[:500]},
        )


def _victims(ranked: Sequence[ServiceAnomaly]) -> list[str]:
    out = []
    for anomaly in ranked:
        if anomaly.anomalous and anomaly.victim_of and anomaly.worst is not None:
            out.append(
                f"{anomaly.service} is not the cause: its {anomaly.worst.metric} moved "
                f"({anomaly.raw_score:.1f} robust sigmas) but it calls {anomaly.victim_of}, "
                "which went wrong first: a symptom"
            )
    return out


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
    top_anomaly: ServiceAnomaly,
    rejected: tuple[str, ...],
) -> Diagnosis:
    top = hypotheses[0]
    margin = 1.0 - (hypotheses[1].score / top.score if len(hypotheses) > 1 and top.score else 0.0)
    penalty = min(0.3, _MISSING_PENALTY * len(book.missing))
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
    assert top_anomaly.worst is not None
    return Diagnosis(
        incident_id=incident.id,
        hypotheses=tuple(hypotheses[:_MAX_HYPOTHESES]),
        confidence=confidence,
        conclusive=conclusive,
        summary=summary,
        evidence=tuple(book.evidence),
        onset=datetime.fromtimestamp(top_anomaly.worst.onset, tz=UTC),
        missing=tuple(book.missing),
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
