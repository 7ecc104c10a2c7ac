"""Steps around the decision: policy, the approval request (API, CLI, web, Slack), the
human's answer, expiry and self-resolution."""

from __future__ import annotations

from medic.action.audit import approval_entry, entry_key, policy_entry
from medic.action.policy import PolicyContext, PolicyDecision, decide_policy, recent_actions
from medic.domain import Approval, ApprovalDecision, ConflictError, IncidentState, MedicError, Plan
from medic.domain.audit import AuditKind
from medic.log import get_logger
from medic.ports import MessageRef
from medic.signals.grouping import all_resolved
from medic.workflows.context import deps
from medic.workflows.step import current_plan, note, step

__all__ = [
    "SELF_RESOLVED_CHANNEL",
    "WAKE_EVERY_S",
    "alerts_resolved",
    "approval_deadline",
    "auto_approval",
    "decision_key",
    "paused",
    "policy_allows",
    "policy_decision",
    "read_decision",
    "record",
    "request_approval",
    "seconds_left",
    "still_allowed",
]

log = get_logger(__name__)

# The channel of the decision recorded when every alert resolved before a human
# decided: it takes the plan's one decision slot, so a later approval gets a 409.
SELF_RESOLVED_CHANNEL = "self-resolved"

# The longest real wait for a message between two looks at the approval deadline: the
# deadline is the injected clock's, which may run faster than real time.
WAKE_EVERY_S = 60.0


def policy_decision(incident_id: str, plan: Plan) -> PolicyDecision:
    """The policy's answer for this plan now: kill switch, freezes, rate limits, approvers."""
    d = deps()
    now = d.clock.now()
    pause = d.store.control.pause_state()
    window = d.policy.longest_rate_window
    recent = recent_actions(d.store.control.executions_since(now - window)) if window else ()
    context = PolicyContext(pause.paused, pause.actor, pause.reason, recent)
    return decide_policy(d.policy, plan, d.store.get_incident(incident_id), now, context)


@step
def policy_allows(incident_id: str, plan_hash: str) -> tuple[bool, str]:
    d = deps()
    decision = policy_decision(incident_id, current_plan(incident_id, plan_hash))
    d.store.audit.append(
        policy_entry(
            incident_id,
            plan_hash,
            d.clock.now(),
            decision.allowed,
            decision.requires_approval,
            decision.reason,
        ),
        key=entry_key(AuditKind.POLICY, incident_id, plan_hash),
    )
    if not decision.allowed:
        note(incident_id, "policy", f"policy forbids acting: {decision.reason}", "policy")
    return decision.allowed, decision.reason


@step
def still_allowed(incident_id: str, plan_hash: str) -> str:
    """Empty when the plan may still run; else why not (a freeze or pause began)."""
    decision = policy_decision(incident_id, current_plan(incident_id, plan_hash))
    return "" if decision.allowed else decision.reason


@step
def paused(incident_id: str) -> str:
    """Empty unless the kill switch is on; then its reason."""
    state = deps().store.control.pause_state()
    return (state.reason or f"paused by {state.actor}") if state.paused else ""


@step
def auto_approval(incident_id: str, plan_hash: str) -> Approval | None:
    d = deps()
    if policy_decision(incident_id, current_plan(incident_id, plan_hash)).requires_approval:
        return None
    approval = Approval(
        incident_id=incident_id,
        plan_hash=plan_hash,
        decision=ApprovalDecision.APPROVED,
        actor="policy",
        at=d.clock.now(),
        channel="policy",
        reason="auto-approved by policy",
    )
    recorded = record(approval)
    d.store.audit.append(approval_entry(recorded), key=decision_key(incident_id, plan_hash))
    note(incident_id, "approval", "auto-approved by policy", "approval", actor="policy")
    return recorded


@step
def request_approval(incident_id: str, plan_hash: str) -> float:
    d = deps()
    plan = current_plan(incident_id, plan_hash)
    d.store.set_state(incident_id, IncidentState.AWAITING_APPROVAL, d.clock.now())
    ref = _post_request(incident_id, plan)
    note(
        incident_id,
        "approval",
        "waiting for a human to approve the plan",
        "approval-requested",
        plan_hash=plan_hash,
        chat_channel=ref.channel if ref else None,
        chat_ts=ref.ts if ref else None,
    )
    return d.approval_timeout_s


def _post_request(incident_id: str, plan: Plan) -> MessageRef | None:
    """Ask in chat too, when configured; chat being down never blocks the approval."""
    d = deps()
    if d.chatops is None:
        return None
    diagnosis = d.store.diagnosis(incident_id)
    incident = d.store.get_incident(incident_id)
    try:
        return d.chatops.request_approval(
            incident, diagnosis, plan, f"{d.base_url}/ui/incidents/{incident_id}"
        )
    except MedicError as exc:
        log.warning("chatops.request_failed", incident_id=incident_id, error=str(exc))
        return None


def _post_decision(incident_id: str, approval: Approval) -> None:
    d = deps()
    if d.chatops is None:
        return
    for entry in d.store.timeline(incident_id):
        channel, ts = entry.data.get("chat_channel"), entry.data.get("chat_ts")
        if isinstance(channel, str) and isinstance(ts, str):
            try:
                d.chatops.record_decision(MessageRef(channel, ts), approval)
            except MedicError as exc:
                log.warning("chatops.update_failed", incident_id=incident_id, error=str(exc))
            return


@step
def alerts_resolved(incident_id: str) -> bool:
    """Whether every alert of the incident has resolved (watchdog findings never do)."""
    return all_resolved(deps().store.signals_of(incident_id))


@step
def approval_deadline(incident_id: str, timeout: float) -> float:
    """When the approval request expires, as the injected clock's Unix seconds
    (recorded once, so a restart keeps the deadline)."""
    return deps().clock.now().timestamp() + timeout


@step
def seconds_left(incident_id: str, deadline: float) -> float:
    """The injected clock's seconds until `deadline`."""
    return max(0.0, deadline - deps().clock.now().timestamp())


@step
def read_decision(incident_id: str, plan_hash: str, expire: bool) -> Approval | None:
    """The decision recorded for this plan; else, if every alert resolved meanwhile, a
    self-resolved one; else, once `expire`, an expired one; else None (keep waiting)."""
    d = deps()
    for approval in d.store.approvals(incident_id):
        if approval.plan_hash == plan_hash:
            break
    else:
        if all_resolved(d.store.signals_of(incident_id)):
            channel, reason = SELF_RESOLVED_CHANNEL, "every alert resolved before a decision"
        elif expire:
            channel, reason = "timeout", f"no decision within {d.approval_timeout_s:.0f}s"
        else:
            return None
        approval = record(
            Approval(
                incident_id=incident_id,
                plan_hash=plan_hash,
                decision=ApprovalDecision.EXPIRED,
                actor="medic",
                at=d.clock.now(),
                channel=channel,
                reason=reason,
            )
        )
        # If a human's decision won the race, record() returned it and decide() has
        # appended its entry under the same key: nothing is appended twice.
        d.store.audit.append(approval_entry(approval), key=decision_key(incident_id, plan_hash))
    if approval.decision is not ApprovalDecision.EXPIRED:
        verb = "approved" if approval.decision is ApprovalDecision.APPROVED else "rejected"
        note(
            incident_id,
            "approval",
            f"{verb} by {approval.actor} via {approval.channel}",
            "approval-decided",
            actor=approval.actor,
            reason=approval.reason or None,
        )
    _post_decision(incident_id, approval)
    return approval


def decision_key(incident_id: str, plan_hash: str) -> str:
    """The audit key of a plan's one decision, whichever channel recorded it."""
    return entry_key(AuditKind.APPROVAL, incident_id, plan_hash)


def record(approval: Approval) -> Approval:
    """Record a decision; if another decision won the race, that one stands."""
    store = deps().store
    try:
        return store.record_approval(approval)
    except ConflictError:
        for prior in store.approvals(approval.incident_id):
            if prior.plan_hash == approval.plan_hash:
                return prior
        raise
