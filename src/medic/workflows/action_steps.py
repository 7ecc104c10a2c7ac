"""Steps that touch the system: execute, verify, undo, the long-term fix; then close
and document. Every write carries an idempotency key derived from the plan."""

from __future__ import annotations

from medic.action import execute as execute_action
from medic.action.audit import entry_key, execution_entry, verification_entry
from medic.action.executor import (
    RolloutCheck,
    rollout_check,
    rollout_finished,
    waits_for_rollout,
)
from medic.action.undo import inverse, no_undo_reason
from medic.action.verify import Progress
from medic.action.verify import begin as begin_verification
from medic.action.verify import poll as poll_verification
from medic.domain import (
    Criterion,
    Execution,
    IncidentState,
    Plan,
    RevertContext,
    Verification,
)
from medic.domain.audit import AuditKind
from medic.domain.code import EvidenceLink
from medic.log import get_logger
from medic.scribe.publish import Scribe
from medic.workflows.context import deps
from medic.workflows.guarding import execution_guard
from medic.workflows.step import current_plan, note, step

__all__ = [
    "document",
    "execute",
    "execute_write",
    "execution_recorded",
    "rollout_poll",
    "rollout_record",
    "rollout_wait",
    "finish",
    "long_term",
    "undo",
    "verify",
    "verify_begin",
    "verify_poll",
    "verify_record",
    "verify_wait",
]

log = get_logger(__name__)


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


def execute(incident_id: str, plan_hash: str, index: int) -> Execution:
    """The write as one step, then its rollout watched one durable poll at a time (a
    recorded wait between polls, the timeout measured on the injected clock from the
    write), then the outcome recorded. A crash resumes at the next poll; the write,
    keyed, is never done twice."""
    execution = execute_write(incident_id, plan_hash, index)
    if waits_for_rollout(execution):
        while True:
            check = rollout_poll(incident_id, execution)
            if check.done or check.failure is not None:
                break
            rollout_wait(incident_id, deps().rollout_poll_s)
        execution = rollout_record(incident_id, execution, check)
    return execution_recorded(incident_id, plan_hash, execution)


@step
def execute_write(incident_id: str, plan_hash: str, index: int) -> Execution:
    d = deps()
    action = current_plan(incident_id, plan_hash).immediate[index]
    d.store.set_state(incident_id, IncidentState.EXECUTING, d.clock.now())
    key = _key(incident_id, plan_hash, "now", index)
    guard = execution_guard(incident_id)
    return execute_action(
        action, d.writer, d.cluster, d.code, d.clock, key, guard=guard, wait_rollout=False
    )


@step
def rollout_poll(incident_id: str, execution: Execution) -> RolloutCheck:
    d = deps()
    elapsed = (d.clock.now() - execution.finished_at).total_seconds()
    return rollout_check(execution.action, d.cluster, elapsed, d.rollout_timeout_s)


@step
def rollout_wait(incident_id: str, seconds: float) -> None:
    """Let `seconds` of the injected clock pass; once done, it is not waited again."""
    deps().clock.sleep(seconds)


@step
def rollout_record(incident_id: str, execution: Execution, check: RolloutCheck) -> Execution:
    return rollout_finished(execution, check, deps().clock.now())


@step
def execution_recorded(incident_id: str, plan_hash: str, execution: Execution) -> Execution:
    _recorded(incident_id, plan_hash, execution, "execution")
    return execution


def verify(incident_id: str, plan_hash: str) -> Verification:
    """Verification as durable steps: its start recorded once, then one poll per step
    with a recorded wait between polls, then the outcome. A crash resumes at the next
    poll, measuring the window from the recorded start (the injected clock's time)."""
    progress = verify_begin(incident_id, plan_hash)
    while progress.result is None:
        if progress.polls:
            verify_wait(incident_id, progress.wait_s)
        progress = verify_poll(incident_id, plan_hash, progress)
    return verify_record(incident_id, plan_hash, progress.result)


def _criteria(plan: Plan) -> tuple[list[Criterion], str]:
    criteria = [c for a in plan.immediate for c in a.verification]
    return criteria, plan.immediate[0].namespace if plan.immediate else deps().namespace


@step
def verify_begin(incident_id: str, plan_hash: str) -> Progress:
    d = deps()
    criteria, _ = _criteria(current_plan(incident_id, plan_hash))
    d.store.set_state(incident_id, IncidentState.VERIFYING, d.clock.now())
    return begin_verification(criteria, d.clock, d.verification_window_s)


@step
def verify_poll(incident_id: str, plan_hash: str, progress: Progress) -> Progress:
    d = deps()
    criteria, namespace = _criteria(current_plan(incident_id, plan_hash))
    return poll_verification(
        progress, criteria, d.metrics, namespace, d.clock, d.verification_poll_s
    )


@step
def verify_wait(incident_id: str, seconds: float) -> None:
    """Let `seconds` of the injected clock pass; once done, it is not waited again."""
    deps().clock.sleep(seconds)


@step
def verify_record(incident_id: str, plan_hash: str, verification: Verification) -> Verification:
    d = deps()
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
        message = no_undo_reason(action)
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
def finish(incident_id: str, state: IncidentState, reason: str, key: str = "closed") -> None:
    d = deps()
    d.store.set_state(incident_id, state, d.clock.now())
    note(incident_id, "incident", f"{state.value}: {reason}", key)


@step
def document(incident_id: str) -> str:
    """Write (or rewrite, after a change) the post-mortem and publish it; its path."""
    d = deps()
    scribe = Scribe(
        store=d.store,
        directory=d.postmortem_dir,
        metrics=d.metrics,
        namespace=d.namespace,
        publishers=d.docstores,
        slos=d.slos,
        time_scale=d.time_scale,
        base_url=d.base_url,
    )
    published = scribe.write(incident_id)
    path = published.postmortem.path
    # Once the record names the post-mortem, the incident is whole. A rewrite (the
    # incident changed after) replaces the same file: the entry (once per key) stands.
    note(incident_id, "postmortem", f"post-mortem written to {path}", "postmortem")
    for name, url in sorted(published.postmortem.links.items()):
        note(incident_id, "postmortem", f"post-mortem published to {name}: {url}", f"pub:{name}")
    for failure in published.failures:
        log.warning("postmortem.publish_failed", incident_id=incident_id, error=failure)
        name = failure.split(":", 1)[0]
        note(incident_id, "postmortem", f"publishing failed: {failure}", f"pub-failed:{name}")
    return str(path)
