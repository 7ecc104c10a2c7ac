"""The query catalogue: which PromQL answers which signal, as templates with presets.

Each signal medic reads (memory, CPU, request rate, error ratio, latency, restarts,
replicas, saturation, disk) is one PromQL template. Placeholders, filled per query:

- `$namespace`, `$service`: the incident's namespace and service, escaped for a
  double-quoted string literal (write them inside quotes: `job="$service"`);
- `$namespace_re`, `$service_re`: the same, regex-escaped too (for `=~`);
- `$window`: the rate window (at least a minute, at least the step), `$gauge_window`:
  a second shorter (Prometheus' range selectors include their left edge).

Presets: `kubernetes` (cAdvisor + kube-state-metrics + OpenTelemetry HTTP server
series labelled `namespace`/`service`: what `medic sandbox serve` exports), `otel`
(OpenTelemetry HTTP semantic conventions as Prometheus' OTLP receiver names them:
`job` is `service.namespace/service.name`), `node_exporter` (hosts: the scrape `job`
is the service) and `custom` (nothing: the user's own recording rules in `queries`).
A signal a preset does not have is not read, and the diagnosis says so.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from string import Template

from medic.domain.errors import InvalidInputError

__all__ = [
    "EXTRA_SIGNALS",
    "PRESETS",
    "SIGNALS",
    "QueryCatalogue",
    "catalogue",
    "duration",
    "quote_value",
]

# medic's own signal names (`MetricName` values) and the extra ones only shown.
SIGNALS: tuple[str, ...] = (
    "memory_working_set_bytes",
    "memory_limit_bytes",
    "cpu_usage_cores",
    "request_rate",
    "error_ratio",
    "latency_p99_seconds",
    "restarts",
    "available_replicas",
    "saturation",
    "disk_usage_ratio",
)
EXTRA_SIGNALS: tuple[str, ...] = ("latency_p50_seconds",)

_K8S_C = 'namespace="$namespace",container="$service"'
_K8S_H = 'namespace="$namespace",service="$service"'
_OTEL = 'job=~"($namespace_re/)?$service_re"'
_NODE = 'job="$service"'

_KUBERNETES = {
    "memory_working_set_bytes": (
        f"max(max_over_time(container_memory_working_set_bytes{{{_K8S_C}}}[$gauge_window]))"
    ),
    "memory_limit_bytes": (
        f"max(last_over_time(container_spec_memory_limit_bytes{{{_K8S_C}}}[$gauge_window]))"
    ),
    "cpu_usage_cores": f"sum(rate(container_cpu_usage_seconds_total{{{_K8S_C}}}[$window]))",
    "request_rate": f"sum(rate(http_server_requests_total{{{_K8S_H}}}[$window]))",
    "error_ratio": (
        f'sum(rate(http_server_requests_total{{{_K8S_H},code=~"5.."}}[$window]))'
        f" / sum(rate(http_server_requests_total{{{_K8S_H}}}[$window]))"
    ),
    "latency_p99_seconds": (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_server_request_duration_seconds_bucket{{{_K8S_H}}}[$window])))"
    ),
    "restarts": (
        f"sum(last_over_time(kube_pod_container_status_restarts_total{{{_K8S_C}}}[$gauge_window]))"
    ),
    "available_replicas": (
        "sum(min_over_time(kube_deployment_status_replicas_available"
        '{namespace="$namespace",deployment="$service"}[$gauge_window]))'
    ),
    "latency_p50_seconds": (
        "histogram_quantile(0.5, sum by (le) "
        f"(rate(http_server_request_duration_seconds_bucket{{{_K8S_H}}}[$window])))"
    ),
    "saturation": (
        f"max(rate(container_cpu_cfs_throttled_periods_total{{{_K8S_C}}}[$window])"
        f" / rate(container_cpu_cfs_periods_total{{{_K8S_C}}}[$window]))"
    ),
    # cAdvisor's container filesystems: bytes used over the size of their device.
    "disk_usage_ratio": (
        f"max(max_over_time(container_fs_usage_bytes{{{_K8S_C}}}[$gauge_window])"
        f" / last_over_time(container_fs_limit_bytes{{{_K8S_C}}}[$gauge_window]))"
    ),
}

_OTEL_PRESET = {
    "memory_working_set_bytes": (
        f"max(max_over_time(process_memory_usage_bytes{{{_OTEL}}}[$gauge_window]))"
    ),
    "cpu_usage_cores": f"sum(rate(process_cpu_time_seconds_total{{{_OTEL}}}[$window]))",
    "request_rate": f"sum(rate(http_server_request_duration_seconds_count{{{_OTEL}}}[$window]))",
    "error_ratio": (
        "sum(rate(http_server_request_duration_seconds_count"
        f'{{{_OTEL},http_response_status_code=~"5.."}}[$window]))'
        f" / sum(rate(http_server_request_duration_seconds_count{{{_OTEL}}}[$window]))"
    ),
    "latency_p99_seconds": (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_server_request_duration_seconds_bucket{{{_OTEL}}}[$window])))"
    ),
    "latency_p50_seconds": (
        "histogram_quantile(0.5, sum by (le) "
        f"(rate(http_server_request_duration_seconds_bucket{{{_OTEL}}}[$window])))"
    ),
    "available_replicas": f"sum(min_over_time(up{{{_OTEL}}}[$gauge_window]))",
}

_NODE_PRESET = {
    "memory_working_set_bytes": (
        f"max(max_over_time(node_memory_MemTotal_bytes{{{_NODE}}}[$gauge_window])"
        f" - min_over_time(node_memory_MemAvailable_bytes{{{_NODE}}}[$gauge_window]))"
    ),
    "memory_limit_bytes": (
        f"max(last_over_time(node_memory_MemTotal_bytes{{{_NODE}}}[$gauge_window]))"
    ),
    "cpu_usage_cores": f'sum(rate(node_cpu_seconds_total{{{_NODE},mode!="idle"}}[$window]))',
    "available_replicas": f"sum(min_over_time(up{{{_NODE}}}[$gauge_window]))",
    "restarts": f"sum(changes(node_boot_time_seconds{{{_NODE}}}[$gauge_window]))",
    # The 1-minute load per core, of the busiest host of the job.
    "saturation": (
        f"max(node_load1{{{_NODE}}} / on (instance) "
        f'count by (instance) (node_cpu_seconds_total{{{_NODE},mode="idle"}}))'
    ),
    "disk_usage_ratio": (
        f'max(1 - node_filesystem_avail_bytes{{{_NODE},fstype!~"tmpfs|ramfs"}}'
        f' / node_filesystem_size_bytes{{{_NODE},fstype!~"tmpfs|ramfs"}})'
    ),
}

PRESETS: Mapping[str, Mapping[str, str]] = {
    "kubernetes": _KUBERNETES,
    "otel": _OTEL_PRESET,
    "node_exporter": _NODE_PRESET,
    "custom": {},
}

_SAMPLE = {
    "namespace": "default",
    "service": "medic-check",
    "namespace_re": "default",
    "service_re": "medic-check",
    "window": "1m",
    "gauge_window": "59s",
}


def quote_value(value: str) -> str:
    """`value` escaped for the inside of a PromQL double-quoted string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def duration(seconds: float) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"


@dataclass(frozen=True)
class QueryCatalogue:
    """The templates in force: a preset with the user's overrides on top."""

    preset: str
    templates: Mapping[str, str] = field(default_factory=dict)

    def has(self, signal: str) -> bool:
        return signal in self.templates

    def render(self, signal: str, namespace: str, service: str, window_seconds: float) -> str:
        """The PromQL of `signal` for one service; InvalidInputError if it has none."""
        template = self.templates.get(signal)
        if template is None:
            raise InvalidInputError(
                f"prometheus.queries.{signal}: not in the query catalogue (preset {self.preset})"
            )
        return Template(template).substitute(
            namespace=quote_value(namespace),
            service=quote_value(service),
            namespace_re=quote_value(re.escape(namespace)),
            service_re=quote_value(re.escape(service)),
            window=duration(window_seconds),
            gauge_window=duration(max(window_seconds - 1.0, window_seconds / 2.0)),
        )

    def samples(self) -> dict[str, str]:
        """Each template filled with sample values: what the server is asked to parse."""
        return {name: Template(t).substitute(_SAMPLE) for name, t in self.templates.items()}


def catalogue(preset: str, overrides: Mapping[str, str | None]) -> QueryCatalogue:
    """The preset's templates, each override replacing (or, when None, removing) one.

    Raises InvalidInputError naming the key of an unknown preset or signal, or of a
    template with an unknown placeholder.
    """
    if preset not in PRESETS:
        raise InvalidInputError(
            f"prometheus.preset: {preset!r} is not one of {', '.join(sorted(PRESETS))}"
        )
    templates = dict(PRESETS[preset])
    for name, template in overrides.items():
        if name not in SIGNALS and name not in EXTRA_SIGNALS:
            known = ", ".join((*SIGNALS, *EXTRA_SIGNALS))
            raise InvalidInputError(f"prometheus.queries.{name}: not a signal (one of {known})")
        if template is None or not template.strip():
            templates.pop(name, None)
        else:
            templates[name] = template.strip()
    for name, template in templates.items():
        try:
            Template(template).substitute(_SAMPLE)
        except (KeyError, ValueError) as e:
            raise InvalidInputError(
                f"prometheus.queries.{name}: unknown or malformed placeholder {e} in {template!r}"
                " (known: $namespace, $service, $namespace_re, $service_re, $window, "
                "$gauge_window)"
            ) from e
    if not any(name in templates for name in SIGNALS):
        raise InvalidInputError(
            f"prometheus.queries: preset {preset} has no query for any signal: "
            f"give at least one of {', '.join(SIGNALS)}"
        )
    return QueryCatalogue(preset, templates)
