"""The incident workflow: one durable run per incident, its id the incident's id.

diagnose -> plan -> (every alert resolved? self-resolved) -> (policy) -> await approval
(or every alert resolved meanwhile) -> execute -> verify -> long-term fix -> document.
Every call that touches the world or the store is a DBOS step, so a crash resumes
after the last finished step; actions carry idempotency keys so a step cut short
mid-action never acts twice.
"""

from __future__ import annotations

from dbos import DBOS

from medic.domain import (
    ActionKind,
    Approval,
    ApprovalDecision,
    Diagnosis,
    ExecutionStatus,
    IncidentState,
    Plan,
    VerificationOutcome,
)
from medic.log import get_logger
from medic.workflows import steps

__all__ = ["APPROVAL_TOPIC", "SELF_RESOLVED_REASON", "incident_workflow"]

log = get_logger(__name__)

APPROVAL_TOPIC = "approval"
SELF_RESOLVED_REASON = "every alert resolved before medic acted"


@DBOS.workflow()
def incident_workflow(incident_id: str) -> str:
    """Drive one incident to a terminal state; returns that state's value."""
    diagnosis = steps.diagnose(incident_id)
    plan = steps.make_plan(incident_id, diagnosis)
    if steps.alerts_resolved(incident_id):
        return _close(incident_id, IncidentState.SELF_RESOLVED, SELF_RESOLVED_REASON)
    if not plan.acts:
        return _close(incident_id, IncidentState.ESCALATED, _escalation_reason(diagnosis))
    if not steps.policy_allows(incident_id, plan.hash):
        return _close(incident_id, IncidentState.ESCALATED, "policy does not allow acting here")
    approval = _obtain_approval(incident_id, plan)
    if approval.channel == steps.SELF_RESOLVED_CHANNEL:
        return _close(incident_id, IncidentState.SELF_RESOLVED, SELF_RESOLVED_REASON)
    if approval.decision is ApprovalDecision.EXPIRED:
        return _close(incident_id, IncidentState.ESCALATED, "approval request expired")
    if approval.decision is ApprovalDecision.REJECTED:
        return _close(incident_id, IncidentState.REJECTED, f"rejected: {approval.reason}")
    executions = [
        steps.execute(incident_id, plan.hash, index) for index in range(len(plan.immediate))
    ]
    failed = [e for e in executions if e.status is ExecutionStatus.FAILED]
    if failed:
        return _close(incident_id, IncidentState.ESCALATED, f"action failed: {failed[0].detail}")
    verification = steps.verify(incident_id, plan.hash)
    if verification.outcome is not VerificationOutcome.RECOVERED:
        return _close(
            incident_id,
            IncidentState.ESCALATED,
            f"verification {verification.outcome.value}: {verification.detail}",
        )
    for index, action in enumerate(plan.long_term):
        if action.kind is not ActionKind.ESCALATE:
            steps.long_term(incident_id, plan.hash, index)
    return _close(incident_id, IncidentState.RESOLVED, verification.detail)


def _obtain_approval(incident_id: str, plan: Plan) -> Approval:
    auto = steps.auto_approval(incident_id, plan.hash)
    if auto is not None:
        return auto
    timeout = steps.request_approval(incident_id, plan.hash)
    deadline = steps.approval_deadline(incident_id, timeout)
    # A message only wakes us (a decision, or every alert resolved); the store holds
    # what happened. A wake-up with nothing decided goes back to waiting until the
    # deadline, which is when the request expires.
    while True:
        DBOS.recv(APPROVAL_TOPIC, timeout_seconds=timeout)
        timeout = steps.seconds_left(incident_id, deadline)
        decision = steps.read_decision(incident_id, plan.hash, timeout <= 0)
        if decision is not None:
            return decision


def _close(incident_id: str, state: IncidentState, reason: str) -> str:
    steps.finish(incident_id, state, reason)
    steps.document(incident_id)
    return state.value


def _escalation_reason(diagnosis: Diagnosis) -> str:
    if not diagnosis.conclusive:
        return f"diagnosis inconclusive (confidence {diagnosis.confidence:.2f})"
    return "the plan hands this to a human (no safe automated action)"
