"""What every watchdog finding shares: a fingerprint stable across scans, an onset
snapped so that repeated scans keep one dedup key, one `Signal` shape (one metrics
evidence carrying its series), and the exact query that read the series."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from medic.domain.cluster import MetricName
from medic.domain.errors import MedicError
from medic.domain.model import Evidence, Series, Severity, Signal, SignalSource
from medic.ports.queries import QueryCatalogued
from medic.ports.telemetry import MetricsSource

__all__ = ["cited", "finding_signal", "snap", "watchdog_fingerprint"]

# Onsets are estimates that wobble by a step or two between scans; snapping them
# keeps repeated scans of one ongoing problem on one dedup key.
_ONSET_SNAP_SECONDS = 300


def watchdog_fingerprint(namespace: str, service: str, detector: str) -> str:
    """Stable per service and detector, across scans and processes."""
    key = f"watchdog:{namespace}:{service}:{detector}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def snap(unix_seconds: float | datetime) -> datetime:
    ts = unix_seconds.timestamp() if isinstance(unix_seconds, datetime) else unix_seconds
    snapped = round(ts / _ONSET_SNAP_SECONDS) * _ONSET_SNAP_SECONDS
    return datetime.fromtimestamp(snapped, tz=UTC)


def finding_signal(
    namespace: str,
    service: str,
    name: str,
    *,
    detector: str,
    onset: float,
    severity: Severity,
    summary: str,
    data: Mapping[str, float | str],
    series: Series,
) -> Signal:
    """The finding `name` on `service`, since `onset` (snapped), with its series."""
    return Signal(
        source=SignalSource.WATCHDOG,
        fingerprint=watchdog_fingerprint(namespace, service, name),
        name=name,
        starts_at=snap(onset),
        service=service,
        namespace=namespace,
        severity=severity,
        summary=summary,
        labels={"detector": detector, "service": service, "namespace": namespace},
        evidence=(
            Evidence(
                id=f"watchdog:{name}:{service}",
                source="metrics",
                query=f"{series.metric}{{namespace={namespace},service={service}}}",
                summary=summary,
                data=dict(data),
                series=(series,),
            ),
        ),
    )


def cited(metrics: MetricsSource, signal: Signal, step: float, now: datetime) -> Signal:
    """The signal's evidence with the exact query that read its series (PromQL, a
    Datadog query) and a link to the source's graph of it, when the source has them."""
    if not isinstance(metrics, QueryCatalogued) or not signal.service or not signal.evidence:
        return signal
    first, *rest = signal.evidence
    if first.source != "metrics" or not first.series:
        return signal
    try:
        metric = MetricName(first.series[0].metric)
        query = metrics.query_text(signal.namespace or "", signal.service, metric, step)
    except (ValueError, MedicError):
        return signal
    points = first.series[0].points
    start = datetime.fromtimestamp(points[0].t, tz=UTC) if points else now - timedelta(hours=1)
    data = {
        **first.data,
        metrics.query_key: query,
        "graph_url": metrics.graph_link(query, start, now),
    }
    return replace(signal, evidence=(replace(first, query=query, data=data), *rest))
