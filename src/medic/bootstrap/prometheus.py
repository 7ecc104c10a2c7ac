"""Prometheus or VictoriaMetrics from settings: the adapter, its queries, its topology.

`check_queries` asks the server to parse every template of the query catalogue
(an instant query each): a template it refuses is an error naming its key.
`count_series` runs each for the known services: what `medic doctor` reports.
"""

from __future__ import annotations

from medic.adapters.prometheus import PromAccess, PrometheusMetrics
from medic.adapters.prometheus_queries import EXTRA_SIGNALS, SIGNALS, catalogue
from medic.adapters.prometheus_topology import LabelTopology, load_call_graph
from medic.domain import InvalidInputError, MedicError, PermanentError
from medic.settings import PrometheusSettings, Settings

__all__ = ["check_queries", "count_series", "label_topology", "prometheus_metrics"]

_DOCTOR_SERVICES = 12


def metrics_settings(settings: Settings) -> tuple[str, PrometheusSettings] | None:
    """("prometheus" | "victoriametrics", its section) when one is configured."""
    if settings.prometheus.url:
        return "prometheus", settings.prometheus
    if settings.victoriametrics.url:
        return "victoriametrics", settings.victoriametrics
    return None


def prometheus_metrics(settings: Settings) -> PrometheusMetrics:
    found = metrics_settings(settings)
    if found is None:
        raise InvalidInputError("neither prometheus.url nor victoriametrics.url is set")
    name, config = found
    queries = catalogue(config.preset, config.queries)
    access = PromAccess(
        bearer_token=config.bearer_token,
        username=config.username,
        password=config.password,
        ca_file=str(config.ca_file) if config.ca_file else None,
        insecure_skip_verify=config.insecure_skip_verify,
        max_series=config.max_series,
        max_points=config.max_points,
        graph_url=config.graph_url,
        kind="VictoriaMetrics" if name == "victoriametrics" else "Prometheus",
    )
    return PrometheusMetrics(
        config.url or "",
        timeout=config.timeout_seconds,
        retries=config.retries,
        queries=queries,
        access=access,
    )


def label_topology(settings: Settings, metrics: PrometheusMetrics) -> LabelTopology:
    found = metrics_settings(settings)
    config = found[1] if found else settings.prometheus
    default_label = "service" if config.preset == "kubernetes" else "job"
    graph = load_call_graph(config.call_graph_file) if config.call_graph_file else None
    return LabelTopology(
        metrics,
        service_label=config.service_label or default_label,
        services_query=config.services_query or "up",
        call_graph=graph,
        service_graph_metric=config.service_graph_metric,
        host_label="instance" if targets(settings) == "hosts" else None,
    )


def targets(settings: Settings) -> str:
    """What the services run on: as configured, else hosts for node_exporter's preset."""
    found = metrics_settings(settings)
    config = found[1] if found else settings.prometheus
    if config.targets is not None:
        return config.targets
    return "hosts" if config.preset == "node_exporter" else "kubernetes"


def check_queries(metrics: PrometheusMetrics) -> str:
    """Every template parsed by the server; InvalidInputError naming each refused key."""
    refused = []
    samples = metrics.queries.samples()
    for name, promql in samples.items():
        try:
            metrics.instant(promql)
        except PermanentError as e:
            refused.append(f"prometheus.queries.{name}: {e}")
    if refused:
        raise InvalidInputError("; ".join(refused))
    return f"{len(samples)} queries of preset {metrics.queries.preset} parse"


def count_series(metrics: PrometheusMetrics, topology: LabelTopology, namespace: str) -> str:
    """Per signal: how many of the known services it returns series for."""
    services = [s.name for s in topology.services(namespace)][:_DOCTOR_SERVICES]
    if not services:
        raise PermanentError(
            f"no service found: no series of {topology.services_query} carries the label "
            f"{topology.service_label} (set prometheus.service_label or services_query)"
        )
    parts = []
    for signal in (*SIGNALS, *EXTRA_SIGNALS):
        if not metrics.queries.has(signal):
            continue
        answered = []
        for service in services:
            promql = metrics.queries.render(signal, namespace, service, 300.0)
            try:
                if metrics.instant(promql):
                    answered.append(service)
            except MedicError as e:
                parts.append(f"{signal}: error {e}")
                break
        else:
            parts.append(f"{signal}: {len(answered)} of {len(services)} services")
    return f"namespace {namespace}, services {', '.join(services)}: " + "; ".join(parts)
