"""Which series a post-mortem draws, re-read through recovery, and their markers.

The key series are those of the evidence the top hypothesis cites (at most
`MAX_CHARTS`), plus, when an SLO is configured, the error ratio and latency of the
affected services so that the budget can be measured. The evidence holds them only up
to the diagnosis; `reread` asks the metrics source again from the evidence's start
to the incident's end, so the chart shows the action and the recovery.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from medic.domain import ActionKind, Criterion, MedicError, Series
from medic.domain.cluster import MetricName
from medic.ports import MetricsSource
from medic.scribe.record import PostmortemRecord
from medic.scribe.svg import Marker, render_chart

__all__ = ["MAX_CHARTS", "chart_name", "charts", "key_series", "reread"]

MAX_CHARTS = 4
_UNSAFE = re.compile(r"[^a-z0-9_.-]+")
_METRICS = {m.value: m for m in MetricName}
_SLO_METRICS = (MetricName.ERROR_RATIO, MetricName.REQUEST_RATE, MetricName.LATENCY_P99_SECONDS)


def key_series(record: PostmortemRecord) -> list[Series]:
    """The series of the cited evidence, best-cited first, one per (service, metric)."""
    diagnosis = record.diagnosis
    if diagnosis is None:
        return []
    top = diagnosis.top
    cited = list(top.evidence_ids) if top else []
    by_id = {e.id: e for e in diagnosis.evidence}
    ordered = [by_id[i] for i in cited if i in by_id]
    found: dict[tuple[str, str], Series] = {}
    for evidence in ordered:
        for series in evidence.series:
            if series.points and len(found) < MAX_CHARTS:
                found.setdefault((series.service, series.metric), series)
    return list(found.values())


def reread(
    record: PostmortemRecord, metrics: MetricsSource, namespace: str, end: datetime
) -> tuple[Series, ...]:
    """The key series (and the SLO series of services with an SLO) from their first
    point to `end`; a series the source cannot give again keeps its evidence copy."""
    wanted = {(s.service, s.metric): s for s in key_series(record)}
    start = min((s.points[0].t for s in wanted.values()), default=None)
    begin = datetime.fromtimestamp(start, UTC) if start else record.incident.opened_at
    begin = min(begin, record.incident.opened_at - timedelta(minutes=30))
    for service in record.slos:
        for slo_metric in _SLO_METRICS:
            wanted.setdefault((service, slo_metric.value), Series(slo_metric.value, service, ()))
    out: list[Series] = []
    for (service, metric), old in wanted.items():
        name = _METRICS.get(metric)
        if name is None:
            out.append(old)
            continue
        step = max((end - begin).total_seconds() / 240, 15.0)
        try:
            fresh = metrics.query(namespace, service, name, begin, end, step)
        except MedicError:
            fresh = old
        out.append(fresh if _reaches_further(fresh, old) else old)
    return tuple(out)


def _reaches_further(fresh: Series, old: Series) -> bool:
    if not fresh.points:
        return False
    return not old.points or fresh.points[-1].t >= old.points[-1].t


def chart_name(series: Series) -> str:
    return _UNSAFE.sub("-", f"{series.service}-{series.metric}".lower()).strip("-") + ".svg"


def charts(record: PostmortemRecord) -> dict[str, tuple[Series, str]]:
    """File name -> (series, SVG) for each key series, newest reading preferred."""
    fresh = {(s.service, s.metric): s for s in record.series if s.points}
    out: dict[str, tuple[Series, str]] = {}
    for series in key_series(record):
        chosen = fresh.get((series.service, series.metric), series)
        title = f"{chosen.metric} of {chosen.service}"
        limit = _limit(record, chosen)
        svg = render_chart(chosen, title, _markers(record), limit)
        out[chart_name(chosen)] = (chosen, svg)
    return out


def _limit(record: PostmortemRecord, series: Series) -> float | None:
    criteria: list[Criterion] = [
        c
        for a in (record.plan.immediate if record.plan else ())
        for c in a.verification
        if c.metric == series.metric and c.service == series.service
    ]
    for c in criteria:
        if c.upper is not None:
            return c.upper
        if c.lower is not None:
            return c.lower
    return None


def _markers(record: PostmortemRecord) -> Sequence[Marker]:
    markers: list[Marker] = []
    onset = record.diagnosis.onset if record.diagnosis else None
    if onset:
        markers.append(Marker(onset.timestamp(), "onset", "onset"))
    for e in record.executions:
        if e.action.kind in (ActionKind.ESCALATE, ActionKind.REVERT_PR):
            continue
        kind = "undo" if ":undo:" in e.idempotency_key else "action"
        label = f"undo {e.action.kind.value}" if kind == "undo" else e.action.kind.value
        markers.append(Marker(e.finished_at.timestamp(), kind, label))
    verification = record.verification
    if verification and verification.outcome.value == "recovered":
        markers.append(Marker(verification.checked_at.timestamp(), "recovery", "recovered"))
    return markers
