"""`medic doctor`'s list: every configured source, each checked on its own.

A source whose construction fails (a bad CA file, an unreadable call graph, a bad
query template) is still listed, as a failing check that says why: one broken
integration never hides the others. With Prometheus or VictoriaMetrics, the query
catalogue is parsed by the server and each query's series are counted per service.
"""

from __future__ import annotations

from collections.abc import Callable

from medic.adapters.datadog import DatadogMetrics
from medic.adapters.loki import LokiLogs
from medic.adapters.prometheus import PrometheusMetrics
from medic.bootstrap.prometheus import (
    check_queries,
    count_series,
    label_topology,
    metrics_settings,
    prometheus_metrics,
)
from medic.bootstrap.watched import datadog_metrics, loki_logs, watched
from medic.domain import MedicError
from medic.integrations import Integration
from medic.settings import Settings

__all__ = ["source_checks"]


def _failing(error: MedicError) -> Callable[[], str]:
    def broken() -> str:
        raise error

    return broken


def source_checks(settings: Settings) -> list[Integration]:
    """What medic watches (sandbox, or every configured real source), one check each."""
    found: list[Integration] = []
    try:
        world = watched(settings)
    except MedicError as e:
        found.append(Integration("configuration", _failing(e), "mode"))
    else:
        found += [Integration(name, check, _kind(name)) for name, check in world.checks.items()]
    named = {i.name for i in found}
    prom = metrics_settings(settings)
    if prom is not None:
        found += _prometheus_checks(settings, prom[0], named)
    if settings.datadog.api_key and "datadog" not in named:
        found.append(Integration("datadog", lambda: _closing(datadog_metrics(settings)), "metrics"))
    if settings.loki.url and "loki" not in named:
        found.append(Integration("loki", lambda: _closing(loki_logs(settings)), "logs"))
    return found


def _prometheus_checks(settings: Settings, name: str, named: set[str]) -> list[Integration]:
    try:
        metrics = prometheus_metrics(settings)
        topology = label_topology(settings, metrics)
    except MedicError as e:
        return [Integration(name, _failing(e), "metrics")]
    namespace = settings.namespace or "default"
    checks = [
        Integration(f"{name} queries", lambda: check_queries(metrics), "queries"),
        Integration(
            f"{name} series", lambda: count_series(metrics, topology, namespace), "queries"
        ),
    ]
    if name not in named:
        checks.insert(0, Integration(name, metrics.health, "metrics"))
    return checks


def _kind(name: str) -> str:
    return {
        "prometheus": "metrics",
        "victoriametrics": "metrics",
        "datadog": "metrics",
        "loki": "logs",
        "kubernetes": "cluster",
        "topology": "services",
        "sandbox": "simulated",
    }.get(name, "")


def _closing(adapter: DatadogMetrics | LokiLogs | PrometheusMetrics) -> str:
    with adapter:
        return adapter.health()
