"""Services and who calls whom, from Prometheus alone: a `ClusterReader` without a cluster.

The services are the values of one label (`service`, or the scrape `job` for hosts
and OpenTelemetry) on the series of a query (`up` by default). The call edges come
from a static file (`{service: [callees]}`) and, when configured, from a service-graph
metric such as Tempo's or the OpenTelemetry Collector's
`traces_service_graph_request_total{client, server}`. There is no rollout history
and no rollout status: without a cluster medic proposes and a human acts. When the
services are hosts (`host_label`, e.g. `instance`), each one's machines are its `nodes`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from medic.adapters.prometheus import PrometheusMetrics
from medic.domain.cluster import Revision, RolloutStatus, ServiceInfo
from medic.domain.errors import InvalidInputError, PermanentError

__all__ = ["LabelTopology", "host_of", "load_call_graph"]

_MAX_SERVICES = 200
# A DNS name, an IPv4 address, or a bracketed IPv6 address (labels are untrusted text).
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?)$")


def host_of(instance: str) -> str | None:
    """The host of a scrape address (`web-1:9100`, `10.0.0.7:9100`, `[::1]:9100`), or
    None when what is left is not a host name."""
    text = instance.strip()
    if text.startswith("["):
        host = text.split("]", 1)[0] + "]"
    elif text.count(":") == 1:
        host = text.split(":", 1)[0]
    else:
        host = text
    return host if _HOST.match(host) else None


def load_call_graph(path: Path) -> dict[str, tuple[str, ...]]:
    """A YAML mapping of service -> list of the services it calls."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise InvalidInputError(f"prometheus.call_graph_file: cannot read {path}: {e}") from e
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInputError(
            f"prometheus.call_graph_file: {path} must map each service to the list it calls"
        )
    graph: dict[str, tuple[str, ...]] = {}
    for caller, callees in raw.items():
        if callees is None:
            callees = []
        if not isinstance(callees, list) or not all(isinstance(c, str) for c in callees):
            raise InvalidInputError(
                f"prometheus.call_graph_file: {path}: {caller}: expected a list of service names"
            )
        graph[str(caller)] = tuple(callees)
    return graph


class LabelTopology:
    """`ClusterReader` over Prometheus labels (and a call graph), for Prometheus-only mode."""

    def __init__(
        self,
        metrics: PrometheusMetrics | None,
        *,
        service_label: str,
        services_query: str = "up",
        call_graph: Mapping[str, Sequence[str]] | None = None,
        service_graph_metric: str | None = None,
        host_label: str | None = None,
    ) -> None:
        self.metrics = metrics
        self.service_label = service_label
        self.services_query = services_query
        self.call_graph = {k: tuple(v) for k, v in (call_graph or {}).items()}
        self.service_graph_metric = service_graph_metric
        self.host_label = host_label

    def services(self, namespace: str) -> list[ServiceInfo]:
        label = self.service_label
        names: set[str] = set()
        hosts: dict[str, set[str]] = {}
        if self.metrics is not None:
            by = f"{label}, {self.host_label}" if self.host_label else label
            found = self.metrics.instant(f"group by ({by}) ({self.services_query})")
            names = {s.labels[label] for s in found if s.labels.get(label)}
            for s in found:
                host = host_of(s.labels.get(self.host_label, "")) if self.host_label else None
                if s.labels.get(label) and host:
                    hosts.setdefault(s.labels[label], set()).add(host)
        edges = {k: set(v) for k, v in self.call_graph.items()}
        for client, server in self._graph_edges():
            edges.setdefault(client, set()).add(server)
        names |= set(edges) | {c for callees in edges.values() for c in callees}
        if len(names) > _MAX_SERVICES:
            raise PermanentError(
                f"{len(names)} values of label {label} on {self.services_query}: more than "
                f"{_MAX_SERVICES} services; set prometheus.services_query to narrow it"
            )
        return [
            ServiceInfo(
                name=n,
                namespace=namespace,
                calls=tuple(sorted(edges.get(n, ()))),
                nodes=tuple(sorted(hosts.get(n, ()))),
            )
            for n in sorted(names)
        ]

    def _graph_edges(self) -> list[tuple[str, str]]:
        if not self.service_graph_metric or self.metrics is None:
            return []
        metric = self.service_graph_metric
        found = self.metrics.instant(f"group by (client, server) ({metric})")
        return [
            (s.labels["client"], s.labels["server"])
            for s in found
            if s.labels.get("client") and s.labels.get("server")
        ]

    def rollout_history(self, namespace: str, deployment: str) -> list[Revision]:
        return []  # no cluster: nothing to roll back to

    def rollout_status(self, namespace: str, deployment: str) -> RolloutStatus:
        raise PermanentError(
            f"no cluster is configured: the rollout of {deployment} cannot be read "
            "(Prometheus-only mode proposes, a human acts)"
        )

    def health(self) -> str:
        services = self.services("default")
        edges = sum(len(s.calls) for s in services)
        return (
            f"{len(services)} services from label {self.service_label} of "
            f"{self.services_query}, {edges} call edges"
        )
