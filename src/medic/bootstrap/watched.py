"""What medic watches and acts on: the built-in sandbox, or the configured integrations.

The sandbox is the embedded default. Enabling `kubernetes` switches to production:
then the cluster, its rollout history and the configured metrics, logs and code host
are real, and a missing metrics source is a configuration error, not a silent fallback.
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
from medic.adapters.rollout_changes import RolloutChanges
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


def watched(settings: Settings) -> Watched:
    if settings.kubernetes.enabled:
        return _production(settings)
    return _sandbox(settings)


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
    metrics: PrometheusMetrics | DatadogMetrics
    if settings.prometheus.url:
        metrics = PrometheusMetrics(
            settings.prometheus.url, timeout=settings.prometheus.timeout_seconds
        )
    elif settings.datadog.api_key:
        metrics = datadog_metrics(settings, clock)
    else:
        raise InvalidInputError(
            "kubernetes is enabled but no metrics source is configured: set prometheus.url "
            "or datadog.api_key and datadog.app_key"
        )
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
    result.checks["prometheus" if settings.prometheus.url else "datadog"] = metrics.health
    if logs is not None:
        result.checks["loki"] = logs.health
    _add_code_check(result, code)
    return result


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
