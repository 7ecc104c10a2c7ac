"""What medic watches and acts on: the built-in sandbox, or the configured integrations.

Three modes, chosen explicitly: the sandbox runs only when no real source is
configured (or `sandbox.enabled` is true, and then none may be); `kubernetes` enabled
is production: the cluster, its rollout history and the configured metrics, logs and
code host are real; any other real source (Prometheus, VictoriaMetrics, Datadog, Loki)
without Kubernetes is diagnose-and-propose: services from labels and a call graph, no
changes, no executor. A missing metrics source is a configuration error, never a
silent fallback to the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from medic.adapters.datadog import DatadogMetrics
from medic.adapters.git import GitCodeHost
from medic.adapters.github import GitHubCodeHost
from medic.adapters.http import WallClock
from medic.adapters.kubernetes import KubernetesCluster
from medic.adapters.loki import LokiLogs
from medic.adapters.prometheus import PrometheusMetrics
from medic.adapters.prometheus_topology import LabelTopology, load_call_graph
from medic.adapters.rollout_changes import RolloutChanges
from medic.bootstrap.observer import NoChanges, NoExecutor
from medic.bootstrap.prometheus import (
    label_topology,
    metrics_settings,
    prometheus_metrics,
    targets,
)
from medic.domain import InvalidInputError
from medic.ports import (
    ChangeSource,
    Clock,
    ClusterReader,
    ClusterWriter,
    CodeHost,
    EventSource,
    LogSource,
    MetricsSource,
)
from medic.sandbox import Sandbox, SteppedClock
from medic.settings import Settings

__all__ = ["HealthCheck", "Watched", "datadog_metrics", "loki_logs", "watched"]

HealthCheck = Callable[[], str]


@dataclass
class Watched:
    clock: Clock
    metrics: MetricsSource
    changes: ChangeSource
    cluster: ClusterReader
    writer: ClusterWriter
    namespace: str
    logs: LogSource | None = None
    events: EventSource | None = None
    code: CodeHost | None = None
    sandbox: Sandbox | None = None
    checks: dict[str, HealthCheck] = field(default_factory=dict)
    can_act: bool = True
    targets: str = "kubernetes"  # or "hosts": the shape of the commands handed to a human
    # What each role is served by (metrics, logs, changes, cluster, executor): the banner.
    sources: dict[str, str] = field(default_factory=dict)


def watched(settings: Settings) -> Watched:
    if settings.uses_sandbox:
        return _sandbox(settings)
    if settings.kubernetes.enabled:
        return _production(settings)
    return _observer(settings)


def _sandbox(settings: Settings) -> Watched:
    stepped = settings.sandbox.stepped_from
    sandbox = Sandbox.open(
        settings.sandbox.scenario,
        settings.sandbox_dir,
        speed=settings.sandbox.speed,
        clock=SteppedClock(stepped) if stepped is not None else None,
        hold=True,
    )
    code = _code_host(settings, default_repos=sandbox.repos_dir)
    result = Watched(
        clock=sandbox.clock,
        metrics=sandbox.metrics,
        changes=sandbox.changes,
        cluster=sandbox.cluster,
        writer=sandbox.cluster,
        namespace=settings.namespace or sandbox.namespace,
        logs=sandbox.logs,
        events=sandbox.events,
        code=code,
        sandbox=sandbox,
    )
    result.checks["sandbox"] = lambda: (
        f"scenario {sandbox.scenario.name} in namespace {sandbox.namespace}, "
        f"{len(sandbox.cluster.services(sandbox.namespace))} services"
    )
    _add_code_check(result, code)
    name = sandbox.scenario.name
    result.sources = {
        "metrics": f"sandbox (simulated, scenario {name})",
        "logs": "sandbox (simulated)",
        "changes": "sandbox (simulated rollout history)",
        "cluster": f"sandbox (simulated, namespace {sandbox.namespace})",
        "executor": "sandbox (simulated writes only)",
    }
    return result


def _production(settings: Settings) -> Watched:
    clock = WallClock()
    namespace = settings.namespace or "default"
    k8s = settings.kubernetes
    cluster = (
        KubernetesCluster.in_cluster(namespace=namespace, clock=clock)
        if k8s.in_cluster
        else KubernetesCluster.from_kubeconfig(
            k8s.kubeconfig, k8s.context, namespace=namespace, clock=clock
        )
    )
    metrics, metrics_name = _metrics(settings, clock, "kubernetes is enabled")
    logs = loki_logs(settings, clock) if settings.loki.url else None
    code = _code_host(settings, default_repos=None)
    result = Watched(
        clock=clock,
        metrics=metrics,
        changes=RolloutChanges(cluster),
        cluster=cluster,
        writer=cluster,
        namespace=namespace,
        logs=logs,
        events=cluster,
        code=code,
    )
    result.checks["kubernetes"] = cluster.health
    result.checks[metrics_name] = metrics.health
    if logs is not None:
        result.checks["loki"] = logs.health
    _add_code_check(result, code)
    where = "in-cluster" if k8s.in_cluster else (k8s.context or "kubeconfig")
    result.sources = {
        "metrics": _describe_metrics(metrics_name, settings),
        "logs": f"loki {settings.loki.url}" if logs is not None else "none",
        "changes": "Kubernetes rollout history",
        "cluster": f"Kubernetes ({where}, namespace {namespace})",
        "executor": "Kubernetes (actions after approval, per the policy)",
    }
    return result


def _observer(settings: Settings) -> Watched:
    """Diagnose-and-propose: real metrics (and logs), no cluster, no executor."""
    clock = WallClock()
    namespace = settings.namespace or "default"
    metrics, metrics_name = _metrics(settings, clock, f"{', '.join(settings.real_sources)} set")
    cluster: LabelTopology
    if isinstance(metrics, PrometheusMetrics):
        cluster = label_topology(settings, metrics)
    else:
        graph_file = settings.prometheus.call_graph_file
        cluster = LabelTopology(
            None,
            service_label="service",
            call_graph=load_call_graph(graph_file) if graph_file else None,
        )
    logs = loki_logs(settings, clock) if settings.loki.url else None
    changes, executor = NoChanges(), NoExecutor()
    result = Watched(
        clock=clock,
        metrics=metrics,
        changes=changes,
        cluster=cluster,
        writer=executor,
        namespace=namespace,
        logs=logs,
        can_act=False,
        targets=targets(settings),
    )
    result.checks[metrics_name] = metrics.health
    if isinstance(metrics, PrometheusMetrics):
        result.checks["topology"] = cluster.health
    if logs is not None:
        result.checks["loki"] = logs.health
    result.sources = {
        "metrics": _describe_metrics(metrics_name, settings),
        "logs": f"loki {settings.loki.url}" if logs is not None else "none",
        "changes": f"none: {changes.absent_reason}",
        "cluster": f"none: services from labels ({_topology_text(cluster)})",
        "executor": f"none: {executor.absent_reason}; the commands handed over are for "
        + ("hosts (ssh, systemd)" if result.targets == "hosts" else "Kubernetes (kubectl)"),
    }
    return result


def _metrics(
    settings: Settings, clock: Clock, why: str
) -> tuple[PrometheusMetrics | DatadogMetrics, str]:
    found = metrics_settings(settings)
    if found is not None:
        return prometheus_metrics(settings), found[0]
    if settings.datadog.api_key:
        return datadog_metrics(settings, clock), "datadog"
    raise InvalidInputError(
        f"{why} but no metrics source is configured: set prometheus.url, "
        "victoriametrics.url, or datadog.api_key and datadog.app_key"
    )


def _describe_metrics(name: str, settings: Settings) -> str:
    found = metrics_settings(settings)
    if found is None:
        return f"datadog (site {settings.datadog.site})"
    return f"{name} {found[1].url} (query preset {found[1].preset})"


def _topology_text(cluster: LabelTopology) -> str:
    parts = [f"label {cluster.service_label} of {cluster.services_query}"]
    if cluster.call_graph:
        parts.append(f"call graph file, {len(cluster.call_graph)} callers")
    if cluster.service_graph_metric:
        parts.append(f"service graph {cluster.service_graph_metric}")
    return "; ".join(parts)


def _code_host(settings: Settings, default_repos: Path | None) -> CodeHost | None:
    github = settings.github
    if github.token and github.repos:
        return GitHubCodeHost(
            github.token,
            github.repos,
            github.clone_dir or settings.data_dir / "git-clones",
            api_url=github.api_url,
            remote_url=github.remote_url,
            draft=github.draft,
        )
    repos = settings.git.repos_dir or default_repos
    return GitCodeHost(repos) if repos is not None else None


def _add_code_check(result: Watched, code: CodeHost | None) -> None:
    if isinstance(code, GitHubCodeHost | GitCodeHost):
        result.checks["code host"] = code.health


def datadog_metrics(settings: Settings, clock: Clock | None = None) -> DatadogMetrics:
    config = settings.datadog
    return DatadogMetrics(
        config.api_key or "",
        config.app_key or "",
        site=config.site,
        api_url=config.api_url,
        timeout=config.timeout_seconds,
        retries=config.retries,
        max_wait_seconds=config.max_wait_seconds,
        kube_scope=config.kube_scope,
        trace_scope=config.trace_scope,
        span=config.span,
        queries=config.queries,
        clock=clock,
    )


def loki_logs(settings: Settings, clock: Clock | None = None) -> LokiLogs:
    config = settings.loki
    if not config.url:
        raise InvalidInputError("loki.url is not set")
    auth = (config.username, config.password or "") if config.username else None
    return LokiLogs(
        config.url,
        namespace_label=config.namespace_label,
        service_label=config.service_label,
        pod_label=config.pod_label,
        tenant=config.tenant,
        auth=auth,
        timeout=config.timeout_seconds,
        retries=config.retries,
        max_entries_per_query=config.max_entries_per_query,
        clock=clock,
    )
