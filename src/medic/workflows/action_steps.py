"""Steps that touch the system: execute, verify, undo, the long-term fix; then close
and document. Every write carries an idempotency key derived from the plan."""

from __future__ import annotations

from pathlib import Path

from medic.action import execute as execute_action
from medic.action import verify as verify_criteria
from medic.action.audit import entry_key, execution_entry, verification_entry
from medic.action.undo import inverse
from medic.domain import (
    Execution,
    IncidentState,
    Postmortem,
    RevertContext,
    Verification,
)
from medic.domain.audit import AuditKind
from medic.domain.code import EvidenceLink
from medic.scribe import render_postmortem
from medic.workflows.context import deps
from medic.workflows.guarding import execution_guard
from medic.workflows.step import current_plan, note, step

__all__ = ["document", "execute", "finish", "long_term", "undo", "verify"]


def _key(incident_id: str, plan_hash: str, phase: str, index: int) -> str:
    return f"{incident_id}:{plan_hash[:16]}:{phase}:{index}"


def _recorded(
    incident_id: str, plan_hash: str, execution: Execution, kind: str, undo: bool = False
) -> None:
    d = deps()
    action = execution.action
    d.store.record_execution(incident_id, execution)
    kind = AuditKind.UNDO if undo else AuditKind.EXECUTION
    d.store.audit.append(
        execution_entry(incident_id, plan_hash, execution, undo=undo),
        key=entry_key(kind, incident_id, execution.idempotency_key),
    )
    note(
        incident_id,
        kind,
        f"{action.kind.value} {action.target}: {execution.status.value} {execution.detail}",
        f"execution:{execution.idempotency_key}",
        command=action.command,
    )


@step
def execute(incident_id: str, plan_hash: str, index: int) -> Execution:
    d = deps()
    action = current_plan(incident_id, plan_hash).immediate[index]
    d.store.set_state(incident_id, IncidentState.EXECUTING, d.clock.now())
    key = _key(incident_id, plan_hash, "now", index)
    guard = execution_guard(incident_id)
    execution = execute_action(action, d.writer, d.cluster, d.code, d.clock, key, guard=guard)
    _recorded(incident_id, plan_hash, execution, "execution")
    return execution


@step
def verify(incident_id: str, plan_hash: str) -> Verification:
    d = deps()
    plan = current_plan(incident_id, plan_hash)
    d.store.set_state(incident_id, IncidentState.VERIFYING, d.clock.now())
    criteria = [c for a in plan.immediate for c in a.verification]
    namespace = plan.immediate[0].namespace if plan.immediate else d.namespace
    verification = verify_criteria(
        criteria, d.metrics, namespace, d.clock, d.verification_window_s, d.verification_poll_s
    )
    d.store.save_verification(incident_id, verification)
    d.store.audit.append(
        verification_entry(incident_id, plan_hash, verification),
        key=entry_key(AuditKind.VERIFICATION, incident_id, plan_hash),
    )
    note(
        incident_id,
        "verification",
        f"{verification.outcome.value}: {verification.detail}",
        "verification",
    )
    return verification


@step
def undo(incident_id: str, plan_hash: str, index: int) -> str:
    """Put back what the immediate action `index` changed; say what was done."""
    d = deps()
    action = current_plan(incident_id, plan_hash).immediate[index]
    back = inverse(action)
    if back is None:
        message = f"{action.kind.value} {action.target} has no automatic undo: {action.undo}"
        note(incident_id, "undo", message, f"undo:{index}")
        return message
    key = _key(incident_id, plan_hash, "undo", index)
    guard = execution_guard(incident_id, undo=True)
    execution = execute_action(back, d.writer, d.cluster, d.code, d.clock, key, guard=guard)
    _recorded(incident_id, plan_hash, execution, "undo", undo=True)
    return f"undid {action.kind.value} {action.target}: {execution.status.value}"


@step
def long_term(incident_id: str, plan_hash: str, index: int) -> Execution:
    d = deps()
    action = current_plan(incident_id, plan_hash).long_term[index]
    key = _key(incident_id, plan_hash, "later", index)
    execution = execute_action(
        action,
        d.writer,
        d.cluster,
        d.code,
        d.clock,
        key,
        guard=execution_guard(incident_id),
        context=_revert_context(incident_id),
    )
    _recorded(incident_id, plan_hash, execution, "follow-up")
    return execution


def _revert_context(incident_id: str) -> RevertContext:
    """What a revert pull request says about the incident, with links to the evidence."""
    d = deps()
    diagnosis = d.store.diagnosis(incident_id)
    url = f"{d.base_url}/ui/incidents/{incident_id}"
    if diagnosis is None or diagnosis.top is None:
        return RevertContext(incident_id=incident_id, incident_url=url)
    top = diagnosis.top
    cited = set(top.evidence_ids)
    return RevertContext(
        incident_id=incident_id,
        summary=diagnosis.summary,
        root_cause=f"{top.root_cause.category.value} of {top.root_cause.service}"
        + (f" ({top.root_cause.change})" if top.root_cause.change else ""),
        incident_url=url,
        evidence=tuple(
            EvidenceLink(id=e.id, summary=e.summary, url=f"{url}#{e.id}")
            for e in diagnosis.evidence
            if e.id in cited
        ),
    )


@step
def finish(incident_id: str, state: IncidentState, reason: str) -> None:
    d = deps()
    d.store.set_state(incident_id, state, d.clock.now())
    note(incident_id, "incident", f"{state.value}: {reason}", "closed")


@step
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
    # The timeline first: once the record names the post-mortem, the incident is whole.
    note(incident_id, "postmortem", f"post-mortem written to {path}", "postmortem")
    store.save_postmortem(
        Postmortem(
            incident_id=incident_id,
            title=f"Post-mortem {incident_id}",
            markdown=markdown,
            path=str(path),
        )
    )
    return str(path)


def _write_atomically(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path
