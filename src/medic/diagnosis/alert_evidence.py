"""The alert is evidence: its labels, annotations, rule link and expression, as it ran.

Each signal becomes one `alert` evidence whose `data` carries, as untrusted text, the
alert's labels (`label:<name>`), its annotations (`annotation:summary`,
`annotation:description`, `annotation:runbook_url`, ...) and its `generator_url`.
When the rule's expression is known (Prometheus' generatorURL carries it as `g0.expr`)
and the metrics source evaluates PromQL, the expression is re-evaluated over the
incident window and recorded as a second evidence: `query` is that exact PromQL,
`data.graph_url` links to the source's graph of it, `series` are its result series.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from medic.diagnosis.evidence import EvidenceBook
from medic.domain.errors import PermanentError, TransientError
from medic.domain.model import Scalar, Signal
from medic.ports.queries import ExpressionSource, QueryCatalogued
from medic.ports.telemetry import MetricsSource

__all__ = ["alert_expression", "gather_alerts"]

_MAX_LABELS = 40
_MAX_TEXT = 1000
_MAX_SERIES = 10
_MAX_EXPR = 4000


def alert_expression(signal: Signal) -> str | None:
    """The rule's PromQL: `g0.expr` of the generatorURL, else an `expr` annotation."""
    if signal.generator_url:
        query = parse_qs(urlsplit(signal.generator_url).query)
        found = query.get("g0.expr")
        if found and found[0].strip():
            return found[0].strip()[:_MAX_EXPR]
    expr = signal.annotations.get("expr") or signal.annotations.get("expression")
    return expr.strip()[:_MAX_EXPR] if expr and expr.strip() else None


def _alert_data(signal: Signal) -> dict[str, Scalar]:
    # Everything here is text from the watched system: data, never instructions.
    data: dict[str, Scalar] = {
        "name": signal.name[:200],
        "severity": signal.severity.value,
        "status": "firing" if signal.firing else "resolved",
        "starts_at": signal.starts_at.isoformat(),
        "service": signal.service,
        "namespace": signal.namespace,
        "summary_untrusted": signal.summary[:500],
        "generator_url": signal.generator_url[:2000] or None,
    }
    for key, value in sorted(signal.labels.items())[:_MAX_LABELS]:
        data[f"label:{key[:100]}"] = value[:_MAX_TEXT]
    for key, value in sorted(signal.annotations.items())[:_MAX_LABELS]:
        data[f"annotation:{key[:100]}"] = value[:_MAX_TEXT]
    return data


def gather_alerts(
    book: EvidenceBook, signals: Sequence[Signal], metrics: MetricsSource | None = None
) -> None:
    """One evidence per signal, and one per alert expression the source could evaluate."""
    evaluated: set[str] = set()
    for signal in signals:
        where = signal.service or "an unknown service"
        expr = alert_expression(signal)
        data = _alert_data(signal)
        data["expression"] = expr
        if signal.service is None:
            book.unseen.append(
                f"alert {signal.name[:100]}: no service-like label (service, app, job, ...): "
                "the services around it cannot be narrowed"
            )
        book.add(
            "alert",
            f"signal {signal.source.value}:{signal.fingerprint}",
            f"{signal.source.value} signal on {where} since {signal.starts_at:%H:%M} UTC "
            f"({signal.severity.value}, {'firing' if signal.firing else 'resolved'})",
            data=data,
        )
        if expr is not None and expr not in evaluated:
            evaluated.add(expr)
            _evaluate(book, signal, expr, metrics)


def _evaluate(book: EvidenceBook, signal: Signal, expr: str, metrics: MetricsSource | None) -> None:
    if not isinstance(metrics, ExpressionSource):
        book.unseen.append(
            f"the expression of alert {signal.name[:100]} was not re-evaluated: "
            "the metrics source does not run PromQL"
        )
        return
    try:
        found = metrics.expression(expr, book.start, book.end, book.step_seconds)
    except (TransientError, PermanentError) as e:
        book.missing.append(f"no series for the expression of alert {signal.name[:100]}: {e}")
        return
    link = (
        metrics.graph_link(expr, book.start, book.end)
        if isinstance(metrics, QueryCatalogued)
        else None
    )
    points = sum(len(s.points) for s in found)
    if not found or points == 0:
        summary = (
            f"the alert's expression returned no series over "
            f"{book.start:%H:%M}-{book.end:%H:%M} UTC"
        )
    else:
        last = [s.points[-1].v for s in found if s.points]
        summary = (
            f"the alert's expression over {book.start:%H:%M}-"
            f"{book.end:%H:%M} UTC: {len(found)} series, {points} points, latest "
            + ", ".join(f"{v:g}" for v in last[:5])
        )
    book.add(
        "alert",
        expr,
        summary,
        data={
            "alert": signal.name[:200],
            "promql": expr,
            "graph_url": link,
            "series": len(found),
            "points": points,
        },
        series=tuple(found[:_MAX_SERIES]),
    )
