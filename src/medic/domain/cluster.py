"""What medic knows of the watched system's shape: services, revisions, logs, writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

__all__ = [
    "ClusterEvent",
    "EventType",
    "LogLine",
    "MetricName",
    "PodInfo",
    "Revision",
    "RolloutStatus",
    "ServiceInfo",
    "ServiceKind",
    "WriteResult",
]


class ServiceKind(StrEnum):
    SERVICE = "service"
    DATABASE = "database"
    CACHE = "cache"
    QUEUE = "queue"
    EXTERNAL = "external"  # a third party: never a remediation target


class MetricName(StrEnum):
    """Per-service metrics every MetricsSource answers (aggregated over the pods).

    The names are medic's own; each adapter maps them to its backend's queries
    (e.g. PromQL over cAdvisor and kube-state-metrics series).
    """

    MEMORY_WORKING_SET_BYTES = "memory_working_set_bytes"  # max over pods
    MEMORY_LIMIT_BYTES = "memory_limit_bytes"
    CPU_USAGE_CORES = "cpu_usage_cores"
    REQUEST_RATE = "request_rate"  # requests per second
    ERROR_RATIO = "error_ratio"  # 5xx / all
    LATENCY_P99_SECONDS = "latency_p99_seconds"
    RESTARTS = "restarts"  # cumulative container restarts
    AVAILABLE_REPLICAS = "available_replicas"
    SATURATION = "saturation"  # work waiting for a resource: CPU throttling, load per core
    DISK_USAGE_RATIO = "disk_usage_ratio"  # the fullest filesystem, used / size


@dataclass(frozen=True)
class ServiceInfo:
    name: str
    namespace: str
    kind: ServiceKind = ServiceKind.SERVICE
    calls: tuple[str, ...] = ()
    replicas: int = 1
    version: str | None = None
    revision: int | None = None
    nodes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Revision:
    """One ReplicaSet revision of a Deployment (as `kubectl rollout history` lists)."""

    number: int
    version: str
    at: datetime
    change_cause: str = ""
    commit_sha: str | None = None


@dataclass(frozen=True)
class LogLine:
    at: datetime
    service: str
    pod: str
    message: str  # untrusted text from the watched system
    level: str = "info"


@dataclass(frozen=True)
class WriteResult:
    """The outcome of one write. `applied` is False when the key was already applied."""

    applied: bool
    detail: str
    data: dict[str, str | int | float] = field(default_factory=dict)


@dataclass(frozen=True)
class RolloutStatus:
    done: bool
    updated_replicas: int
    desired_replicas: int
    detail: str = ""


class EventType(StrEnum):
    NORMAL = "Normal"
    WARNING = "Warning"


@dataclass(frozen=True)
class ClusterEvent:
    """One Kubernetes event (`kubectl get events`): what happened to which object."""

    at: datetime
    reason: str  # "OOMKilled", "BackOff", "Unhealthy", "ScalingReplicaSet", "Pulled", ...
    object: str  # "Pod/auth-service-7d9f8b6c4-x2k9p", "Deployment/auth-service", "Node/node-a"
    message: str  # untrusted text from the watched system
    type: EventType = EventType.NORMAL
    namespace: str = ""
    count: int = 1


@dataclass(frozen=True)
class PodInfo:
    """One pod of a service now (`kubectl get pods -o wide`)."""

    name: str
    service: str
    namespace: str
    node: str
    ready: bool
    restarts: int
    status: str  # "Running", "CrashLoopBackOff", "ImagePullBackOff", "Terminating", ...
    revision: int | None = None
