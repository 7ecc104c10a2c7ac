"""The incident workflow: one durable run per incident, its id the incident's id.

diagnose -> (LLM refine) -> plan -> (every alert resolved? self-resolved) -> policy ->
await approval (or every alert resolved meanwhile) -> policy again (a freeze or the kill
switch may have begun) -> execute -> verify (failure: undo, escalate) -> long-term fix
-> document. Every call that touches the world or the store is a DBOS step, so a crash
resumes after the last finished step; actions carry idempotency keys so a step cut
short mid-action never acts twice.
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
from medic.workflows import action_steps, approval_steps, diagnose_steps, paging_steps

__all__ = ["APPROVAL_TOPIC", "SELF_RESOLVED_REASON", "incident_workflow"]

log = get_logger(__name__)

APPROVAL_TOPIC = "approval"
SELF_RESOLVED_REASON = "every alert resolved before medic acted"


@DBOS.workflow()
def incident_workflow(incident_id: str) -> str:
    """Drive one incident to a terminal state; returns that state's value."""
    diagnosis = diagnose_steps.diagnose(incident_id)
    diagnosis = diagnose_steps.refine(incident_id, diagnosis)
    plan = diagnose_steps.make_plan(incident_id, diagnosis)
    if approval_steps.alerts_resolved(incident_id):
        return _close(incident_id, IncidentState.SELF_RESOLVED, SELF_RESOLVED_REASON)
    if not plan.acts:
        return _close(incident_id, IncidentState.ESCALATED, _escalation_reason(diagnosis))
    allowed, why = approval_steps.policy_allows(incident_id, plan.hash)
    if not allowed:
        return _close(incident_id, IncidentState.ESCALATED, f"policy: {why}")
    approval = _obtain_approval(incident_id, plan)
    if approval.channel == approval_steps.SELF_RESOLVED_CHANNEL:
        return _close(incident_id, IncidentState.SELF_RESOLVED, SELF_RESOLVED_REASON)
    if approval.decision is ApprovalDecision.EXPIRED:
        return _close(incident_id, IncidentState.ESCALATED, "approval request expired")
    if approval.decision is ApprovalDecision.REJECTED:
        return _close(incident_id, IncidentState.REJECTED, f"rejected: {approval.reason}")
    blocked = approval_steps.still_allowed(incident_id, plan.hash)
    if blocked:
        return _close(incident_id, IncidentState.ESCALATED, f"policy: {blocked}")
    return _act(incident_id, plan)


def _act(incident_id: str, plan: Plan) -> str:
    for index in range(len(plan.immediate)):
        stop = approval_steps.paused(incident_id)
        if stop:
            return _close(incident_id, IncidentState.ESCALATED, f"kill switch: {stop}")
        execution = action_steps.execute(incident_id, plan.hash, index)
        if execution.status in (ExecutionStatus.FAILED, ExecutionStatus.REFUSED):
            return _close(
                incident_id,
                IncidentState.ESCALATED,
                f"action {execution.status.value}: {execution.detail}",
            )
    verification = action_steps.verify(incident_id, plan.hash)
    if verification.outcome is VerificationOutcome.NOT_RECOVERED:
        # The action did not help: put the system back as it was, then hand over.
        undone = [action_steps.undo(incident_id, plan.hash, i) for i in range(len(plan.immediate))]
        return _close(
            incident_id,
            IncidentState.ESCALATED,
            f"not recovered ({verification.detail}); {'; '.join(undone)}",
        )
    if verification.outcome is VerificationOutcome.INCONCLUSIVE:
        return _close(
            incident_id,
            IncidentState.ESCALATED,
            f"verification inconclusive (never counted as success): {verification.detail}",
        )
    for index, action in enumerate(plan.long_term):
        if action.kind is not ActionKind.ESCALATE:
            action_steps.long_term(incident_id, plan.hash, index)
    return _close(incident_id, IncidentState.RESOLVED, verification.detail)


def _obtain_approval(incident_id: str, plan: Plan) -> Approval:
    auto = approval_steps.auto_approval(incident_id, plan.hash)
    if auto is not None:
        return auto
    timeout = approval_steps.request_approval(incident_id, plan.hash)
    deadline = approval_steps.approval_deadline(incident_id, timeout)
    # A message only wakes us (a decision, or every alert resolved); the store holds
    # what happened. A wake-up with nothing decided goes back to waiting until the
    # deadline, which is when the request expires.
    while True:
        DBOS.recv(APPROVAL_TOPIC, timeout_seconds=min(timeout, approval_steps.WAKE_EVERY_S))
        timeout = approval_steps.seconds_left(incident_id, deadline)
        decision = approval_steps.read_decision(incident_id, plan.hash, timeout <= 0)
        if decision is not None:
            return decision


def _close(incident_id: str, state: IncidentState, reason: str) -> str:
    action_steps.finish(incident_id, state, reason)
    if state is IncidentState.ESCALATED:
        paging_steps.page(incident_id, reason)
    action_steps.document(incident_id)
    return state.value


def _escalation_reason(diagnosis: Diagnosis) -> str:
    if not diagnosis.conclusive:
        return f"diagnosis inconclusive (confidence {diagnosis.confidence:.2f})"
    return "the plan hands this to a human (no safe automated action)"
