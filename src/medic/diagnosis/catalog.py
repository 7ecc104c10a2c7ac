"""The hypothesis catalog: evidence predicates, the fault they point to, its category.

Each predicate reads what was gathered (metric anomalies, log pattern rates, failed
calls per named dependency, Kubernetes events) and says yes or no; the fault is the
first predicate that holds, most telling first. The category follows BENCHMARK.md:
a change to the service shortly before the onset makes it a bad deploy or a config
change; otherwise the fault decides (a leak or a full disk: resource exhaustion; CPU
at its limit or an exhausted connection pool: capacity; more traffic at the entry:
a traffic surge; a dependency that fails for its callers: a dependency failure; one
node slowing its pods: infrastructure).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from medic.analysis.stats import Shape
from medic.diagnosis.anomaly import ANOMALY_Z, SeriesAnomaly, ServiceAnomaly
from medic.diagnosis.correlation import Culprit
from medic.diagnosis.events import EventCounts
from medic.diagnosis.evidence import LogEvidence
from medic.domain.cluster import MetricName, ServiceKind
from medic.domain.model import ChangeKind, RootCauseCategory

__all__ = [
    "FAULT_CATEGORY",
    "LOG_SUPPORT",
    "DependencyLead",
    "category_of",
    "classify_fault",
    "dependency_leads",
    "filling_up",
    "log_grew",
    "surge_ratio",
]

FAULT_CATEGORY: Mapping[str, RootCauseCategory] = {
    "memory_leak": RootCauseCategory.RESOURCE_EXHAUSTION,
    "disk_full": RootCauseCategory.RESOURCE_EXHAUSTION,
    "cpu_hog": RootCauseCategory.CAPACITY,
    "connection_pool_exhaustion": RootCauseCategory.CAPACITY,
    "traffic_surge": RootCauseCategory.TRAFFIC_SURGE,
    "node_pressure": RootCauseCategory.INFRASTRUCTURE,
    "dependency_outage": RootCauseCategory.DEPENDENCY_FAILURE,
    "dependency_latency": RootCauseCategory.DEPENDENCY_FAILURE,
    "cert_expiry": RootCauseCategory.DEPENDENCY_FAILURE,
    "crashloop": RootCauseCategory.INFRASTRUCTURE,
    "error_regression": RootCauseCategory.INFRASTRUCTURE,
    "latency_regression": RootCauseCategory.INFRASTRUCTURE,
}

# Per fault: which log patterns corroborate it.
LOG_SUPPORT: Mapping[str, tuple[str, ...]] = {
    "memory_leak": ("gc_pause", "out_of_memory"),
    "crashloop": ("crash", "error", "out_of_memory"),
    "error_regression": ("error",),
    "latency_regression": ("timeout",),
    "cpu_hog": ("cpu_saturated", "timeout"),
    "disk_full": ("disk_full",),
    "connection_pool_exhaustion": ("pool_exhausted",),
}
# Which failure of a named dependency in a caller's logs means which fault.
_DEPENDENCY_FAULT: Mapping[str, str] = {
    "refused": "dependency_outage",
    "tls": "cert_expiry",
    "slow": "dependency_latency",
}
# Request rate at least this many times its baseline is a surge, not noise.
SURGE_RATIO = 1.5
# A filesystem this full, or one that will be full this soon, is a disk filling up.
DISK_NEARLY_FULL = 0.9
DISK_FULL_WITHIN_S = 6 * 3600.0
_STATEFUL = frozenset({ServiceKind.DATABASE, ServiceKind.CACHE, ServiceKind.QUEUE})


@dataclass(frozen=True)
class DependencyLead:
    """Callers' logs name `dependency` in failed calls that were not there before."""

    dependency: str
    fault: str  # dependency_outage, cert_expiry, dependency_latency
    callers: tuple[str, ...]
    per_10min: float  # failed calls per 10 min, summed over the callers
    evidence_ids: tuple[str, ...]


def log_grew(logs: LogEvidence | None, pattern: str) -> tuple[float, float] | None:
    """(before, after) per 10 min when `pattern` at least doubled (and is not rare)."""
    if logs is None:
        return None
    before = logs.before.per_10min.get(pattern, 0.0)
    after = logs.after.per_10min.get(pattern, 0.0)
    return (before, after) if after > max(2.0 * before, 1.0) else None


def surge_ratio(anomaly: ServiceAnomaly) -> float:
    """How many times its baseline the service's request rate is now (1.0: unchanged)."""
    rate = next((m for m in anomaly.metrics if m.metric is MetricName.REQUEST_RATE), None)
    if rate is None or rate.score < ANOMALY_Z or rate.before <= 0:
        return 1.0
    return rate.now / rate.before


def filling_up(disk: SeriesAnomaly) -> bool:
    """A filesystem that rose (already scored anomalous) is filling up when it is nearly
    full or, at its slope since the onset, will be within `DISK_FULL_WITHIN_S`."""
    if disk.now >= DISK_NEARLY_FULL:
        return True
    return disk.slope > 0 and (1.0 - disk.now) / disk.slope <= DISK_FULL_WITHIN_S


def classify_fault(
    anomaly: ServiceAnomaly, logs: LogEvidence | None, events: EventCounts | None
) -> tuple[str, SeriesAnomaly]:
    """The fault's name and the series that shows it best (most telling predicate first)."""
    moved = {m.metric: m for m in anomaly.metrics if m.score >= ANOMALY_Z}
    assert anomaly.worst is not None
    shown = anomaly.worst

    def pick(*metrics: MetricName) -> SeriesAnomaly:
        return next((moved[m] for m in metrics if m in moved), shown)

    memory = moved.get(MetricName.MEMORY_WORKING_SET_BYTES)
    if memory is not None and (memory.shape is Shape.RAMP or memory.resets):
        return "memory_leak", memory
    disk = moved.get(MetricName.DISK_USAGE_RATIO)
    if disk is not None and filling_up(disk):
        return "disk_full", disk
    if log_grew(logs, "disk_full"):
        return "disk_full", pick(MetricName.ERROR_RATIO, MetricName.LATENCY_P99_SECONDS)
    if log_grew(logs, "pool_exhausted"):
        return "connection_pool_exhaustion", pick(
            MetricName.ERROR_RATIO, MetricName.LATENCY_P99_SECONDS
        )
    crashing = events is not None and (events.has("crash") or events.has("image"))
    if crashing or MetricName.RESTARTS in moved or MetricName.AVAILABLE_REPLICAS in moved:
        if events is not None and events.has("oom") and memory is not None:
            return "memory_leak", memory
        return "crashloop", pick(MetricName.AVAILABLE_REPLICAS, MetricName.RESTARTS)
    if surge_ratio(anomaly) >= SURGE_RATIO:
        return "traffic_surge", moved[MetricName.REQUEST_RATE]
    for metric, fault in (
        (MetricName.CPU_USAGE_CORES, "cpu_hog"),
        (MetricName.SATURATION, "cpu_hog"),
        (MetricName.ERROR_RATIO, "error_regression"),
        (MetricName.LATENCY_P99_SECONDS, "latency_regression"),
        (MetricName.MEMORY_WORKING_SET_BYTES, "memory_leak"),
    ):
        if metric in moved:
            return fault, moved[metric]
    return "unknown", shown


def category_of(fault: str, culprit: Culprit | None, kind: ServiceKind | None) -> RootCauseCategory:
    if culprit is not None:
        if culprit.change.kind is ChangeKind.CONFIG_CHANGE:
            return RootCauseCategory.CONFIG_CHANGE
        return RootCauseCategory.BAD_DEPLOY
    if kind in _STATEFUL or kind is ServiceKind.EXTERNAL:
        if fault in ("memory_leak", "disk_full"):
            return RootCauseCategory.RESOURCE_EXHAUSTION
        if fault in ("cpu_hog", "connection_pool_exhaustion", "traffic_surge"):
            return FAULT_CATEGORY[fault]
        return RootCauseCategory.DEPENDENCY_FAILURE
    return FAULT_CATEGORY.get(fault, RootCauseCategory.INFRASTRUCTURE)


def dependency_leads(logs: Mapping[str, LogEvidence]) -> list[DependencyLead]:
    """Dependencies whose failed calls grew in their callers' logs, most failures first."""
    found: dict[tuple[str, str], list[tuple[str, float, str]]] = {}
    for caller, evidence in sorted(logs.items()):
        for dependency, kinds in evidence.after.dependencies.items():
            before = evidence.before.dependencies.get(dependency, {})
            for kind, rate in kinds.items():
                if rate > max(2.0 * before.get(kind, 0.0), 1.0):
                    found.setdefault((dependency, kind), []).append(
                        (caller, rate, evidence.evidence_id)
                    )
    leads = []
    for (dependency, kind), items in found.items():
        leads.append(
            DependencyLead(
                dependency=dependency,
                fault=_DEPENDENCY_FAULT[kind],
                callers=tuple(c for c, _, _ in items),
                per_10min=sum(r for _, r, _ in items),
                evidence_ids=tuple(e for _, _, e in items),
            )
        )
    # A hard failure (refused, TLS) says more than slowness.
    leads.sort(key=lambda d: (d.fault == "dependency_latency", -d.per_10min, d.dependency))
    return leads
