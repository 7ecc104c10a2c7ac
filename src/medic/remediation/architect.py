"""Plan building: the top hypothesis of a diagnosis becomes an immediate and a long-term plan.

The architect is deliberately conservative. It acts only on a conclusive, confident
diagnosis whose cause is a known in-house service of the incident's namespace, only
through catalog actions, and only when it can say how recovery will be verified (a
pre-onset baseline). Everything else becomes an escalation: a human gets the evidence.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import MappingProxyType

from medic.domain import (
    Action,
    ActionKind,
    Criterion,
    Diagnosis,
    Hypothesis,
    MetricName,
    Plan,
    Revision,
    RootCauseCategory,
    ServiceInfo,
    ServiceKind,
)
from medic.remediation.catalog import make_action, recovery_criterion

__all__ = ["DEFAULT_MIN_CONFIDENCE", "DEFAULT_WINDOW_S", "baseline_from_evidence", "plan"]

DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_WINDOW_S = 600.0
_MAX_EXTRA_REPLICAS = 10
# The latest points of a series that tell its current level.
_RECENT_POINTS = 8

# The metric a fault moves, hence the one whose return to baseline proves recovery.
_FAULT_METRIC: Mapping[str, MetricName] = MappingProxyType(
    {
        "memory_leak": MetricName.MEMORY_WORKING_SET_BYTES,
        "cpu_hog": MetricName.CPU_USAGE_CORES,
        "latency_regression": MetricName.LATENCY_P99_SECONDS,
        "error_regression": MetricName.ERROR_RATIO,
        "crashloop": MetricName.AVAILABLE_REPLICAS,
        "connection_pool_exhaustion": MetricName.ERROR_RATIO,
        "disk_full": MetricName.ERROR_RATIO,
        "traffic_surge": MetricName.LATENCY_P99_SECONDS,
        "node_pressure": MetricName.LATENCY_P99_SECONDS,
    }
)
# Tried, in order, when neither the fault nor the cited evidence names a metric.
_FALLBACK_METRICS = (
    MetricName.ERROR_RATIO,
    MetricName.LATENCY_P99_SECONDS,
    MetricName.MEMORY_WORKING_SET_BYTES,
)
# What a capacity fix (more replicas, another node) is judged by: the service's CPU
# in all or a node's load may well stay up, the users' experience must not.
_USER_FACING = (MetricName.LATENCY_P99_SECONDS, MetricName.ERROR_RATIO)
_BASELINE_KEYS = ("baseline", "pre_onset_median")


class _NoActionError(Exception):
    """Internal: why no acting plan fits; becomes the escalation's reason."""


def plan(
    diagnosis: Diagnosis,
    services: Sequence[ServiceInfo],
    history: Mapping[str, Sequence[Revision]],
    baseline: Mapping[str, float] | None = None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    window_s: float = DEFAULT_WINDOW_S,
) -> Plan:
    """The plan for `diagnosis`.

    `services` is `ClusterReader.services(namespace)`; `history` maps a deployment name
    to `ClusterReader.rollout_history(namespace, deployment)` (oldest first; only the
    diagnosed service's is needed); `baseline` optionally maps a metric name to the
    diagnosed service's pre-onset value and wins over what the evidence shows.
    """
    top = diagnosis.top
    if top is None:
        return _escalation(diagnosis, None, services, "the diagnosis has no hypothesis")
    if not diagnosis.conclusive or diagnosis.confidence < min_confidence:
        why = (
            f"the diagnosis is not conclusive enough to act on (confidence "
            f"{diagnosis.confidence:.2f}, conclusive={diagnosis.conclusive}, "
            f"threshold {min_confidence:.2f})"
        )
        return _escalation(diagnosis, top, services, why)
    try:
        service = _in_scope(_find(services, top.root_cause.service), top)
        return _acting_plan(diagnosis, top, service, history, baseline or {}, window_s)
    except _NoActionError as e:
        return _escalation(diagnosis, top, services, str(e))


def baseline_from_evidence(
    diagnosis: Diagnosis,
    service: str,
    metric: MetricName,
    onset: datetime | None = None,
) -> float | None:
    """The pre-onset value of `metric` for `service`, as the diagnosis' evidence shows it.

    An explicit `baseline` (or `pre_onset_median`) in an evidence's data wins; otherwise
    the median of the points before the onset in the longest matching evidence series.
    """
    for ev in diagnosis.evidence:
        if ev.data.get("metric") != metric.value or ev.data.get("service", service) != service:
            continue
        for key in _BASELINE_KEYS:
            value = ev.data.get(key)
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
    cut = onset or diagnosis.onset
    if cut is None:
        return None
    before: list[float] = []
    for ev in diagnosis.evidence:
        for series in ev.series:
            if series.metric != metric.value or series.service != service:
                continue
            values = [p.v for p in series.points if p.t < cut.timestamp() and p.v == p.v]
            if len(values) > len(before):
                before = values
    return statistics.median(before) if before else None


def _in_scope(service: ServiceInfo | None, top: Hypothesis) -> ServiceInfo:
    """The diagnosed service, if medic may act on it at all."""
    name = top.root_cause.service
    if service is None:
        raise _NoActionError(f"{name} is not a service of the incident's namespace")
    if service.kind is ServiceKind.EXTERNAL:
        raise _NoActionError(
            f"{name} is an external service (a third party): never a remediation "
            "target; its owner must be contacted"
        )
    if service.kind is not ServiceKind.SERVICE:
        raise _NoActionError(
            f"{name} is a {service.kind.value}: stateful, not acted on automatically"
        )
    return service


def _acting_plan(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    history: Mapping[str, Sequence[Revision]],
    baseline: Mapping[str, float],
    window_s: float,
) -> Plan:
    category = top.root_cause.category
    if category is RootCauseCategory.BAD_DEPLOY:
        try:
            return _rollback(diagnosis, top, service, history, baseline, window_s)
        except _NoActionError as e:
            if top.fault != "memory_leak":
                raise
            # A leaking release we cannot roll back: a restart buys time for a human.
            return _restart(diagnosis, top, service, baseline, window_s, f"no rollback: {e}")
    if category is RootCauseCategory.CONFIG_CHANGE:
        return _revert_config(diagnosis, top, service, baseline, window_s)
    if top.fault == "memory_leak" and top.root_cause.change is None:
        return _restart(diagnosis, top, service, baseline, window_s, "no change explains the leak")
    if category in (RootCauseCategory.TRAFFIC_SURGE, RootCauseCategory.CAPACITY):
        return _scale_out(diagnosis, top, service, baseline, window_s)
    if category is RootCauseCategory.INFRASTRUCTURE and top.fault == "node_pressure":
        return _cordon(diagnosis, top, service, baseline, window_s)
    if category is RootCauseCategory.DEPENDENCY_FAILURE:
        raise _NoActionError(
            f"{service.name} fails for its callers without a change of ours to undo: "
            "its owners must look at it"
        )
    raise _NoActionError(
        f"no catalog action safely fixes {top.fault or category.value} of {service.name}"
    )


def _rollback(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    history: Mapping[str, Sequence[Revision]],
    baseline: Mapping[str, float],
    window_s: float,
) -> Plan:
    revisions = sorted(history.get(service.name, ()), key=lambda r: r.number)
    if not revisions:
        raise _NoActionError(f"no rollout history for {service.name}")
    bad_version = top.root_cause.change or revisions[-1].version
    matching = [r for r in revisions if r.version == bad_version]
    if not matching:
        raise _NoActionError(f"{bad_version} is not in the rollout history of {service.name}")
    bad, live = matching[-1], revisions[-1]
    if bad is not live:
        raise _NoActionError(
            f"revision {live.number} ({live.version}) is live, newer than the bad "
            f"{bad.version}; rolling back would revert it too"
        )
    earlier = [r for r in revisions if r.number < bad.number and r.version != bad.version]
    if not earlier:
        raise _NoActionError(f"no revision of {service.name} before {bad.version} to roll back to")
    good = earlier[-1]
    criterion = _criterion(
        diagnosis, top, service.name, baseline, window_s, diagnosis.onset or bad.at
    )
    cites = _cites(diagnosis, top)
    reason = (
        f"{service.name} {bad.version} (revision {bad.number}) is the likely cause "
        f"({top.root_cause.category.value}, confidence {diagnosis.confidence:.2f}; "
        f"evidence {cites}); roll back to revision {good.number} ({good.version})"
    )
    undo = make_action(
        ActionKind.ROLLOUT_UNDO,
        service.name,
        service.namespace,
        reason,
        params={
            "to_revision": good.number,
            "from_revision": bad.number,
            "from_version": bad.version,
            "to_version": good.version,
        },
        verification=(criterion,),
    )
    pr_params: dict[str, str | int | float | bool | None] = {
        "service": service.name,
        "good_version": good.version,
        "bad_version": bad.version,
        "title": f"Revert {service.name} {bad.version} to {good.version}",
    }
    if bad.commit_sha:
        pr_params["bad_commit"] = bad.commit_sha
    revert = make_action(
        ActionKind.REVERT_PR,
        service.name,
        service.namespace,
        f"keep {bad.version} out of the next release until it is fixed (evidence {cites})",
        params=pr_params,
    )
    return Plan(
        incident_id=diagnosis.incident_id,
        immediate=(undo,),
        long_term=(revert,),
        rationale=_rationale(diagnosis, top, f"roll {service.name} back to {good.version}"),
    )


def _restart(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    baseline: Mapping[str, float],
    window_s: float,
    why: str,
) -> Plan:
    criterion = _criterion(diagnosis, top, service.name, baseline, window_s, diagnosis.onset)
    cites = _cites(diagnosis, top)
    restart = make_action(
        ActionKind.ROLLOUT_RESTART,
        service.name,
        service.namespace,
        f"{service.name} leaks memory ({why}; evidence {cites}); fresh pods reset it",
        verification=(criterion,),
    )
    return _with_follow_up(
        diagnosis,
        top,
        restart,
        service.name,
        f"a restart only buys time: the leak in {service.name} needs a fix ({why})",
        f"restart {service.name}; {why}",
    )


def _with_follow_up(
    diagnosis: Diagnosis,
    top: Hypothesis,
    now: Action,
    later_target: str,
    later_reason: str,
    decision: str,
) -> Plan:
    """A plan of one action now and a hand-over to a human for the lasting fix."""
    follow_up = make_action(ActionKind.ESCALATE, later_target, now.namespace, later_reason)
    return Plan(
        incident_id=diagnosis.incident_id,
        immediate=(now,),
        long_term=(follow_up,),
        rationale=_rationale(diagnosis, top, decision),
    )


def _scale_out(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    baseline: Mapping[str, float],
    window_s: float,
) -> Plan:
    # More replicas use more CPU in all: what must come back is what users feel.
    criterion = _criterion(
        diagnosis, top, service.name, baseline, window_s, diagnosis.onset, _USER_FACING
    )
    current = max(service.replicas, 1)
    # Double it, or more when the traffic grew more: each replica back to its old load.
    load = _load_ratio(diagnosis, service.name)
    wanted = max(current * 2, math.ceil(current * load)) if load else current * 2
    replicas = min(wanted, current + _MAX_EXTRA_REPLICAS)
    scale = make_action(
        ActionKind.SCALE_OUT,
        service.name,
        service.namespace,
        f"{service.name} lacks capacity (evidence {_cites(diagnosis, top)}); "
        f"scale from {current} to {replicas} replicas",
        params={"replicas": replicas, "from_replicas": current},
        verification=(criterion,),
    )
    return _with_follow_up(
        diagnosis,
        top,
        scale,
        service.name,
        f"review {service.name}'s capacity planning and autoscaling",
        f"scale {service.name} out to {replicas} replicas",
    )


def _load_ratio(diagnosis: Diagnosis, service: str) -> float | None:
    """How many times its pre-onset request rate `service` now serves, read from the
    request-rate series the evidence holds (None without one, or without an onset)."""
    onset = diagnosis.onset
    if onset is None:
        return None
    cut = onset.timestamp()
    for ev in diagnosis.evidence:
        for series in ev.series:
            if series.service != service or series.metric != MetricName.REQUEST_RATE.value:
                continue
            medians = series.medians_around(cut, _RECENT_POINTS)
            if medians is not None and medians[0] > 0:
                ratio = medians[1] / medians[0]
                return ratio if math.isfinite(ratio) else None
    return None


def _revert_config(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    baseline: Mapping[str, float],
    window_s: float,
) -> Plan:
    key = top.root_cause.change
    if not key:
        raise _NoActionError(f"the config change of {service.name} names no key to revert")
    criterion = _criterion(diagnosis, top, service.name, baseline, window_s, diagnosis.onset)
    cites = _cites(diagnosis, top)
    revert = make_action(
        ActionKind.REVERT_CONFIG,
        service.name,
        service.namespace,
        f"the change of {key} on {service.name} is the likely cause (confidence "
        f"{diagnosis.confidence:.2f}; evidence {cites}); set it back to its previous value",
        params={"key": key},
        verification=(criterion,),
    )
    return _with_follow_up(
        diagnosis,
        top,
        revert,
        service.name,
        f"review the change of {key} on {service.name} before it is applied again "
        f"(evidence {cites})",
        f"revert {key} on {service.name}",
    )


def _cordon(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: ServiceInfo,
    baseline: Mapping[str, float],
    window_s: float,
) -> Plan:
    node = _cited_node(diagnosis, top)
    if node is None or node not in service.nodes:
        raise _NoActionError(f"no node of {service.name} is named by the evidence")
    criterion = _criterion(diagnosis, top, service.name, baseline, window_s, diagnosis.onset)
    cites = _cites(diagnosis, top)
    cordon = make_action(
        ActionKind.CORDON_NODE,
        node,
        service.namespace,
        f"pods on node {node} are slow while their peers elsewhere are not (evidence "
        f"{cites}); cordon and drain it so they are rescheduled on healthy nodes",
        params={"service": service.name},
        verification=(criterion,),
    )
    return _with_follow_up(
        diagnosis,
        top,
        cordon,
        node,
        f"find out what is starving node {node} (noisy neighbour, hardware) before uncordoning it",
        f"cordon node {node}",
    )


def _cited_node(diagnosis: Diagnosis, top: Hypothesis) -> str | None:
    """The node named by the evidence the hypothesis cites (set by the diagnostician)."""
    for ev in diagnosis.evidence:
        node = ev.data.get("node")
        if ev.id in top.evidence_ids and isinstance(node, str) and node:
            return node
    return None


def _escalation(
    diagnosis: Diagnosis,
    top: Hypothesis | None,
    services: Sequence[ServiceInfo],
    why: str,
) -> Plan:
    target = top.root_cause.service if top else ""
    known = _find(services, target)
    namespace = known.namespace if known else (services[0].namespace if services else "")
    cites = _cites(diagnosis, top)
    action = make_action(
        ActionKind.ESCALATE,
        target,
        namespace,
        f"no automated action: {why}; evidence {cites} handed to a human",
    )
    return Plan(
        incident_id=diagnosis.incident_id,
        immediate=(action,),
        long_term=(),
        rationale=_rationale(diagnosis, top, f"escalate: {why}"),
    )


def _criterion(
    diagnosis: Diagnosis,
    top: Hypothesis,
    service: str,
    baseline: Mapping[str, float],
    window_s: float,
    onset: datetime | None,
    prefer: Sequence[MetricName] = (),
) -> Criterion:
    candidates = [*prefer, *_candidate_metrics(diagnosis, top, service)]
    for metric in dict.fromkeys(candidates):
        value = baseline.get(metric.value)
        if value is None:
            value = baseline_from_evidence(diagnosis, service, metric, onset)
        if value is not None:
            return recovery_criterion(metric, service, value, window_s)
    raise _NoActionError(f"no pre-onset baseline of {service} to verify a recovery against")


def _candidate_metrics(diagnosis: Diagnosis, top: Hypothesis, service: str) -> list[MetricName]:
    names: list[str] = []
    fault_metric = _FAULT_METRIC.get(top.fault or "")
    if fault_metric is not None:
        names.append(fault_metric.value)
    cited = [ev for ev in diagnosis.evidence if ev.id in top.evidence_ids]
    for ev in cited:
        names.extend(s.metric for s in ev.series if s.service == service)
        metric = ev.data.get("metric")
        if isinstance(metric, str) and ev.data.get("service", service) == service:
            names.append(metric)
    names.extend(m.value for m in _FALLBACK_METRICS)
    known = {m.value: m for m in MetricName}
    ordered: list[MetricName] = []
    for name in names:
        if name in known and known[name] not in ordered:
            ordered.append(known[name])
    return ordered


def _find(services: Sequence[ServiceInfo], name: str) -> ServiceInfo | None:
    return next((s for s in services if s.name == name), None)


def _cites(diagnosis: Diagnosis, top: Hypothesis | None) -> str:
    ids = top.evidence_ids if top and top.evidence_ids else tuple(e.id for e in diagnosis.evidence)
    return ", ".join(ids) if ids else "none"


def _rationale(diagnosis: Diagnosis, top: Hypothesis | None, decision: str) -> str:
    if top is None:
        return f"No hypothesis (confidence {diagnosis.confidence:.2f}). Decision: {decision}."
    cause = top.root_cause
    change = f" {cause.change}" if cause.change else ""
    return (
        f"Top hypothesis: {cause.category.value} of {cause.service}{change} "
        f"(score {top.score:.2f}, diagnosis confidence {diagnosis.confidence:.2f}). "
        f"Evidence: {_cites(diagnosis, top)}. Decision: {decision}."
    )
