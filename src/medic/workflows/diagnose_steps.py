"""Steps that understand the incident: diagnose, refine (the optional LLM), plan."""

from __future__ import annotations

from dataclasses import replace

from medic.action.audit import entry_key, plan_entry
from medic.diagnosis import diagnose as run_diagnosis
from medic.diagnosis.log_templates import with_log_patterns
from medic.domain import (
    AgentReview,
    AgentStatus,
    Diagnosis,
    IncidentState,
    Plan,
    ServiceKind,
)
from medic.domain.audit import AuditKind
from medic.remediation import plan as build_plan
from medic.remediation.handover import hand_over
from medic.workflows.context import deps
from medic.workflows.step import note, step

__all__ = ["diagnose", "make_plan", "refine"]

_NO_EXECUTOR = "no executor is configured (no Kubernetes): medic proposes, a human acts"


@step
def diagnose(incident_id: str) -> Diagnosis:
    d = deps()
    incident = d.store.set_state(incident_id, IncidentState.DIAGNOSING, d.clock.now())
    diagnosis = run_diagnosis(
        incident,
        d.store.signals_of(incident_id),
        metrics=d.metrics,
        changes=d.changes,
        cluster=d.cluster,
        logs=d.logs,
        now=d.clock.now(),
        events=d.events,
        namespace=d.namespace,
    )
    diagnosis = with_log_patterns(
        diagnosis, d.logs, incident.namespace or d.namespace, incident.service, d.clock.now()
    )
    d.store.save_diagnosis(diagnosis)
    note(
        incident_id,
        "diagnosis",
        diagnosis.summary,
        "diagnosis",
        confidence=round(diagnosis.confidence, 3),
    )
    return diagnosis


@step
def refine(incident_id: str, diagnosis: Diagnosis) -> Diagnosis:
    """The LLM agent's pass over the deterministic diagnosis; it never raises, and on any
    failure the deterministic diagnosis stands."""
    d = deps()
    if d.refiner is None:
        return diagnosis
    try:
        refined = d.refiner(diagnosis, d.store.get_incident(incident_id))
    # The workflow boundary: whatever the agent raised, the incident goes on.
    except Exception as e:  # noqa: BLE001
        why = f"the deterministic diagnosis stands: {type(e).__name__}: {str(e)[:300]}"
        refined = replace(diagnosis, agent=AgentReview(AgentStatus.MODEL_ERROR, why))
    review = refined.agent or AgentReview(AgentStatus.MODEL_ERROR, "the agent said nothing")
    d.store.save_diagnosis(refined)
    note(
        incident_id,
        "llm",
        review.headline,
        "llm",
        llm_tokens=review.tokens,
        llm_status=review.status.value,
        llm_requests=review.requests,
    )
    return refined


@step
def make_plan(incident_id: str, diagnosis: Diagnosis) -> Plan:
    d = deps()
    incident = d.store.get_incident(incident_id)
    namespace = incident.namespace or d.namespace
    services = d.cluster.services(namespace)
    history = {}
    top = diagnosis.top
    deployable = {s.name for s in services if s.kind is not ServiceKind.EXTERNAL}
    if top is not None and top.root_cause.service in deployable:
        service = top.root_cause.service
        history[service] = d.cluster.rollout_history(namespace, service)
    plan = build_plan(diagnosis, services, history)
    if not d.can_act:
        hosts = {s.name: s.nodes for s in services} if d.targets == "hosts" else None
        fault = top.fault if top else None
        plan = hand_over(plan, _NO_EXECUTOR, hosts=hosts, fault=fault, service=incident.service)
    d.store.save_plan(plan)
    d.store.audit.append(
        plan_entry(plan, d.clock.now()), key=entry_key(AuditKind.PLAN, incident_id, plan.hash)
    )
    actions = ", ".join(f"{a.kind.value} {a.target}" for a in plan.immediate) or "nothing"
    note(incident_id, "plan", f"proposed: {actions}", "plan", plan_hash=plan.hash)
    return plan
