"""The incident workflow's steps. Each is a DBOS step: recorded once it finishes.

Steps log `step.start`/`step.done` with their name, so a restarted server's log shows
that no finished step ran again.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from dbos import DBOS

from medic.action import execute as execute_action
from medic.action import verify as verify_criteria
from medic.diagnosis import diagnose as run_diagnosis
from medic.domain import (
    Approval,
    ApprovalDecision,
    ConflictError,
    Diagnosis,
    Execution,
    IncidentState,
    Plan,
    Postmortem,
    TimelineEntry,
    TransientError,
    Verification,
)
from medic.log import get_logger
from medic.remediation import plan as build_plan
from medic.scribe import render_postmortem
from medic.signals.grouping import all_resolved
from medic.workflows.context import deps

__all__ = [
    "SELF_RESOLVED_CHANNEL",
    "alerts_resolved",
    "approval_deadline",
    "auto_approval",
    "diagnose",
    "document",
    "execute",
    "finish",
    "long_term",
    "make_plan",
    "policy_allows",
    "read_decision",
    "request_approval",
    "seconds_left",
    "verify",
]

log = get_logger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

TRANSIENT_ATTEMPTS = 3

# The channel of the decision recorded when every alert resolved before a human
# decided: it takes the plan's one decision slot, so a later approval gets a 409.
SELF_RESOLVED_CHANNEL = "self-resolved"


def _step(fn: Callable[P, R]) -> Callable[P, R]:
    """A DBOS step that logs its runs and retries TransientErrors with backoff."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        incident_id = str(args[0]) if args else ""
        log.info("step.start", step=fn.__name__, incident_id=incident_id)
        for attempt in range(1, TRANSIENT_ATTEMPTS + 1):
            try:
                result = fn(*args, **kwargs)
            except TransientError as exc:
                if attempt == TRANSIENT_ATTEMPTS:
                    raise
                log.warning("step.retry", step=fn.__name__, attempt=attempt, error=str(exc))
                deps().clock.sleep(2.0**attempt)
            else:
                log.info("step.done", step=fn.__name__, incident_id=incident_id)
                return result
        raise AssertionError("unreachable")

    return DBOS.step(name=fn.__name__)(run)


def _note(incident_id: str, kind: str, message: str, key: str, **data: str | float | None) -> None:
    d = deps()
    d.store.add_timeline(
        incident_id,
        TimelineEntry(at=d.clock.now(), kind=kind, message=message, data=data),
        key=key,
    )


def _current_plan(incident_id: str, plan_hash: str) -> Plan:
    plan = deps().store.plan(incident_id)
    if plan is None or plan.hash != plan_hash:
        raise ConflictError(f"incident {incident_id}: plan {plan_hash[:12]} is no longer current")
    return plan


@_step
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
    )
    d.store.save_diagnosis(diagnosis)
    _note(
        incident_id,
        "diagnosis",
        diagnosis.summary,
        "diagnosis",
        confidence=round(diagnosis.confidence, 3),
    )
    return diagnosis


@_step
def make_plan(incident_id: str, diagnosis: Diagnosis) -> Plan:
    d = deps()
    namespace = d.store.get_incident(incident_id).namespace or d.namespace
    services = d.cluster.services(namespace)
    history = {}
    top = diagnosis.top
    if top is not None and any(s.name == top.root_cause.service for s in services):
        service = top.root_cause.service
        history[service] = d.cluster.rollout_history(namespace, service)
    plan = build_plan(diagnosis, services, history)
    d.store.save_plan(plan)
    actions = ", ".join(f"{a.kind.value} {a.target}" for a in plan.immediate) or "nothing"
    _note(incident_id, "plan", f"proposed: {actions}", "plan", plan_hash=plan.hash)
    return plan


@_step
def policy_allows(incident_id: str, plan_hash: str) -> bool:
    plan = _current_plan(incident_id, plan_hash)
    allowed = deps().policy.allows(plan)
    if not allowed:
        _note(incident_id, "policy", "policy forbids acting on this plan", "policy")
    return allowed


@_step
def auto_approval(incident_id: str, plan_hash: str) -> Approval | None:
    d = deps()
    plan = _current_plan(incident_id, plan_hash)
    if d.policy.requires_approval(plan):
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
    recorded = _record(approval)
    _note(incident_id, "approval", "auto-approved by policy", "approval", actor="policy")
    return recorded


@_step
def request_approval(incident_id: str, plan_hash: str) -> float:
    d = deps()
    _current_plan(incident_id, plan_hash)
    d.store.set_state(incident_id, IncidentState.AWAITING_APPROVAL, d.clock.now())
    _note(
        incident_id,
        "approval",
        "waiting for a human to approve the plan",
        "approval-requested",
        plan_hash=plan_hash,
    )
    return d.approval_timeout_s


@_step
def alerts_resolved(incident_id: str) -> bool:
    """Whether every alert of the incident has resolved (watchdog findings never do)."""
    return all_resolved(deps().store.signals_of(incident_id))


@_step
def approval_deadline(incident_id: str, timeout: float) -> float:
    """When the approval request expires, in wall-clock seconds (recorded once)."""
    return time.time() + timeout


@_step
def seconds_left(incident_id: str, deadline: float) -> float:
    return max(0.0, deadline - time.time())


@_step
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
        approval = _record(
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
    if approval.decision is not ApprovalDecision.EXPIRED:
        verb = "approved" if approval.decision is ApprovalDecision.APPROVED else "rejected"
        _note(
            incident_id,
            "approval",
            f"{verb} by {approval.actor} via {approval.channel}",
            "approval-decided",
            actor=approval.actor,
            reason=approval.reason or None,
        )
    return approval


def _record(approval: Approval) -> Approval:
    """Record a decision; if another decision won the race, that one stands."""
    store = deps().store
    try:
        return store.record_approval(approval)
    except ConflictError:
        for prior in store.approvals(approval.incident_id):
            if prior.plan_hash == approval.plan_hash:
                return prior
        raise


@_step
def execute(incident_id: str, plan_hash: str, index: int) -> Execution:
    d = deps()
    action = _current_plan(incident_id, plan_hash).immediate[index]
    d.store.set_state(incident_id, IncidentState.EXECUTING, d.clock.now())
    key = f"{incident_id}:{plan_hash[:16]}:now:{index}"
    execution = execute_action(action, d.writer, d.cluster, d.code, d.clock, key)
    d.store.record_execution(incident_id, execution)
    _note(
        incident_id,
        "execution",
        f"{action.kind.value} {action.target}: {execution.status.value} {execution.detail}",
        f"execution:{key}",
        command=action.command,
    )
    return execution


@_step
def verify(incident_id: str, plan_hash: str) -> Verification:
    d = deps()
    plan = _current_plan(incident_id, plan_hash)
    d.store.set_state(incident_id, IncidentState.VERIFYING, d.clock.now())
    criteria = [c for a in plan.immediate for c in a.verification]
    namespace = plan.immediate[0].namespace if plan.immediate else d.namespace
    verification = verify_criteria(
        criteria, d.metrics, namespace, d.clock, d.verification_window_s, d.verification_poll_s
    )
    d.store.save_verification(incident_id, verification)
    _note(
        incident_id,
        "verification",
        f"{verification.outcome.value}: {verification.detail}",
        "verification",
    )
    return verification


@_step
def long_term(incident_id: str, plan_hash: str, index: int) -> Execution:
    d = deps()
    action = _current_plan(incident_id, plan_hash).long_term[index]
    key = f"{incident_id}:{plan_hash[:16]}:later:{index}"
    execution = execute_action(action, d.writer, d.cluster, d.code, d.clock, key)
    d.store.record_execution(incident_id, execution)
    _note(
        incident_id,
        "follow-up",
        f"{action.kind.value} {action.target}: {execution.status.value} {execution.detail}",
        f"execution:{key}",
    )
    return execution


@_step
def finish(incident_id: str, state: IncidentState, reason: str) -> None:
    d = deps()
    d.store.set_state(incident_id, state, d.clock.now())
    _note(incident_id, "incident", f"{state.value}: {reason}", "closed")


@_step
def document(incident_id: str) -> str:
    d = deps()
    store = d.store
    markdown = render_postmortem(
        store.get_incident(incident_id),
        store.timeline(incident_id),
        store.diagnosis(incident_id),
        store.plan(incident_id),
        store.approvals(incident_id),
        store.executions(incident_id),
        store.verification(incident_id),
    )
    path = _write_atomically(d.postmortem_dir / f"{incident_id}.md", markdown)
    store.save_postmortem(
        Postmortem(
            incident_id=incident_id,
            title=f"Post-mortem {incident_id}",
            markdown=markdown,
            path=str(path),
        )
    )
    _note(incident_id, "postmortem", f"post-mortem written to {path}", "postmortem")
    return str(path)


def _write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
