"""Concurrent evidence gathering: plan the queries, run them under a budget, write them down.

Metrics of every service in scope, the logs of the suspects and of their callers,
the namespace's Kubernetes events and the per-pod latency grouped by node are each a
batch of independent queries run by `budget.run_queries`. Answers are recorded in
the order they were planned; a failing or late query becomes a line of `missing`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial

from medic.analysis.nodes import PodSlowdown, node_slowdowns, suspect_nodes
from medic.diagnosis.budget import DEFAULT_BUDGET_S, run_queries
from medic.diagnosis.events import count_events
from medic.diagnosis.evidence import (
    SCORED_METRICS,
    EvidenceBook,
    LogEvidence,
    log_summary,
    query_text,
    series_data,
    series_summary,
)
from medic.diagnosis.logpatterns import LogRates, rates_per_10min
from medic.domain.cluster import ClusterEvent, LogLine, MetricName
from medic.domain.model import Scalar, Series
from medic.ports.queries import QueryCatalogued
from medic.ports.telemetry import EventSource, LogSource, MetricsSource, PodMetricsSource

__all__ = ["gather_events", "gather_logs", "gather_metrics", "gather_nodes"]

_LOG_LIMIT = 2000
_LOG_WINDOW = timedelta(minutes=15)
_EVENTS_BEFORE_ONSET = timedelta(minutes=20)
_MAX_NODE_SERVICES = 8


def gather_metrics(
    book: EvidenceBook,
    metrics: MetricsSource,
    services: Sequence[str],
    budget_s: float = DEFAULT_BUDGET_S,
) -> None:
    """Every scored metric (and the memory limit) of each service, concurrently."""
    queries: list[tuple[str, Callable[[], Series]]] = []
    keys: list[tuple[str, MetricName]] = []
    catalogued = metrics if isinstance(metrics, QueryCatalogued) else None
    left_out = [m for m in SCORED_METRICS if catalogued and not catalogued.covers(m)]
    if left_out:
        book.unseen.append(
            "not in the query catalogue, so not read: " + ", ".join(str(m) for m in left_out)
        )
    with_limit = catalogued is None or catalogued.covers(MetricName.MEMORY_LIMIT_BYTES)
    for service in services:
        if with_limit:
            keys.append((service, MetricName.MEMORY_LIMIT_BYTES))
            queries.append(
                (
                    f"memory limit for {service}",
                    partial(
                        metrics.query,
                        book.namespace,
                        service,
                        MetricName.MEMORY_LIMIT_BYTES,
                        book.end - timedelta(minutes=30),
                        book.end,
                        book.step_seconds,
                    ),
                )
            )
        for metric in SCORED_METRICS:
            if metric in left_out:
                continue
            keys.append((service, metric))
            queries.append(
                (
                    f"{metric} for {service}",
                    partial(
                        metrics.query,
                        book.namespace,
                        service,
                        metric,
                        book.start,
                        book.end,
                        book.step_seconds,
                    ),
                )
            )
    for (service, metric), answer in zip(keys, run_queries(queries, budget_s), strict=True):
        if answer.value is None:
            book.missing.append(f"no {answer.name}: {answer.failure}")
            continue
        series = answer.value
        if not series.points:
            continue
        if metric is MetricName.MEMORY_LIMIT_BYTES:
            positive = [p.v for p in series.points if p.v > 0]
            if positive:
                book.limits[service] = positive[-1]
            continue
        book.series[(service, metric)] = series
        query, data = query_text(book, service, metric), series_data(book, service, metric, series)
        if catalogued is not None:
            query = catalogued.query_text(book.namespace, service, metric, book.step_seconds)
            data[catalogued.query_key] = query
            data["graph_url"] = catalogued.graph_link(query, book.start, book.end)
        book.series_ids[(service, metric)] = book.add(
            "metrics", query, series_summary(service, metric, series), data=data, series=(series,)
        )


def gather_logs(
    book: EvidenceBook,
    logs: LogSource | None,
    wanted: Sequence[tuple[str, datetime]],
    budget_s: float = DEFAULT_BUDGET_S,
) -> None:
    """Per (service, onset): the half hour before the onset against the last half hour.

    Failed calls are counted per dependency the topology knows the service calls.
    """
    todo = [(s, onset) for s, onset in dict(wanted).items() if s not in book.logs]
    if not todo:
        return
    if logs is None:
        book.missing.extend(f"no logs for {s}: no log source configured" for s, _ in todo)
        return
    queries: list[tuple[str, Callable[[], list[LogLine]]]] = []
    for service, onset in todo:
        for start, end in ((onset - _LOG_WINDOW, onset), (book.end - _LOG_WINDOW, book.end)):
            queries.append(
                (
                    f"logs for {service}",
                    partial(logs.lines, book.namespace, service, start, end, _LOG_LIMIT),
                )
            )
    answers = run_queries(queries, budget_s)
    for i, (service, onset) in enumerate(todo):
        first, second = answers[2 * i], answers[2 * i + 1]
        if first.value is None or second.value is None:
            failure = first.failure or second.failure
            book.missing.append(f"no logs for {service}: {failure}")
            continue
        info = book.services.get(service)
        callees = info.calls if info else ()
        windows = ((onset - _LOG_WINDOW, onset), (book.end - _LOG_WINDOW, book.end))
        before, after = (
            _rates(lines, start, end, callees)
            for lines, (start, end) in zip((first.value, second.value), windows, strict=True)
        )
        summary, data = log_summary(service, before, after)
        evidence_id = book.add(
            "logs",
            f"logs(namespace={book.namespace}, service={service}) around {onset:%H:%M} and now",
            summary,
            data=data,
        )
        book.logs[service] = LogEvidence(
            evidence_id, before, after, (*first.value, *second.value), windows
        )


def _rates(
    lines: list[LogLine], start: datetime, end: datetime, callees: Sequence[str]
) -> LogRates:
    return rates_per_10min(
        lines, start, end, truncated=len(lines) >= _LOG_LIMIT, dependencies=callees
    )


def gather_events(
    book: EvidenceBook,
    events: EventSource | None,
    onset: datetime,
    budget_s: float = DEFAULT_BUDGET_S,
) -> None:
    """Telling Kubernetes events (OOMKilled, BackOff, Unhealthy, ...) per service."""
    if events is None:
        book.unseen.append("no Kubernetes events: no event source configured")
        return
    start = max(book.start, onset - _EVENTS_BEFORE_ONSET)
    query = partial(events.events, book.namespace, start, book.end)
    queries: list[tuple[str, Callable[[], list[ClusterEvent]]]] = [("Kubernetes events", query)]
    answer = run_queries(queries, budget_s)[0]
    if answer.value is None:
        book.missing.append(f"no Kubernetes events: {answer.failure}")
        return
    book.events = count_events(answer.value, sorted(book.services, key=len, reverse=True))
    for service, counts in sorted(book.events.items()):
        kinds = ", ".join(f"{k} x{n}" for k, n in sorted(counts.kinds.items()))
        data: dict[str, Scalar] = {"service": service, **counts.kinds}
        book.event_ids[service] = book.add(
            "events",
            f"events(namespace={book.namespace}) since {start:%H:%M} UTC",
            f"Kubernetes events of {service} since {start:%H:%M} UTC: {kinds}",
            data=data,
        )


def gather_nodes(
    book: EvidenceBook,
    pods: PodMetricsSource | None,
    services: Sequence[str],
    onset: datetime,
    budget_s: float = DEFAULT_BUDGET_S,
) -> None:
    """Per-pod p99 latency grouped by node: is one node slowing its pods down?"""
    if pods is None:
        book.unseen.append("no per-pod metrics: node pressure could not be checked")
        return
    spread = [s for s in services if (i := book.services.get(s)) and len(i.nodes) > 1]
    spread = spread[:_MAX_NODE_SERVICES]
    queries: list[tuple[str, Callable[[], list[Series]]]] = [
        (
            f"per-pod latency for {s}",
            partial(
                pods.query_pods,
                book.namespace,
                s,
                MetricName.LATENCY_P99_SECONDS,
                book.start,
                book.end,
                book.step_seconds,
            ),
        )
        for s in spread
    ]
    slowdowns: dict[str, list[PodSlowdown]] = {}
    for service, answer in zip(spread, run_queries(queries, budget_s), strict=True):
        if answer.value is None:
            book.missing.append(f"no {answer.name}: {answer.failure}")
            continue
        slowdowns[service] = node_slowdowns(service, answer.value, onset.timestamp())
    book.nodes = suspect_nodes(slowdowns)
    for suspect in book.nodes:
        parts = [
            f"{s.service} pods there p99 x{s.ratio:.2f} ({s.before_s * 1000:.0f} -> "
            f"{s.now_s * 1000:.0f} ms) while its pods elsewhere x{s.others:.2f}"
            for s in suspect.services
        ]
        data: dict[str, Scalar] = {
            "node": suspect.node,
            "services": ",".join(s.service for s in suspect.services),
            "strength": round(suspect.strength, 3),
        }
        book.node_ids[suspect.node] = book.add(
            "metrics",
            f"per-pod latency_p99_seconds by node (namespace={book.namespace})",
            f"node {suspect.node}: " + "; ".join(parts),
            data=data,
        )
