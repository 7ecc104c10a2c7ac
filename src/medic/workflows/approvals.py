"""Human decisions reach waiting workflows here, from the API, the CLI or the web."""

from __future__ import annotations

from dbos import DBOS

from medic.action import check_decision
from medic.action.audit import approval_entry
from medic.action.policy import check_approver
from medic.domain import Approval, ApprovalDecision, IncidentState
from medic.domain.audit import FIRST_APPROVAL
from medic.log import get_logger
from medic.workflows.approval_steps import decision_key, policy_decision
from medic.workflows.context import deps
from medic.workflows.incident import APPROVAL_TOPIC

__all__ = ["decide", "redeliver_decisions"]

log = get_logger(__name__)


def decide(
    incident_id: str,
    plan_hash: str,
    decision: ApprovalDecision,
    actor: str,
    channel: str,
    reason: str = "",
) -> Approval:
    """Record a human's decision on the exact plan it names, then wake the workflow.

    Raises NotFoundError (no such incident or plan) or ConflictError (stale hash, already
    decided, not awaiting approval, not an approver the policy names, the same person
    approving twice). A high-risk plan that needs two approvers returns a PENDING
    decision for the first; the second approval is the one recorded. The store's record
    is the truth; the message is only a wake-up, redelivered at start-up if a crash
    swallowed it.
    """
    d = deps()
    incident = d.store.get_incident(incident_id)
    plan = d.store.plan(incident_id)
    check_decision(plan, incident, plan_hash, d.store.approvals(incident_id))
    proposed = Approval(
        incident_id=incident_id,
        plan_hash=plan_hash,
        decision=decision,
        actor=actor,
        at=d.clock.now(),
        channel=channel,
        reason=reason,
    )
    if decision is ApprovalDecision.APPROVED and plan is not None:
        verdict = policy_decision(incident_id, plan)
        check_approver(verdict, actor)
        if verdict.second_approver:
            return _approve_as_one_of_two(proposed)
    approval = d.store.record_approval(proposed)
    d.store.audit.append(approval_entry(approval), key=decision_key(incident_id, plan_hash))
    _wake(incident_id, plan_hash)
    log.info("approval.recorded", incident_id=incident_id, decision=decision.value, actor=actor)
    return approval


def _approve_as_one_of_two(proposed: Approval) -> Approval:
    """High risk: the first approver's approval counts and the plan waits (PENDING);
    a second, different approver's is the decision. The store settles who is which,
    atomically, so two approvers at the same instant are one first and one final."""
    incident_id, plan_hash = proposed.incident_id, proposed.plan_hash
    key = decision_key(incident_id, plan_hash)
    approval = deps().store.record_approval_of_two(
        proposed, approval_entry(proposed, outcome=FIRST_APPROVAL), approval_entry(proposed), key
    )
    if approval.decision is ApprovalDecision.PENDING:
        log.info("approval.first_of_two", incident_id=incident_id, actor=proposed.actor)
        return approval
    _wake(incident_id, plan_hash)
    log.info(
        "approval.recorded", incident_id=incident_id, decision="approved", actor=proposed.actor
    )
    return approval


def _wake(incident_id: str, plan_hash: str) -> None:
    DBOS.send(
        incident_id,
        {"plan_hash": plan_hash},
        topic=APPROVAL_TOPIC,
        idempotency_key=f"approval:{incident_id}:{plan_hash}",
    )


def redeliver_decisions() -> int:
    """Wake every workflow still waiting although its decision is recorded."""
    d = deps()
    woken = 0
    for incident in d.store.incidents_in([IncidentState.AWAITING_APPROVAL]):
        plan = d.store.plan(incident.id)
        if plan is None:
            continue
        if any(
            a.plan_hash == plan.hash and a.decision is not ApprovalDecision.EXPIRED
            for a in d.store.approvals(incident.id)
        ):
            _wake(incident.id, plan.hash)
            woken += 1
    return woken
